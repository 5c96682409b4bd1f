/*
 * gpu_profile.c — the GPU profile object of p3cfg/gpu.h: the device description, the
 * reference gpu its efficiencies are relative to, and the table of kernels to time.
 *
 * The shapes are those of src/perf/compute_cost.c, one layer on one GPU of a
 * tensor-parallel group of Megatron-LM: column-parallel QKV [T x h]·[h x (h + 2 g d)/t]
 * and MLP up [T x h]·[h x f/t] (2f/t for SwiGLU), row-parallel projection
 * [T x h/t]·[h/t x h] and MLP down [T x f/t]·[f/t x h]. Each runs forward and as its two
 * backward GEMMs (data and weight gradient: the same FLOPs over the same three matrices,
 * in other layouts), as PyTorch's nn.Linear lays them out. The standard set covers the
 * two models the calibration data is about (GPT-3 175B, Llama 3 70B) over the
 * tensor-parallel sizes and micro-batch token counts that training plans use.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "gpu_presets.h"
#include "gpufit.h"

/* ---- the files' formats ---------------------------------------------------------- */

void p3cfg__gpufit_number(p3cfg__text *t, double v)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%.6g", v);
  p3cfg__text_printf(t, "%s", strcmp(buf, "-0") == 0 ? "0" : buf);
}

void p3cfg__gpufit_quoted(p3cfg__text *t, const char *s)
{
  p3cfg__text_printf(t, "\"");
  for (; *s; s++) {
    const unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      p3cfg__text_printf(t, "\\%c", c);
    else if (c < 0x20)
      p3cfg__text_printf(t, "\\x%02x", c);
    else
      p3cfg__text_printf(t, "%c", c);
  }
  p3cfg__text_printf(t, "\"");
}

/* ---- the profile ----------------------------------------------------------------- */

P3CFG_API int p3cfg_gpu_profile_new(p3cfg_gpu_profile **out)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_new: NULL argument");
  *out = p3cfg__calloc(1, sizeof **out);
  return *out ? P3CFG_OK : p3cfg__error_nomem();
}

P3CFG_API void p3cfg_gpu_profile_free(p3cfg_gpu_profile *p)
{
  if (!p)
    return;
  p3cfg__free(p->samples);
  p3cfg__free(p);
}

P3CFG_API const p3cfg_gpu_device *p3cfg_gpu_profile_device(const p3cfg_gpu_profile *p)
{
  return p ? &p->device : NULL;
}

P3CFG_API size_t p3cfg_gpu_profile_count(const p3cfg_gpu_profile *p)
{
  return p ? p->count : 0;
}

P3CFG_API const p3cfg_gpu_sample *p3cfg_gpu_profile_sample(const p3cfg_gpu_profile *p, size_t i)
{
  return p && i < p->count ? &p->samples[i] : NULL;
}

p3cfg_gpu_sample *p3cfg__gpu_profile_push(p3cfg_gpu_profile *p)
{
  if (p->count == p->cap) {
    const size_t cap = p->cap ? 2 * p->cap : 64;
    p3cfg_gpu_sample *s = p3cfg__realloc(p->samples, cap * sizeof *s);
    if (!s) {
      p3cfg__error_nomem();
      return NULL;
    }
    p->samples = s;
    p->cap = cap;
  }
  p3cfg_gpu_sample *s = &p->samples[p->count++];
  memset(s, 0, sizeof *s);
  return s;
}

const char *p3cfg__gpu_pass_name(p3cfg_gpu_pass pass)
{
  switch (pass) {
  case P3CFG_GPU_FWD:
    return "fwd";
  case P3CFG_GPU_DGRAD:
    return "dgrad";
  case P3CFG_GPU_WGRAD:
    return "wgrad";
  }
  return "?";
}

