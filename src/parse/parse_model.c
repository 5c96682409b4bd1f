/*
 * parse_model.c — the model schema of spec §2 (plus the `bias`, `dropout`, low-precision
 * `fp8_recipe` / `fp8_param_gather`, `grad_reduce`, `cross_entropy` and `deterministic`
 * extensions):
 * every key read with its type and bounds, the defaults filled in, then the rules that
 * tie values together (hidden divisible by heads, heads by kv_heads) and the bounds on
 * derived sizes, so that the estimator's uint64_t products cannot overflow.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "parse_objects.h"
#include "plan_record.h"

enum {
  K_NAME,
  K_LAYERS,
  K_HIDDEN,
  K_HEADS,
  K_KV_HEADS,
  K_FFN_HIDDEN,
  K_ACTIVATION,
  K_VOCAB,
  K_SEQ_LEN,
  K_TIED,
  K_POSITION,
  K_NORM,
  K_FLASH,
  K_GLOBAL_BATCH,
  K_PRECISION,
  K_OPTIMIZER,
  K_BIAS,
  K_DROPOUT,
  K_FP8_RECIPE,
  K_FP8_PARAM_GATHER,
  K_HEAD_DIM,
  K_MOE,
  K_ATTENTION,
  K_MTP_LAYERS,
  K_ROPE_THETA,
  K_NORM_EPS,
  K_GRAD_REDUCE,
  K_CROSS_ENTROPY,
  K_DETERMINISTIC,
  K_COUNT
};

static const p3cfg__key model_keys[K_COUNT] = {
    [K_NAME] = {"name", true},
    [K_LAYERS] = {"layers", true},
    [K_HIDDEN] = {"hidden", true},
    [K_HEADS] = {"heads", true},
    [K_KV_HEADS] = {"kv_heads", false},
    [K_FFN_HIDDEN] = {"ffn_hidden", false},
    [K_ACTIVATION] = {"activation", false},
    [K_VOCAB] = {"vocab", true},
    [K_SEQ_LEN] = {"seq_len", true},
    [K_TIED] = {"tied_embeddings", false},
    [K_POSITION] = {"position_embedding", false},
    [K_NORM] = {"norm", false},
    [K_FLASH] = {"flash_attention", false},
    [K_GLOBAL_BATCH] = {"global_batch", true},
    [K_PRECISION] = {"precision", false},
    [K_OPTIMIZER] = {"optimizer", false},
    [K_BIAS] = {"bias", false},
    [K_DROPOUT] = {"dropout", false},
    [K_FP8_RECIPE] = {"fp8_recipe", false},
    [K_FP8_PARAM_GATHER] = {"fp8_param_gather", false},
    [K_HEAD_DIM] = {"head_dim", false},
    [K_MOE] = {"moe", false},
    [K_ATTENTION] = {"attention", false},
    [K_MTP_LAYERS] = {"mtp_layers", false},
    [K_ROPE_THETA] = {"rope_theta", false},
    [K_NORM_EPS] = {"norm_eps", false},
    [K_GRAD_REDUCE] = {"grad_reduce", false},
    [K_CROSS_ENTROPY] = {"cross_entropy", false},
    [K_DETERMINISTIC] = {"deterministic", false},
};

/* Names in the order of the p3cfg_* enums of types.h. */
static const char *const activations[] = {"gelu", "swiglu"};
static const char *const positions[] = {"learned", "rope", "alibi"};
static const char *const norms[] = {"layernorm", "rmsnorm"};
static const char *const precisions[] = {"bf16", "fp16", "fp32", "fp8", "mxfp8", "nvfp4"};
static const char *const optimizers[] = {"adam", "sgd"};
static const char *const grad_reduces[] = {"fp32", "bf16"};
static const char *const cross_entropies[] = {"unfused", "fused", "native"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Parameters, in double so that nothing wraps: model_params.c's count with the
 * vocabulary padded to 128 (tp = 1), biases and norms of the attention taken at their
 * largest, MoE layers with every routed and shared expert and the router. */
static double params_estimate(const p3cfg_model *m)
{
  const double h = (double)m->hidden, f = (double)m->ffn_hidden;
  const double hd = (double)(m->head_dim ? m->head_dim : m->hidden / m->heads);
  const double q = (double)m->heads * hd, kv = (double)m->kv_heads * hd;
  double attn = h * (q + 2 * kv) + q * h + 4 * h + q + 2 * kv;
  if (m->attention == P3CFG_ATTN_MLA) {
    const p3cfg_mla *a = &m->mla;
    const double heads = (double)m->heads, qk = (double)(a->qk_nope_head_dim + a->qk_rope_head_dim);
    const double ql = (double)a->q_lora_rank, kvl = (double)a->kv_lora_rank;
    attn = (ql ? h * ql + ql + ql * heads * qk : h * heads * qk) +
           h * (kvl + (double)a->qk_rope_head_dim) + kvl +
           kvl * heads * (double)(a->qk_nope_head_dim + a->v_head_dim) +
           heads * (double)a->v_head_dim * h + 4 * h;
  }
  const double up = m->activation == P3CFG_ACT_SWIGLU ? 2.0 : 1.0;
  const double dense = attn + (up + 1) * h * f + up * f + h;
  double layers = (double)m->layers * dense;
  if (m->moe.experts) {
    assert(m->moe.dense_layers < m->layers); /* p3cfg__moe_from_node's rule, checked first */
    const double ef = (double)m->moe.expert_ffn_hidden, sf = (double)m->moe.shared_expert_ffn_hidden;
    const double moe = attn + (double)m->moe.experts * ((up + 1) * h * ef + up * ef + h) +
                       (double)m->moe.shared_experts * ((up + 1) * h * sf + up * sf + h) +
                       (double)m->moe.experts * h;
    layers = (double)m->moe.dense_layers * dense +
             (double)(m->layers - m->moe.dense_layers) * moe;
  }
  layers *= 1.0 + (double)m->mtp_layers / (double)m->layers;
  const double vocab = ceil((double)m->vocab / 128.0) * 128.0;
  const double emb = vocab * h * (m->tied_embeddings ? 1 : 2);
  const double pos = m->position_embedding == P3CFG_POS_LEARNED ? (double)m->seq_len * h : 0;
  return layers + emb + pos + 2 * h;
}

/* Read one integer key (if present) with bounds [1, hi]; *ok tells whether it is usable. */
static void read_count(p3cfg__pctx *c, const yaml_node_t *const *v, int k, uint64_t hi,
                       uint64_t *out, bool *ok)
{
  *ok = v[k] && p3cfg__read_uint(c, v[k], model_keys[k].name, 1, hi, out) == 0;
}

static void read_choice(p3cfg__pctx *c, const yaml_node_t *const *v, int k,
                        const char *const *names, size_t n, int *out)
{
  if (v[k])
    p3cfg__read_enum(c, v[k], model_keys[k].name, names, n, out);
}

static void read_flag(p3cfg__pctx *c, const yaml_node_t *const *v, int k, bool *out)
{
  if (v[k])
    p3cfg__read_bool(c, v[k], model_keys[k].name, out);
}

/* The derived-size bounds, reported at the key that makes the product large. */
static void check_derived(p3cfg__pctx *c, const yaml_node_t *root, const yaml_node_t *const *v,
                          const p3cfg_model *m)
{
  const double params = params_estimate(m);
  if (params > ldexp(1, P3CFG__MAX_PARAMS_LOG2))
    p3cfg__problem(c, root, "the model has %.3g parameters, more than the limit of 2^%d", params,
                   P3CFG__MAX_PARAMS_LOG2);
  const double tokens = (double)m->seq_len * (double)m->global_batch;
  if (tokens > ldexp(1, P3CFG__MAX_TOKENS_LOG2))
    p3cfg__problem(c, v[K_GLOBAL_BATCH],
                   "seq_len * global_batch (%.3g tokens per step) is more than the limit of "
                   "2^%d",
                   tokens, P3CFG__MAX_TOKENS_LOG2);
  const double seq_hidden = (double)m->seq_len * (double)m->hidden;
  if (seq_hidden > ldexp(1, P3CFG__MAX_SEQ_HIDDEN_LOG2))
    p3cfg__problem(c, v[K_SEQ_LEN], "seq_len * hidden (%.3g) is more than the limit of 2^%d",
                   seq_hidden, P3CFG__MAX_SEQ_HIDDEN_LOG2);
  const double scores = (double)m->heads * (double)m->seq_len * (double)m->seq_len;
  if (!m->flash_attention && scores > ldexp(1, P3CFG__MAX_SCORES_LOG2))
    p3cfg__problem(c, v[K_SEQ_LEN],
                   "heads * seq_len^2 (%.3g attention scores per layer) is more than the limit "
                   "of 2^%d without flash_attention",
                   scores, P3CFG__MAX_SCORES_LOG2);
}

int p3cfg__model_from_doc(p3cfg_model **out, p3cfg__pctx *c, const yaml_node_t *root,
                          const char *source)
{
  *out = NULL;
  const yaml_node_t *v[K_COUNT];
  if (p3cfg__map_fields(c, root, NULL, model_keys, K_COUNT, v) != 0)
    return P3CFG_OK;

  p3cfg_model *m = p3cfg__calloc(1, sizeof *m);
  if (!m)
    return P3CFG_ENOMEM;
  *m = (p3cfg_model){.activation = P3CFG_ACT_GELU,
                     .tied_embeddings = false,
                     .position_embedding = P3CFG_POS_ROPE,
                     .norm = P3CFG_NORM_LAYERNORM,
                     .flash_attention = true,
                     .precision = P3CFG_PREC_BF16,
                     .optimizer = P3CFG_OPT_ADAM,
                     .bias = true,
                     .dropout = true};
  m->source = p3cfg__strdup(source);
  if (!m->source)
    goto nomem;
  const char *name;
  size_t name_len;
  if (v[K_NAME] &&
      p3cfg__read_string(c, v[K_NAME], "name", P3CFG__MAX_NAME_BYTES, &name, &name_len) == 0) {
    m->name = p3cfg__strndup(name, name_len);
    if (!m->name)
      goto nomem;
  }

  bool layers_ok, hidden_ok, heads_ok, kv_ok, ffn_ok, vocab_ok, seq_ok, gb_ok;
  read_count(c, v, K_LAYERS, P3CFG__MAX_LAYERS, &m->layers, &layers_ok);
  read_count(c, v, K_HIDDEN, P3CFG__MAX_HIDDEN, &m->hidden, &hidden_ok);
  read_count(c, v, K_HEADS, P3CFG__MAX_HEADS, &m->heads, &heads_ok);
  read_count(c, v, K_KV_HEADS, P3CFG__MAX_HEADS, &m->kv_heads, &kv_ok);
  read_count(c, v, K_FFN_HIDDEN, P3CFG__MAX_FFN_HIDDEN, &m->ffn_hidden, &ffn_ok);
  read_count(c, v, K_VOCAB, P3CFG__MAX_VOCAB, &m->vocab, &vocab_ok);
  read_count(c, v, K_SEQ_LEN, P3CFG__MAX_SEQ_LEN, &m->seq_len, &seq_ok);
  read_count(c, v, K_GLOBAL_BATCH, P3CFG__MAX_GLOBAL_BATCH, &m->global_batch, &gb_ok);
  int act = m->activation, pos = m->position_embedding, norm = m->norm;
  int prec = m->precision, opt = m->optimizer, recipe = m->fp8_recipe, grad = m->grad_reduce;
  read_choice(c, v, K_ACTIVATION, activations, N_OF(activations), &act);
  read_choice(c, v, K_POSITION, positions, N_OF(positions), &pos);
  read_choice(c, v, K_NORM, norms, N_OF(norms), &norm);
  read_choice(c, v, K_PRECISION, precisions, N_OF(precisions), &prec);
  read_choice(c, v, K_OPTIMIZER, optimizers, N_OF(optimizers), &opt);
  read_choice(c, v, K_FP8_RECIPE, p3cfg__fp8_recipe_names, N_OF(p3cfg__fp8_recipe_names),
              &recipe);
  read_choice(c, v, K_GRAD_REDUCE, grad_reduces, N_OF(grad_reduces), &grad);
  int ce = m->cross_entropy;
  read_choice(c, v, K_CROSS_ENTROPY, cross_entropies, N_OF(cross_entropies), &ce);
  m->cross_entropy = (p3cfg_cross_entropy)ce;
  m->activation = (p3cfg_activation)act;
  m->position_embedding = (p3cfg_posemb)pos;
  m->norm = (p3cfg_norm)norm;
  m->precision = (p3cfg_precision)prec;
  m->optimizer = (p3cfg_optimizer)opt;
  m->fp8_recipe = (p3cfg_fp8_recipe)recipe;
  m->grad_reduce = (p3cfg_grad_reduce)grad;
  read_flag(c, v, K_TIED, &m->tied_embeddings);
  read_flag(c, v, K_FLASH, &m->flash_attention);
  read_flag(c, v, K_BIAS, &m->bias);
  read_flag(c, v, K_DROPOUT, &m->dropout);
  read_flag(c, v, K_FP8_PARAM_GATHER, &m->fp8_param_gather);
  read_flag(c, v, K_DETERMINISTIC, &m->deterministic);
  /* The recipe is per-tensor fp8's (mxfp8 and nvfp4 fix their block scaling); a
   * low-precision parameter copy needs a low-precision precision. */
  if (v[K_FP8_RECIPE] && m->precision != P3CFG_PREC_FP8)
    p3cfg__problem(c, v[K_FP8_RECIPE], "fp8_recipe is for precision fp8, but precision is %s",
                   precisions[m->precision]);
  if (v[K_FP8_PARAM_GATHER] && m->fp8_param_gather && m->precision < P3CFG_PREC_FP8)
    p3cfg__problem(c, v[K_FP8_PARAM_GATHER],
                   "fp8_param_gather needs precision fp8, mxfp8 or nvfp4, but precision is %s",
                   precisions[m->precision]);
  /* Megatron-LM's gradient dtype (grad_reduce.h): --grad-reduce-in-bf16 acts under --bf16
   * only (arguments.py); fp16 keeps fp16 gradients and fp32 fp32 ones, which p3cfg does
   * not let the key change. */
  if (v[K_GRAD_REDUCE] && m->grad_reduce == P3CFG_GRAD_REDUCE_BF16 &&
      (m->precision == P3CFG_PREC_FP16 || m->precision == P3CFG_PREC_FP32))
    p3cfg__problem(c, v[K_GRAD_REDUCE],
                   "grad_reduce bf16 needs precision bf16, fp8, mxfp8 or nvfp4, but precision "
                   "is %s",
                   precisions[m->precision]);
  else if (v[K_GRAD_REDUCE] && m->precision == P3CFG_PREC_FP16)
    p3cfg__problem(c, v[K_GRAD_REDUCE],
                   "grad_reduce %s is for precision bf16, fp8, mxfp8 or nvfp4: precision fp16 "
                   "keeps and reduces fp16 gradients (remove the key)",
                   grad_reduces[m->grad_reduce]);
  /* Megatron-Core's native fused cross entropy casts the logits' gradient to bf16
   * (fusions/fused_cross_entropy.py, calculate_gradients): bf16-family precisions only. */
  if (v[K_CROSS_ENTROPY] && m->cross_entropy == P3CFG_CE_NATIVE &&
      (m->precision == P3CFG_PREC_FP16 || m->precision == P3CFG_PREC_FP32))
    p3cfg__problem(c, v[K_CROSS_ENTROPY],
                   "cross_entropy native needs precision bf16, fp8, mxfp8 or nvfp4 (Megatron-Core "
                   "casts its gradient to bf16), but precision is %s",
                   precisions[m->precision]);
  /* Megatron-LM's --deterministic-mode refuses the fused loss kernels
   * (megatron/training/determinism.py: cross_entropy_loss_fusion must be False). */
  if (m->deterministic && m->cross_entropy != P3CFG_CE_UNFUSED)
    p3cfg__problem(c, v[K_CROSS_ENTROPY] ? v[K_CROSS_ENTROPY] : v[K_DETERMINISTIC],
                   "deterministic needs cross_entropy unfused (Megatron-LM's "
                   "--deterministic-mode requires cross_entropy_loss_fusion False), but "
                   "cross_entropy is %s",
                   cross_entropies[m->cross_entropy]);
  bool head_dim_ok = false, mtp_ok = true;
  read_count(c, v, K_HEAD_DIM, P3CFG__MAX_HIDDEN, &m->head_dim, &head_dim_ok);
  if (v[K_MTP_LAYERS])
    mtp_ok = p3cfg__read_uint(c, v[K_MTP_LAYERS], "mtp_layers", 0, P3CFG__MAX_MTP_LAYERS,
                              &m->mtp_layers) == 0;

  /* Launch-only facts (issue 15): the rotary base of a rope model, the norm's epsilon. */
  static const p3cfg__range theta_range = {0.0, true, 1e12, NULL, false};
  static const p3cfg__range eps_range = {0.0, true, 1.0, "a number in (0, 1)", false};
  if (v[K_ROPE_THETA] &&
      p3cfg__read_number(c, v[K_ROPE_THETA], "rope_theta", &theta_range, &m->rope_theta) == 0 &&
      m->position_embedding != P3CFG_POS_ROPE)
    p3cfg__problem(c, v[K_ROPE_THETA], "rope_theta is for position_embedding rope, but it is %s",
                   positions[m->position_embedding]);
  if (v[K_NORM_EPS])
    (void)p3cfg__read_number(c, v[K_NORM_EPS], "norm_eps", &eps_range, &m->norm_eps);

  /* Defaults that depend on other keys. */
  if (!v[K_KV_HEADS]) {
    m->kv_heads = m->heads;
    kv_ok = heads_ok;
  }
  if (!v[K_FFN_HIDDEN]) {
    m->ffn_hidden = 4 * m->hidden;
    ffn_ok = hidden_ok;
  }

  const p3cfg__model_ok ok = {layers_ok, heads_ok, kv_ok};
  const bool moe_ok = p3cfg__moe_from_node(c, v[K_MOE], m, &ok);
  p3cfg__attention_from_node(c, v[K_ATTENTION], m, v[K_KV_HEADS], v[K_HEAD_DIM], &ok);
  /* hidden/heads is the head width unless head_dim (or MLA) says otherwise. */
  const bool own_width = v[K_HEAD_DIM] || m->attention == P3CFG_ATTN_MLA;
  if (!own_width && hidden_ok && heads_ok && m->hidden % m->heads != 0)
    p3cfg__problem(c, v[K_HEADS], "hidden %llu is not divisible by heads %llu",
                   (unsigned long long)m->hidden, (unsigned long long)m->heads);
  if (v[K_KV_HEADS] && kv_ok && heads_ok && m->heads % m->kv_heads != 0)
    p3cfg__problem(c, v[K_KV_HEADS], "heads %llu is not divisible by kv_heads %llu",
                   (unsigned long long)m->heads, (unsigned long long)m->kv_heads);
  if (!v[K_HEAD_DIM] && hidden_ok && heads_ok)
    m->head_dim = m->hidden / m->heads;
  if (layers_ok && hidden_ok && heads_ok && kv_ok && ffn_ok && vocab_ok && seq_ok && gb_ok &&
      (head_dim_ok || !v[K_HEAD_DIM]) && mtp_ok && moe_ok)
    check_derived(c, root, v, m);
  *out = m;
  return P3CFG_OK;

nomem:
  p3cfg_model_free(m);
  return P3CFG_ENOMEM;
}

P3CFG_API void p3cfg_model_free(p3cfg_model *model)
{
  if (!model)
    return;
  p3cfg__free(model->name);
  p3cfg__free(model->source);
  p3cfg__free(model);
}
