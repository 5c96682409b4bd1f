/*
 * export_torchtitan_models.c — which torchtitan model flavor builds a plan's model.
 *
 * torchtitan b5bcd76c trains the language-model families of torchtitan/models/: llama3,
 * qwen3, deepseek_v3 and gpt_oss (flux, kimi_k2_7, muse_glimmer and qwen3_5 are
 * diffusion, multimodal or hybrid-attention models p3cfg's model record cannot describe).
 * All four are decoders with rotary positions, RMSNorm and SwiGLU; a model is built from a
 * flavor (model_registry(flavor)), not from dims, so a plan exports only where one flavor has
 * exactly its dims. The rows below are those flavors' dims; the upstream check
 * (tests/export/check_torchtitan_upstream.py) rebuilds each chosen flavor with torchtitan's
 * own config code and compares it with the plan's model record.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "export_torchtitan.h"

/* family, flavor, base config_registry function (its own, or one of the family whose
 * model_spec the export rebuilds: those flavors have no config_registry function);
 * layers, hidden, heads, kv_heads, head_dim, ffn_hidden, vocab, tied, bias;
 * experts, top_k, expert_ffn, shared, shared_ffn, dense_layers; q_lora, kv_lora, qk_nope,
 * qk_rope, v_head. */
static const p3cfg__tt_flavor flavors[] = {
    {"llama3", "1B", "llama3_8b", 1, 16, 2048, 32, 8, 64, 8192, 128256, 1, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3", "3B", "llama3_8b", 1, 28, 3072, 24, 8, 128, 8192, 128256, 1, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3", "8B", "llama3_8b", 0, 32, 4096, 32, 8, 128, 14336, 128256, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3", "70B", "llama3_70b", 0, 80, 8192, 64, 8, 128, 28672, 128256, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3", "405B", "llama3_405b", 0, 126, 16384, 128, 8, 128, 53248, 128256, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "0.6B", "qwen3_0_6b", 0, 28, 1024, 16, 8, 128, 3072, 151936, 1, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "1.7B", "qwen3_1_7b", 0, 28, 2048, 16, 8, 128, 6144, 151936, 1, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "4B", "qwen3_1_7b", 1, 36, 2560, 32, 8, 128, 9728, 151936, 1, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "8B", "qwen3_14b", 1, 36, 4096, 32, 8, 128, 12288, 151936, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "14B", "qwen3_14b", 0, 40, 5120, 40, 8, 128, 17408, 151936, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "32B", "qwen3_32b", 0, 64, 5120, 64, 8, 128, 25600, 151936, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "30B-A3B", "qwen3_30b_a3b", 0, 48, 2048, 32, 4, 128, 0, 151936, 0, 0,
     128, 8, 768, 0, 0, 0, 0, 0, 0, 0, 0},
    {"qwen3", "235B-A22B", "qwen3_30b_a3b", 1, 94, 4096, 64, 4, 128, 0, 151936, 0, 0,
     128, 8, 1536, 0, 0, 0, 0, 0, 0, 0, 0},
    {"deepseek_v3", "16B", "deepseek_v3_16b", 0, 27, 2048, 16, 16, 0, 10944, 102400, 0, 0,
     64, 6, 1408, 1, 2816, 1, 0, 512, 128, 64, 128},
    {"deepseek_v3", "236B", "deepseek_v3_16b", 1, 60, 5120, 128, 128, 0, 12288, 102400, 0, 0,
     160, 6, 1536, 1, 3072, 1, 1536, 512, 128, 64, 128},
    {"deepseek_v3", "671B", "deepseek_v3_671b", 0, 61, 7168, 128, 128, 0, 18432, 129280, 0, 0,
     256, 8, 2048, 1, 2048, 3, 1536, 512, 128, 64, 128},
    {"gpt_oss", "20b", "gpt_oss_20b", 0, 24, 2880, 64, 8, 64, 0, 201088, 0, 1,
     32, 4, 2880, 0, 0, 0, 0, 0, 0, 0, 0},
    {"gpt_oss", "120b", "gpt_oss_120b", 0, 36, 2880, 64, 8, 64, 0, 201088, 0, 1,
     128, 4, 2880, 0, 0, 0, 0, 0, 0, 0, 0},
};
#define N_FLAVORS (sizeof flavors / sizeof flavors[0])

#define FAMILIES "llama3, qwen3, deepseek_v3 and gpt_oss"

