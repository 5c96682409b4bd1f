/*
 * export_torchtitan.h — the model flavors of torchtitan b5bcd76c the torchtitan export can
 * name (export_torchtitan_models.c) and the commit it targets.
 */
#ifndef P3CFG_EXPORT_TORCHTITAN_H
#define P3CFG_EXPORT_TORCHTITAN_H

#include <stdint.h>

#include "plan_record.h"
#include "text_buffer.h"

/** The torchtitan commit the export is written for (pytorch/torchtitan). */
#define P3CFG_TORCHTITAN_COMMIT "b5bcd76c"

/** One flavor of a torchtitan model family: the model_registry() key of
 *  torchtitan/models/<family>/__init__.py, the config_registry function the export starts
 *  from (the flavor's own, or one of the same family and vocabulary whose model_spec the
 *  export replaces), and the dims of p3cfg's model record it builds. */
typedef struct p3cfg__tt_flavor {
  const char *family, *flavor, *base_fn;
  int borrowed; /* base_fn builds another flavor: the export calls model_registry(flavor) */
  uint64_t layers, hidden, heads, kv_heads, head_dim, ffn_hidden, vocab;
  int tied, bias;
  uint64_t experts, top_k, expert_ffn, shared, shared_ffn, dense_layers; /* experts 0: dense */
  uint64_t q_lora, kv_lora, qk_nope, qk_rope, v_head;                     /* kv_lora 0: GQA */
} p3cfg__tt_flavor;

/** The flavor whose dims are the plan model's, or NULL with the error set: torchtitan's
 *  families, why this model is none of them or which dims the nearest flavor differs in. */
const p3cfg__tt_flavor *p3cfg__tt_flavor_of(const p3cfg_plan_model *m);

/** "layers 32, dim 4096, heads 32 (kv 8, head 128), ffn 14336, vocab 128256[, ...]". */
void p3cfg__tt_flavor_dims(p3cfg__text *t, const p3cfg__tt_flavor *f);

#endif