P3CFG_API int p3cfg_gpu_profile_set_gpu(p3cfg_gpu_profile *p, const char *name, double peak_flops,
                                        double hbm_Bps)
{
  p3cfg__error_clear();
  if (!p || !name || !*name)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_set_gpu: NULL argument");
  if (strlen(name) >= sizeof p->device.gpu)
    return p3cfg__error_set(P3CFG_EINVALID, "gpu name '%.40s...' is too long", name);
  if (!(peak_flops > 0.0 && hbm_Bps > 0.0)) {
    const p3cfg_gpu *g = p3cfg__gpu_preset(name);
    if (!g)
      return p3cfg__error_set(P3CFG_ENOTFOUND, "unknown gpu '%s': name a preset or give its "
                                               "peak and HBM bandwidth",
                              name);
    peak_flops = g->peak_flops;
    hbm_Bps = g->hbm_Bps;
  }
  snprintf(p->device.gpu, sizeof p->device.gpu, "%s", name);
  p->device.peak_flops = peak_flops;
  p->device.hbm_Bps = hbm_Bps;
  return P3CFG_OK;
}

/* Shape of one layer, as src/perf/compute_cost.c sees it. */
typedef struct layer_shape {
  const char *name;
  uint64_t hidden, heads, kv_heads, ffn;
  int swiglu;
} layer_shape;

/* The model's name as a CSV field: the characters gpu_table.c reads back (letters,
 * digits, - _ . +), anything else becomes '_'. */
static void set_model_name(p3cfg_gpu_sample *s, const char *name)
{
  snprintf(s->model, sizeof s->model, "%s", name && *name ? name : "model");
  for (char *c = s->model; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '-' || *c == '_' || *c == '.' || *c == '+'))
      *c = '_';
}

static int add_gemm(p3cfg_gpu_profile *p, const char *model, const char *op, uint32_t tp,
                    uint64_t tokens, uint64_t width_in, uint64_t width_out)
{
  for (int pass = P3CFG_GPU_FWD; pass <= P3CFG_GPU_WGRAD; pass++) {
    p3cfg_gpu_sample *s = p3cfg__gpu_profile_push(p);
    if (!s)
      return P3CFG_ENOMEM;
    s->kind = P3CFG_GPU_GEMM;
    set_model_name(s, model);
    snprintf(s->op, sizeof s->op, "%s", op);
    s->pass = (p3cfg_gpu_pass)pass;
    s->tp = tp;
    s->tokens = tokens;
    /* Y[T x out] = X[T x in] W^T; dX[T x in] = dY[T x out] W; dW[out x in]... computed
     * as dW^T[in x out] = X^T dY, a sum over the T tokens. */
    if (pass == P3CFG_GPU_FWD)
      s->m = tokens, s->n = width_out, s->k = width_in;
    else if (pass == P3CFG_GPU_DGRAD)
      s->m = tokens, s->n = width_in, s->k = width_out;
    else
      s->m = width_in, s->n = width_out, s->k = tokens;
    s->bytes = 2 * (s->m * s->k + s->k * s->n + s->m * s->n);
  }
  return P3CFG_OK;
}

static int add_layer(p3cfg_gpu_profile *p, const layer_shape *l, const uint32_t *tps, size_t n_tp,
                     const uint64_t *tokens, size_t n_tokens, size_t *skipped)
{
  const uint64_t kvd = l->kv_heads * (l->hidden / l->heads);
  for (size_t i = 0; i < n_tp; i++) {
    const uint32_t t = tps[i];
    if (t == 0 || l->heads % t || l->kv_heads % t || l->ffn % t) {
      if (skipped)
        (*skipped)++;
      continue;
    }
    for (size_t j = 0; j < n_tokens; j++) {
      const uint64_t T = tokens[j];
      const uint64_t h = l->hidden, f = l->ffn;
      int rc;
      if ((rc = add_gemm(p, l->name, "qkv", t, T, h, (h + 2 * kvd) / t)) != 0 ||
          (rc = add_gemm(p, l->name, "proj", t, T, h / t, h)) != 0 ||
          (rc = add_gemm(p, l->name, "fc1", t, T, h, (l->swiglu ? 2 : 1) * f / t)) != 0 ||
          (rc = add_gemm(p, l->name, "fc2", t, T, f / t, h)) != 0)
        return rc;
    }
  }
  return P3CFG_OK;
}

/* Largest dimension accepted: keeps every product of three in uint64_t and doubles. */
#define MAX_DIM (1ull << 20)