/* Appends " name a vs b" for each dim the flavor differs in; returns how many. */
static int differences(char *out, size_t cap, const p3cfg__tt_flavor *f,
                       const p3cfg_plan_model *m)
{
  const int mla = strcmp(m->attention, "mla") == 0;
  const int dense_ffn = !m->moe_experts || m->moe_dense_layers > 0;
  struct {
    const char *name;
    uint64_t plan, tt;
    int applies;
  } d[] = {
      {"layers", m->layers, f->layers, 1},
      {"hidden", m->hidden, f->hidden, 1},
      {"heads", m->heads, f->heads, 1},
      {"kv_heads", m->kv_heads, f->kv_heads, !mla},
      {"head_dim", m->head_dim, f->head_dim, !mla},
      {"ffn_hidden", m->ffn_hidden, f->ffn_hidden, dense_ffn},
      {"vocab", m->vocab, f->vocab, 1},
      {"tied_embeddings", (uint64_t)m->tied_embeddings, (uint64_t)f->tied, 1},
      {"bias", (uint64_t)m->bias, (uint64_t)f->bias, 1},
      {"moe.experts", m->moe_experts, f->experts, 1},
      {"moe.top_k", m->moe_top_k, f->top_k, m->moe_experts > 0},
      {"moe.expert_ffn_hidden", m->moe_expert_ffn_hidden, f->expert_ffn, m->moe_experts > 0},
      {"moe.shared_experts", m->moe_shared_experts, f->shared, m->moe_experts > 0},
      {"moe.shared_expert_ffn_hidden", m->moe_shared_expert_ffn_hidden, f->shared_ffn,
       m->moe_shared_experts > 0},
      {"moe.dense_layers", m->moe_dense_layers, f->dense_layers, m->moe_experts > 0},
      {"attention mla", (uint64_t)mla, f->kv_lora > 0, 1},
      {"attention.q_lora_rank", m->mla_q_lora_rank, f->q_lora, mla},
      {"attention.kv_lora_rank", m->mla_kv_lora_rank, f->kv_lora, mla},
      {"attention.qk_nope_head_dim", m->mla_qk_nope_head_dim, f->qk_nope, mla},
      {"attention.qk_rope_head_dim", m->mla_qk_rope_head_dim, f->qk_rope, mla},
      {"attention.v_head_dim", m->mla_v_head_dim, f->v_head, mla},
  };
  int n = 0;
  size_t used = 0;
  if (cap)
    out[0] = '\0';
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    if (!d[i].applies || d[i].plan == d[i].tt)
      continue;
    if (used < cap) {
      int w = snprintf(out + used, cap - used, "%s%s %llu vs %llu", n ? ", " : "", d[i].name,
                       (unsigned long long)d[i].plan, (unsigned long long)d[i].tt);
      used += w > 0 ? (size_t)w : 0;
    }
    n++;
  }
  return n;
}

const p3cfg__tt_flavor *p3cfg__tt_flavor_of(const p3cfg_plan_model *m)
{
  const int swiglu = strcmp(m->activation, "swiglu") == 0;
  const int rms = strcmp(m->norm, "rmsnorm") == 0;
  const int rope = strcmp(m->position_embedding, "rope") == 0;
  const p3cfg__tt_flavor *best = NULL, *closest = NULL;
  int best_n = 1 << 30;
  double closest_r = 0;
  for (size_t i = 0; i < N_FLAVORS; i++) {
    char buf[8];
    const int n = differences(buf, sizeof buf, &flavors[i], m);
    if (n == 0 && swiglu && rms && rope)
      return &flavors[i];
    if (n < best_n)
      best = &flavors[i], best_n = n;
    /* by size: layers x hidden^2, the ratio either way */
    const double a = (double)m->layers * (double)m->hidden * (double)m->hidden;
    const double b = (double)flavors[i].layers * (double)flavors[i].hidden *
                     (double)flavors[i].hidden;
    const double r = a > b ? a / b : b / a;
    if (!closest || r < closest_r)
      closest = &flavors[i], closest_r = r;
  }
  char why[512];
  differences(why, sizeof why, best, m);
  if (!swiglu || !rms || !rope) {
    p3cfg__error_set(P3CFG_EUNSUPPORTED,
                     "torchtitan: torchtitan %s has the model families " FAMILIES
                     " (rotary positions, RMSNorm, SwiGLU, no biases but gpt_oss's); %s has "
                     "%s, %s and %s positions, which none of them builds (nearest by size: "
                     "%s %s); export --to %s",
                     P3CFG_TORCHTITAN_COMMIT, m->name, m->activation, m->norm,
                     m->position_embedding, closest->family, closest->flavor,
                     strcmp(m->position_embedding, "alibi") == 0
                         ? "deepspeed (Megatron-DeepSpeed has alibi)"
                         : "megatron");
    return NULL;
  }
  p3cfg__error_set(P3CFG_EUNSUPPORTED,
                   "torchtitan: torchtitan %s has no flavor with the dims of %s (its "
                   "families " FAMILIES " build a model from a named flavor); the nearest is "
                   "%s %s (plan vs flavor: %s); add a flavor to "
                   "torchtitan/models/%s/__init__.py, or export --to megatron",
                   P3CFG_TORCHTITAN_COMMIT, m->name, best->family, best->flavor, why,
                   best->family);
  return NULL;
}

void p3cfg__tt_flavor_dims(p3cfg__text *t, const p3cfg__tt_flavor *f)
{
  p3cfg__text_printf(t, "layers %llu, dim %llu, heads %llu", (unsigned long long)f->layers,
                     (unsigned long long)f->hidden, (unsigned long long)f->heads);
  if (f->kv_lora)
    p3cfg__text_printf(t, " (MLA: q_lora %llu, kv_lora %llu, qk %llu+%llu, v %llu)",
                       (unsigned long long)f->q_lora, (unsigned long long)f->kv_lora,
                       (unsigned long long)f->qk_nope, (unsigned long long)f->qk_rope,
                       (unsigned long long)f->v_head);
  else
    p3cfg__text_printf(t, " (kv %llu, head %llu)", (unsigned long long)f->kv_heads,
                       (unsigned long long)f->head_dim);
  if (f->ffn_hidden)
    p3cfg__text_printf(t, ", ffn %llu", (unsigned long long)f->ffn_hidden);
  if (f->experts) {
    p3cfg__text_printf(t, ", %llu experts top-%llu of width %llu",
                       (unsigned long long)f->experts, (unsigned long long)f->top_k,
                       (unsigned long long)f->expert_ffn);
    if (f->shared)
      p3cfg__text_printf(t, " + %llu shared of %llu", (unsigned long long)f->shared,
                         (unsigned long long)f->shared_ffn);
    if (f->dense_layers)
      p3cfg__text_printf(t, ", %llu dense layers first", (unsigned long long)f->dense_layers);
  }
  p3cfg__text_printf(t, ", vocab %llu%s%s", (unsigned long long)f->vocab,
                     f->tied ? ", tied embeddings" : "", f->bias ? ", bias" : "");
}