P3CFG_API int p3cfg_gpu_profile_add_model(p3cfg_gpu_profile *p, const p3cfg_model *model,
                                          const uint32_t *tp, size_t n_tp,
                                          const uint64_t *tokens, size_t n_tokens,
                                          size_t *skipped)
{
  p3cfg__error_clear();
  if (skipped)
    *skipped = 0;
  if (!p || !model || (n_tp && !tp) || (n_tokens && !tokens))
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_add_model: NULL argument");
  for (size_t j = 0; j < n_tokens; j++)
    if (tokens[j] == 0 || tokens[j] > MAX_DIM)
      return p3cfg__error_set(P3CFG_EINVALID, "token count %llu is not in [1, %llu]",
                              (unsigned long long)tokens[j], (unsigned long long)MAX_DIM);
  if (model->heads == 0 || model->hidden % model->heads || model->hidden > MAX_DIM ||
      model->ffn_hidden > MAX_DIM)
    return p3cfg__error_set(P3CFG_EINVALID, "model '%s' has no usable layer shape",
                            model->name ? model->name : "?");
  const layer_shape l = {model->name,     model->hidden,     model->heads,
                         model->kv_heads, model->ffn_hidden, model->activation == P3CFG_ACT_SWIGLU};
  return add_layer(p, &l, tp, n_tp, tokens, n_tokens, skipped);
}

P3CFG_API int p3cfg_gpu_profile_add_square(p3cfg_gpu_profile *p, uint64_t n)
{
  p3cfg__error_clear();
  if (!p || n == 0 || n > MAX_DIM / 8)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_add_square: bad argument");
  p3cfg_gpu_sample *s = p3cfg__gpu_profile_push(p);
  if (!s)
    return P3CFG_ENOMEM;
  s->kind = P3CFG_GPU_GEMM;
  set_model_name(s, "square");
  snprintf(s->op, sizeof s->op, "gemm");
  s->pass = P3CFG_GPU_FWD;
  s->tp = 1;
  s->m = s->n = s->k = n;
  s->bytes = 6 * n * n;
  return P3CFG_OK;
}

P3CFG_API int p3cfg_gpu_profile_add_copy(p3cfg_gpu_profile *p, uint64_t bytes)
{
  p3cfg__error_clear();
  if (!p || bytes < 4096 || bytes > (1ull << 36))
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_add_copy: bad argument");
  p3cfg_gpu_sample *s = p3cfg__gpu_profile_push(p);
  if (!s)
    return P3CFG_ENOMEM;
  s->kind = P3CFG_GPU_COPY;
  set_model_name(s, "copy");
  snprintf(s->op, sizeof s->op, "d2d");
  s->pass = P3CFG_GPU_FWD;
  s->tp = 1;
  s->bytes = 2 * bytes; /* read and written */
  return P3CFG_OK;
}

P3CFG_API int p3cfg_gpu_profile_add_standard(p3cfg_gpu_profile *p)
{
  p3cfg__error_clear();
  if (!p)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_add_standard: NULL argument");
  /* models/gpt3-175b.yaml and models/llama3-70b.yaml */
  static const layer_shape models[] = {
      {"gpt3-175b", 12288, 96, 96, 49152, 0},
      {"llama3-70b", 8192, 64, 8, 28672, 1},
  };
  static const uint32_t tps[] = {1, 2, 4, 8};
  static const uint64_t tokens[] = {2048, 4096, 8192, 16384};
  static const uint64_t squares[] = {1024, 2048, 4096, 8192};
  int rc;
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
    if ((rc = add_layer(p, &models[i], tps, 4, tokens, 4, NULL)) != 0)
      return rc;
  for (size_t i = 0; i < sizeof squares / sizeof squares[0]; i++)
    if ((rc = p3cfg_gpu_profile_add_square(p, squares[i])) != 0)
      return rc;
  if ((rc = p3cfg_gpu_profile_add_copy(p, 256ull << 20)) != 0 ||
      (rc = p3cfg_gpu_profile_add_copy(p, 1ull << 30)) != 0)
    return rc;
  return P3CFG_OK;
}
