/*
 * compute_cost.c — what one micro-batch costs one GPU of a tensor-parallel group, op by
 * op: the GEMMs of a transformer layer (QKV with GQA, attention, projection, GELU or
 * SwiGLU MLP), the attention core (batched GEMMs plus softmax/dropout, or one flash
 * kernel), the memory-bound ops (norms, bias-dropout-add, activations, rotary), the
 * embedding and the output layer with its vocab-parallel cross entropy, recomputation,
 * and the optimizer step. It sits below perf_plan.c and knows nothing of links.
 *
 * Every rate is a kernel's, measured on kernels and never fitted to training steps
 * (docs/time-model.md, "Compute"): a GEMM of F FLOPs runs at eff(F) = matmul_efficiency
 * * F / (F + matmul_half_flops) of peak (a fixed per-kernel cost: tail wave, pipeline
 * fill), but never faster than its operands stream through HBM; the fused attention
 * kernel at its own measured fraction of peak, forward and backward; memory-bound ops
 * at the achieved HBM bandwidth (hbm_Bps * memory_efficiency, a device copy's); and
 * each kernel of a step adds the launch gap between dependent kernels (kernel_gap_s).
 * So no plan is predicted faster than its GEMMs can run.
 * FLOP counts per op: Megatron SC'21 (Narayanan et al., arXiv 2104.04473, eq. 3), whose
 * per-layer forward 24 b s h^2 + 4 b s^2 h this reproduces for GPT; byte counts per op:
 * Korthikanti et al. (arXiv 2205.05198) Sec. 4's tensor inventory. docs/time-model.md
 * lists every term.
 */
#include "perf_internal.h"

#include <math.h>

#include "framework_physics.h"

#include "cross_entropy_cost.h"
#include "low_precision_time.h"
#include "model_flops.h"
#include "model_params.h"
#include "plan_dims.h"
#include "recompute_modules.h"

void p3cfg__rates_of(p3cfg__rates *out, const p3cfg_model *m, const p3cfg_gpu *gpu)
{
  const int fp32 = m->precision == P3CFG_PREC_FP32;
  /* fp32 training runs its GEMMs on TF32 tensor cores: half the dense 16-bit rate on
   * A100 and H100 (NVIDIA datasheets). */
  /* The clock held through a training step, relative to the kernel measurements. */
  const double clock = gpu->training_clock_ratio > 0.0 ? gpu->training_clock_ratio : 1.0;
  out->mm_Fps = gpu->peak_flops * (fp32 ? 0.5 : 1.0) * gpu->matmul_efficiency * clock;
  out->half_flops = gpu->matmul_half_flops;
  out->mem_Bps = gpu->hbm_Bps * gpu->memory_efficiency;
  out->elem_bytes = fp32 ? 4.0 : 2.0;
  out->s_per_flop = 1.0 / out->mm_Fps;
  out->s_per_byte = 1.0 / out->mem_Bps;
  /* The fused attention kernel: its own measured efficiency (0 = as a large GEMM). */
  const double peak = gpu->peak_flops * (fp32 ? 0.5 : 1.0) * clock;
  const double af = gpu->attention_efficiency > 0.0 ? gpu->attention_efficiency
                                                    : gpu->matmul_efficiency;
  const double ab = gpu->attention_bwd_efficiency > 0.0 ? gpu->attention_bwd_efficiency : af;
  out->attn_fwd_s_per_flop = 1.0 / (peak * af);
  out->attn_bwd_s_per_flop = 1.0 / (peak * ab);
  out->kernel_gap_s = gpu->kernel_gap_s;
  out->norm_bytes_f = out->norm_bytes_b = out->norm_kernels = 1.0;
  out->rope_bytes = out->rope_kernels = 1.0;
  out->act_bytes_f = out->act_bytes_b = out->act_kernels = 1.0;
  out->fa2_det_sms = 0.0;
  p3cfg__low_precision_rates(out, m, gpu); /* fp8, mxfp8, nvfp4: the linear layers' GEMMs */
}

double p3cfg__gemm_s(const p3cfg__rates *r, double m, double n, double k, double batch)
{
  const double flops = 2.0 * m * n * k * batch;
  const double compute_s = (flops + r->half_flops) * r->s_per_flop;
  const double bytes = r->elem_bytes * batch * (m * k + k * n + m * n);
  const double memory_s = bytes * r->s_per_byte;
  return compute_s > memory_s ? compute_s : memory_s;
}

void p3cfg__dims_of(p3cfg__dims *out, const p3cfg_model *m, const p3cfg_plan *plan)
{
  out->b = (double)plan->micro_batch;
  out->s = (double)m->seq_len;
  out->h = (double)m->hidden;
  out->heads = (double)m->heads;
  out->kv_heads = (double)m->kv_heads;
  out->head_dim = (double)p3cfg__head_dim(m);
  out->ffn = (double)m->ffn_hidden;
  out->tp = (double)plan->tp;
  out->vocab = (double)p3cfg__vocab_padded(m, plan->tp);
  out->cp = (double)p3cfg__plan_cp(plan);
  out->tokens = out->b * out->s / out->cp;
  out->mla = m->attention == P3CFG_ATTN_MLA;
  if (out->mla) { /* every head has its own k and v, decompressed from the latent */
    out->kv_heads = out->heads;
    out->qk_dim = (double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim);
    out->v_dim = (double)m->mla.v_head_dim;
    out->q_lora = (double)m->mla.q_lora_rank;
    out->kv_lora = (double)m->mla.kv_lora_rank;
    out->qk_rope = (double)m->mla.qk_rope_head_dim;
  } else {
    out->qk_dim = out->v_dim = out->head_dim;
    out->q_lora = out->kv_lora = out->qk_rope = 0.0;
  }
  out->moe = m->moe.experts > 0;
  out->experts = (double)m->moe.experts;
  out->top_k = (double)m->moe.top_k;
  out->expert_ffn = (double)m->moe.expert_ffn_hidden;
  const uint64_t shared_w =
      m->moe.shared_expert_ffn_hidden ? m->moe.shared_expert_ffn_hidden : m->moe.expert_ffn_hidden;
  out->shared_ffn = (double)(m->moe.shared_experts * shared_w);
  out->ep = (double)p3cfg__plan_ep(plan);
  out->etp = (double)p3cfg__plan_etp(plan);
  out->capacity = m->moe.capacity_factor > 0.0 ? m->moe.capacity_factor : 0.0;
  out->act_clamp = m->moe.activation_clamp; /* the model file's moe.activation_clamp */
  out->sp = plan->sequence_parallel != 0;
  out->flash = m->flash_attention;
  out->swiglu = m->activation == P3CFG_ACT_SWIGLU;
  out->bias = m->bias;
  out->dropout = m->dropout;
  out->rope = m->position_embedding == P3CFG_POS_ROPE;
  out->learned = m->position_embedding == P3CFG_POS_LEARNED;
  out->recompute = plan->recompute;
  out->recompute_modules = p3cfg__plan_recompute_modules(plan);
  out->sac_per_op = p3cfg__plan_physics(plan)->sac_per_op && !out->mla && !out->moe;
  out->unfused = p3cfg__plan_physics(plan)->unfused_projections && !out->mla;
  out->tp_fused_only = p3cfg__plan_physics(plan)->async_tp_fused_only;
  out->gather_kept_by_recompute = p3cfg__plan_physics(plan)->gather_kept_by_recompute;
  out->ce = plan->framework == P3CFG_FRAMEWORK_MEGATRON ? m->cross_entropy : P3CFG_CE_UNFUSED;
}

/* FlashAttention-2's backward (csrc/flash_attn/src/flash_bwd_launch_template.h,
 * run_flash_bwd_seqk_parallel, Dao-AILab/flash-attention @ 0251105a) launches one thread
 * block per (key block, sequence, head); deterministic, it launches
 * gx = ceil(SMs / (b h)) blocks per (sequence, head) instead, each walking the key blocks
 * gx apart into its own dQ accumulator (flash_api.cpp: nsplits), so the grid is
 * G = gx b h blocks of equal work, just over one per SM. At one block per SM (the
 * backward kernels of head widths up to 128 take over 100 KiB of shared memory on sm80)
 * they run in ceil(G / SMs) waves where the default grid's thousands of blocks fill
 * every SM: the same work takes ceil(G / SMs) SMs / G times as long. A100, b 2, 8 heads
 * per GPU: G = 7 x 16 = 112 blocks on 108 SMs, two waves, 1.93x. */
double p3cfg__fa2_deterministic_factor(double sms, double bh)
{
  if (sms <= 0.0 || bh <= 0.0)
    return 1.0;
  const double grid = ceil(sms / bh) * bh;
  const double f = ceil(grid / sms) * sms / grid;
  return f > 1.0 ? f : 1.0;
}

/* Attention core of one layer: forward and backward seconds, what selective
 * recomputation re-runs, and the kernels it launches each way. With context parallelism
 * (cp > 1) each rank holds s/cp queries and, by the ring, attends to all s keys: the
 * causal load balance (Megatron-Core splits the sequence in 2cp chunks, rank i holding
 * chunks i and 2cp-1-i) gives every rank 1/cp of the causal FLOPs, in cp kernel steps. */
static void attention_core(double *fwd_s, double *bwd_s, double *recompute_s, double *kf,
                           double *kb, const p3cfg__dims *d, const p3cfg__rates *r)
{
  const double e = r->elem_bytes, t = d->tp, s = d->s, cp = d->cp;
  const double qd = d->qk_dim, vd = d->v_dim;
  const double bh = d->b * d->heads / t; /* (sequence, head) pairs on this GPU */
  if (d->flash) {
    /* FlashAttention-2 (Dao 2023): causal masking skips half of the 2 s^2 (qd + vd)
     * FLOPs per head; the backward recomputes QK^T, 2.5x the forward's matmuls. Q, K, V, O (and
     * dO, dQ, dK, dV) cross HBM once; no s^2 tensor does. The kernel runs at its own
     * measured fraction of peak (attention_efficiency), with the GEMM's fixed cost per
     * kernel (one per ring step). */
    const double flops = bh * s * s * (qd + vd) / cp;
    const double qkvo = e * d->tokens * (d->heads * (qd + vd) + d->kv_heads * (qd + vd)) / t;
    const double fixed = cp * r->half_flops * r->s_per_flop;
    /* Attention dropout inside the kernel (Philox numbers for every score) costs it a
     * measured share of its rate, forward and backward. */
    const double drop_f = d->dropout ? P3CFG__FLASH_DROPOUT_FWD : 1.0;
    const double drop_b = d->dropout ? P3CFG__FLASH_DROPOUT_BWD : 1.0;
    double f = flops * r->attn_fwd_s_per_flop / drop_f + fixed, fb = cp * qkvo * r->s_per_byte;
    double b = 2.5 * flops * r->attn_bwd_s_per_flop / drop_b *
                   p3cfg__fa2_deterministic_factor(r->fa2_det_sms, bh) +
               fixed,
           bb = 2.0 * cp * qkvo * r->s_per_byte;
    *fwd_s = f > fb ? f : fb;
    *bwd_s = b > bb ? b : bb;
    *recompute_s = *fwd_s;
    *kf = cp, *kb = 2.0 * cp; /* per step: the forward kernel; backward preprocess + main */
    return;
  }
  /* Megatron-LM's unfused path (cp = 1 only: context parallelism needs flash): baddbmm
   * QK^T [s x qd][qd x s] and bmm with V, the fused scale-mask-softmax (read and write
   * b a s^2 / t elements) and the attention dropout (plus a 1-byte mask); Korthikanti
   * Sec. 4.1. */
  const double gemms = p3cfg__gemm_s(r, s, s, qd, bh) + p3cfg__gemm_s(r, s, vd, s, bh);
  const double scores = bh * s * s;
  const double drop = d->dropout ? (2.0 * e + 1.0) * scores : 0.0;
  const double mem_fwd = 2.0 * e * scores + drop;
  const double mem_bwd = 3.0 * e * scores + drop;
  *fwd_s = gemms + mem_fwd * r->s_per_byte;
  *bwd_s = 2.0 * gemms + mem_bwd * r->s_per_byte;
  *recompute_s = *fwd_s;
  *kf = d->dropout ? 4.0 : 3.0;        /* two batched GEMMs, softmax, dropout */
  *kb = d->dropout ? 7.0 : 6.0;        /* four batched GEMMs, softmax and dropout grads */
}

/* `count` weight GEMMs [m x k][k x n] of a layer, forward: their time, and their FLOPs
 * (2 m n k each) added to *flops, so that the GEMM ceiling (perf_plan.c) counts exactly the
 * shapes that are timed. */
static double weight_gemms(double *flops, const p3cfg__rates *r, double count, double m, double n,
                           double k)
{
  *flops += count * 2.0 * m * n * k;
  return count * p3cfg__gemm_lp_s(r, m, n, k, 1.0);
}

/* The attention block's weight GEMMs, forward, one pass: the column-parallel ones (qkv)
 * and the rest, their FLOPs added to *flops. MHA/GQA: QKV [T x (a qd + 2 kv qd)/t] and
 * the projection from a vd.
 * MLA (DeepSeek-V2/V3; Megatron-Core MLASelfAttention): the down projections of q (to
 * q_lora) and of kv (to kv_lora + the shared rope key) are duplicated on every TP rank
 * (parallel_mode "duplicated"), the up projections column-parallel (q: a (nope + rope);
 * kv: a (nope + v)), the output projection row-parallel. */
static void attention_gemms(double *qkv, double *rest, double *kernels, double *flops,
                            const p3cfg__dims *d, const p3cfg__rates *r)
{
  const double t = d->tp, T = d->tokens, h = d->h, a = d->heads;
  const double proj = weight_gemms(flops, r, 1.0, T, h, a * d->v_dim / t);
  if (!d->mla && d->unfused) { /* torchtitan: wq, wk, wv, each over the same input */
    const double wq = weight_gemms(flops, r, 1.0, T, a * d->qk_dim / t, h);
    *qkv = wq + weight_gemms(flops, r, 2.0, T, d->kv_heads * d->qk_dim / t, h);
    *rest = proj;
    *kernels = 4.0;
    return;
  }
  if (!d->mla) {
    *qkv = weight_gemms(flops, r, 1.0, T, (a * d->qk_dim + 2.0 * d->kv_heads * d->qk_dim) / t, h);
    *rest = proj;
    *kernels = 2.0;
    return;
  }
  const double nope = d->qk_dim - d->qk_rope;
  double q;
  if (d->q_lora > 0.0) {
    q = weight_gemms(flops, r, 1.0, T, d->q_lora, h);
    q += weight_gemms(flops, r, 1.0, T, a * d->qk_dim / t, d->q_lora);
  } else {
    q = weight_gemms(flops, r, 1.0, T, a * d->qk_dim / t, h);
  }
  double kv = weight_gemms(flops, r, 1.0, T, d->kv_lora + d->qk_rope, h);
  kv += weight_gemms(flops, r, 1.0, T, a * (nope + d->v_dim) / t, d->kv_lora);
  *qkv = q + kv;
  *rest = proj;
  *kernels = d->q_lora > 0.0 ? 5.0 : 4.0;
}

void p3cfg__layer_cost_of(p3cfg__layer_cost *out, const p3cfg__dims *d, const p3cfg__rates *r)
{
  const double e = r->elem_bytes, t = d->tp, T = d->tokens, h = d->h, f = d->ffn;
  const double kvd = d->kv_heads * d->qk_dim;

  /* The weight GEMMs: column-parallel QKV and MLP-up, row-parallel projection and
   * MLP-down (Megatron-LM). Backward: data gradient and weight gradient, each as many
   * FLOPs as the forward and over the same three matrices. */
  double qkv, proj, attn_gemm_kernels, gemm_flops = 0.0;
  attention_gemms(&qkv, &proj, &attn_gemm_kernels, &gemm_flops, d, r);
  /* torchtitan's SwiGLU: w1 and w3 apart, two GEMMs of f/t (framework_physics.h). */
  const int split_fc1 = d->unfused && d->swiglu;
  const double fc1 = split_fc1
                         ? weight_gemms(&gemm_flops, r, 2.0, T, f / t, h)
                         : weight_gemms(&gemm_flops, r, 1.0, T, (d->swiglu ? 2.0 : 1.0) * f / t, h);
  const double fc2 = weight_gemms(&gemm_flops, r, 1.0, T, h, f / t);
  const double gemms = qkv + proj + fc1 + fc2;

  double attn_fwd, attn_bwd, attn_recompute, attn_kf, attn_kb;
  attention_core(&attn_fwd, &attn_bwd, &attn_recompute, &attn_kf, &attn_kb, d, r);

  /* Memory-bound ops. Without sequence parallelism every TP rank repeats the norms and
   * the bias-dropout-adds on the whole b*s*h activation; with it each does 1/t. */
  const double th = T * h / (d->sp ? t : 1.0);
  const double tf = T * f / t;
  /* read x (and dy), write; eager PyTorch runs more (framework_time.c) */
  const double norm_f = 2.0 * e * th * r->norm_bytes_f, norm_b = 3.0 * e * th * r->norm_bytes_b;
  const double bda_f = (d->dropout ? 3.0 * e + 1.0 : 3.0 * e) * th;
  const double bda_b = (d->dropout ? 2.0 * e + 1.0 : (d->bias ? e : 0.0)) * th;
  /* Activation: bias-GELU reads and writes the f/t-wide tensor; SwiGLU reads two. */
  const double act_f = (d->swiglu ? 3.0 : 2.0) * e * tf * r->act_bytes_f;
  const double act_b = (d->swiglu ? 5.0 : 3.0) * e * tf * r->act_bytes_b;
  /* Attention half: a norm, a bias-dropout-add, the rotary embedding of q and k (and
   * MLA's two latent norms); MLP half: a norm, a bias-dropout-add, the activation. */
  double att_mem_f = norm_f + bda_f, att_mem_b = norm_b + bda_b;
  if (d->rope) {
    const double rot = d->mla ? T * (d->heads / t + 1.0) * d->qk_rope
                              : T * (d->heads * d->qk_dim + kvd) / t;
    att_mem_f += 2.0 * e * rot * r->rope_bytes;
    att_mem_b += 2.0 * e * rot * r->rope_bytes;
  }
  if (d->mla) {
    const double lat = T * (d->q_lora + d->kv_lora);
    att_mem_f += 2.0 * e * lat;
    att_mem_b += 3.0 * e * lat;
  }
  double mlp_mem_f = norm_f + bda_f + act_f, mlp_mem_b = norm_b + bda_b + act_b;
  /* Separate projections: the backward sums their data gradients of the (gathered)
   * T x h input, one element-wise kernel per block reading n and writing one. */
  if (d->unfused) {
    att_mem_b += 4.0 * e * T * h;
    mlp_mem_b += split_fc1 ? 3.0 * e * T * h : 0.0;
  }

  /* Kernels launched: the weight GEMMs (twice each backward: data and weight gradient),
   * the attention core's, per half a norm and a bias-dropout-add, the activation, the
   * rotary embedding of q and k (MLA: two latent norms), each forward and backward. */
  const double att_elem =
      r->norm_kernels + 1.0 + (d->rope ? 2.0 * r->rope_kernels : 0.0) + (d->mla ? 2.0 : 0.0);
  const double mlp_elem = r->norm_kernels + 1.0 + r->act_kernels;
  const double att_kf = attn_gemm_kernels + attn_kf + att_elem;
  const double att_kb = 2.0 * attn_gemm_kernels + attn_kb + att_elem + (d->unfused ? 1.0 : 0.0);
  const double mlp_kf = 2.0 + split_fc1 + mlp_elem, mlp_kb = 4.0 + 3.0 * split_fc1 + mlp_elem;
  double kf = att_kf + mlp_kf, kb = att_kb + mlp_kb;

  /* Low precision (fp8, mxfp8, nvfp4): quantizing the GEMMs' inputs forward and their
   * output gradients backward, memory-bound, and the kernels that does
   * (low_precision_time.c; nothing in 16 or 32 bits), each with its block: an MoE layer
   * replaces the MLP's with its experts' (moe_cost.c). */
  p3cfg__lp_overhead lp, lp_mlp;
  p3cfg__low_precision_overhead(&lp, &lp_mlp, d, r);
  att_mem_f += lp.fwd_bytes, att_mem_b += lp.bwd_bytes;
  mlp_mem_f += lp_mlp.fwd_bytes, mlp_mem_b += lp_mlp.bwd_bytes;
  kf += lp.kernels_fwd + lp_mlp.kernels_fwd, kb += lp.kernels_bwd + lp_mlp.kernels_bwd;

  const double gap = r->kernel_gap_s;
  const double att_fwd = qkv + proj + attn_fwd + att_mem_f * r->s_per_byte +
                         (att_kf + lp.kernels_fwd) * gap;
  const double att_bwd = 2.0 * (qkv + proj) + attn_bwd + att_mem_b * r->s_per_byte +
                         (att_kb + lp.kernels_bwd) * gap;
  const double mlp_kf_all = mlp_kf + lp_mlp.kernels_fwd, mlp_kb_all = mlp_kb + lp_mlp.kernels_bwd;
  out->mlp_fwd_s = fc1 + fc2 + mlp_mem_f * r->s_per_byte + mlp_kf_all * gap;
  out->mlp_bwd_s = 2.0 * (fc1 + fc2) + mlp_mem_b * r->s_per_byte + mlp_kb_all * gap;
  out->mlp_kernels_fwd = mlp_kf_all;
  out->mlp_kernels_bwd = mlp_kb_all;
  out->fwd_s = att_fwd + out->mlp_fwd_s;
  out->bwd_s = att_bwd + out->mlp_bwd_s;
  /* Recomputation (Korthikanti Sec. 5): full re-runs the layer's forward inside the
   * backward, its TP collectives included; selective re-runs the attention core. */
  if (d->recompute == P3CFG_RECOMPUTE_FULL) {
    out->bwd_s += out->fwd_s;
    kb += kf;
  } else if (d->recompute == P3CFG_RECOMPUTE_SELECTIVE && d->sac_per_op) {
    /* torchtitan's per-op SAC keeps the odd matmuls' outputs (wq, wv, w1, w2; GELU: wq,
     * wv, w1) and SDPA's: the backward re-runs wk, wo and w3 (GELU: w2) and every
     * element-wise op of the block, with their kernels. Its save list counts aten.mm
     * (and aten.linear), not aten._scaled_mm: in low precision (torchao's Float8Linear,
     * whose GEMM is torch._scaled_mm) no linear's output is saved and the backward
     * re-runs all of them, casts included (torchtitan parallelize_llama.py _save_list at
     * 9dec370 and 820504e, distributed/activation_checkpoint.py _get_default_save_ops at
     * b5bcd76c). */
    const double width = d->heads * d->qk_dim + 2.0 * kvd;
    const double wk = d->unfused ? p3cfg__gemm_lp_s(r, T, kvd / t, h, 1.0) : qkv * kvd / width;
    const double re_gemm = r->lp ? gemms : wk + proj + (d->swiglu ? 0.5 * fc1 : fc2);
    const double re_kernels =
        att_elem + mlp_elem +
        (r->lp ? attn_gemm_kernels + 2.0 + split_fc1 + lp.kernels_fwd + lp_mlp.kernels_fwd : 3.0);
    out->bwd_s += re_gemm + (att_mem_f + mlp_mem_f) * r->s_per_byte + re_kernels * gap;
    kb += re_kernels;
  } else if (d->recompute == P3CFG_RECOMPUTE_SELECTIVE) {
    /* Megatron-Core's modules (docs/memory-model.md, "Selective-recompute modules"): each
     * re-runs its forward inside the backward. core_attn: the attention core. layernorm:
     * the norms that are real modules in a dense half (MLA's input norm; the others are
     * fused into Transformer Engine's linears); the MoE half's pre-MLP norm is moe_cost.c's.
     * mla_up_proj: the q and kv up-projections and the rotary embedding. mlp: a dense MLP
     * (in the MLP half, which an MoE layer replaces by its experts). */
    const uint32_t mo = d->recompute_modules;
    if (mo & P3CFG_RECOMPUTE_MODULE_CORE_ATTN) {
      out->bwd_s += attn_recompute + attn_kf * gap;
      kb += attn_kf;
    }
    if (d->mla && (mo & P3CFG_RECOMPUTE_MODULE_LAYERNORM)) {
      out->bwd_s += norm_f * r->s_per_byte + r->norm_kernels * gap;
      kb += r->norm_kernels;
    }
    if (d->mla && (mo & P3CFG_RECOMPUTE_MODULE_MLA_UP_PROJ)) {
      const double nope = d->qk_dim - d->qk_rope, a = d->heads;
      double up = p3cfg__gemm_lp_s(r, T, a * (nope + d->v_dim) / t, d->kv_lora, 1.0);
      if (d->q_lora > 0.0)
        up += p3cfg__gemm_lp_s(r, T, a * d->qk_dim / t, d->q_lora, 1.0);
      const double rot = d->rope ? 2.0 * e * T * (a / t + 1.0) * d->qk_rope * r->rope_bytes : 0.0;
      const double k_up = (d->q_lora > 0.0 ? 2.0 : 1.0) + (d->rope ? 2.0 * r->rope_kernels : 0.0);
      out->bwd_s += up + rot * r->s_per_byte + k_up * gap;
      kb += k_up;
    }
    if (mo & P3CFG_RECOMPUTE_MODULE_MLP) {
      out->mlp_bwd_s += out->mlp_fwd_s;
      out->bwd_s += out->mlp_fwd_s;
      out->mlp_kernels_bwd += mlp_kf_all;
      kb += mlp_kf_all;
    }
  }
  out->gemm_attn_s = qkv + proj;
  out->gemm_mlp_s = fc1 + fc2;
  out->gemm_fwd_s = gemms;
  out->gemm_fwd_flops = gemm_flops;
  out->gemm_qkv_s = qkv;
  out->gemm_fc1_s = fc1;
  out->kernels_fwd = kf;
  out->kernels_bwd = kb;
  out->tp_bytes = e * T * h;
  out->tp_ag_cut = p3cfg__lp_tp_gather_cut(d, r); /* quantized sp all-gathers */
  out->recompute_comm = d->recompute == P3CFG_RECOMPUTE_FULL;
  /* torchtitan's full AC recomputes the forward's all-gather and keeps its output for
   * the weight gradients (framework_physics.h): no second gather. */
  out->sp_regather = d->sp && d->tp > 1.0 &&
                     !(d->recompute == P3CFG_RECOMPUTE_FULL && d->gather_kept_by_recompute);
  out->tp_fused_only = d->tp_fused_only;
  out->rs_unfused_attn = d->unfused;
  out->rs_unfused_mlp = split_fc1;
  /* Ring attention: each step sends this rank's K and V (cp = 1: nothing). */
  out->cp_kv_bytes = d->cp > 1.0 ? e * T * kvd / t + e * T * d->kv_heads * d->v_dim / t : 0.0;
  out->attn_step_fwd_s = attn_fwd / d->cp;
  out->attn_step_bwd_s = attn_bwd / d->cp;
}

void p3cfg__edge_cost_of(p3cfg__edge_cost *out, const p3cfg__dims *d, const p3cfg__rates *r)
{
  const double e = r->elem_bytes, t = d->tp, T = d->tokens, h = d->h, V = d->vocab;
  const double th = T * h / (d->sp ? t : 1.0);
  const double drop = d->dropout ? (2.0 * e + 1.0) * th : 0.0;

  /* Vocab-parallel embedding (Megatron-LM): each TP rank gathers the rows it owns into
   * a full b*s*h tensor, the group sums them (all-reduce, or reduce-scatter into the
   * sequence-parallel layout), then positions and dropout. Backward: PyTorch's dense
   * embedding gradient (zero-fill V h / t, scatter-add) accumulated into the fp32 main
   * gradient every micro-batch. */
  const double gap = r->kernel_gap_s;
  out->emb_fwd_s = (2.0 * e * T * h + (d->learned ? 3.0 * e * th : 0.0) + drop) * r->s_per_byte +
                   3.0 * gap;
  out->emb_bwd_s = (e * T * h + drop + (2.0 * e + 8.0) * V * h / t) * r->s_per_byte + 3.0 * gap;
  out->emb_tp_fwd = d->sp ? 0.5 : 1.0;
  out->emb_tp_bwd = d->sp ? 0.5 : 0.0;

  /* Final norm, logits GEMM [T x h][h x V/t], and the loss (cross_entropy_cost.h):
   * Megatron-LM's vocab-parallel cross entropy on fp32 logits by default (e + 36 bytes per
   * logit forward, e + 12 backward), Transformer Engine's fused kernel on the 16-bit
   * logits (3e, 2e) or Megatron-Core's JIT-fused one (e + 20, e + 4). */
  const double logits = p3cfg__gemm_s(r, T, V / t, h, 1.0);
  const double tv = T * V / t;
  const p3cfg__ce_cost ce = p3cfg__ce_cost_of(d->ce, e);
  out->out_fwd_s = logits + (2.0 * e * th + ce.fwd_bytes * tv) * r->s_per_byte +
                   ce.kernels_fwd * gap;
  out->out_bwd_s = 2.0 * logits + (3.0 * e * th + ce.bwd_bytes * tv) * r->s_per_byte +
                   ce.kernels_bwd * gap;
  /* With sp the input is all-gathered before the logits and reduce-scattered back;
   * without it the replicated input's gradient is all-reduced. */
  out->out_tp_fwd = d->sp ? 0.5 : 0.0;
  out->out_tp_bwd = d->sp ? 0.5 : 1.0;
  out->loss_bytes = 4.0 * T; /* max, sum of exp, target logit: one fp32 per token */
}

double p3cfg__optimizer_s(const p3cfg__rates *r, const p3cfg_model *m, double owned,
                          double held)
{
  const int fp32 = m->precision == P3CFG_PREC_FP32;
  /* Per owned parameter: read the fp32 gradient twice (norm, update), read and write
   * the fp32 master (or the fp32 weight) and write the 16-bit copy, plus the moments:
   * Adam's m and v, SGD's momentum. Then zero the whole fp32 gradient buffer held. */
  const double master = fp32 ? 8.0 : 8.0 + r->elem_bytes;
  const double moments = m->optimizer == P3CFG_OPT_ADAM ? 16.0 : 8.0;
  const double bytes = (8.0 + master + moments) * owned + 4.0 * held +
                       p3cfg__low_precision_step_bytes(r, owned, held); /* weight casts */
  return bytes * r->s_per_byte;
}

void p3cfg__flops_of(p3cfg__flops *out, const p3cfg_model *m, const p3cfg_plan *plan)
{
  p3cfg__params params;
  p3cfg__model_params(&params, m, plan->tp);
  const uint64_t gb = plan->global_batch ? plan->global_batch : m->global_batch;
  const double tokens = (double)gb * (double)m->seq_len;
  const double h = (double)m->hidden, s = (double)m->seq_len, l = (double)m->layers;
  const double f = (double)m->ffn_hidden;
  const double kvd = (double)m->kv_heads * (double)(m->hidden / m->heads);
  const double V = (double)params.vocab_padded;

  /* Per token, forward, one layer: 2 FLOPs per weight of QKV, projection and MLP;
   * attention 4 s h (QK^T and AV over all s keys, Megatron SC'21). */
  const double gemm = 2.0 * (h * (h + 2.0 * kvd) + h * h +
                             (m->activation == P3CFG_ACT_SWIGLU ? 3.0 : 2.0) * h * f);
  const double attn = 4.0 * s * h;
  /* As executed: flash skips the masked half and its backward is 2.5x its forward. */
  const double attn_fwd = m->flash_attention ? attn / 2.0 : attn;
  const double attn_fb = m->flash_attention ? 3.5 * attn_fwd : 3.0 * attn_fwd;
  double layer = 3.0 * gemm + attn_fb;
  const uint32_t modules = p3cfg__plan_recompute_modules(plan);
  if (plan->recompute == P3CFG_RECOMPUTE_FULL)
    layer += gemm + attn_fwd;
  else if (modules & P3CFG_RECOMPUTE_MODULE_CORE_ATTN)
    layer += attn_fwd;
  if (modules & P3CFG_RECOMPUTE_MODULE_MLP) /* the dense MLP's GEMMs once more */
    layer += 2.0 * (m->activation == P3CFG_ACT_SWIGLU ? 3.0 : 2.0) * h * f;
  out->hardware = tokens * (l * layer + 3.0 * 2.0 * h * V);
  /* MFU (spec §6): Megatron-LM's num_floating_point_operations (model_flops.c): 6 FLOPs
   * per weight of the blocks (top_k routed experts) and the output layer, plus the causal
   * attention core, so that MFU compares with a Megatron-LM log. */
  out->model = p3cfg__model_flops(m, gb, plan->tp);
}

double p3cfg__overlap_exposed_s(double comm_s, double gemm_s, double chunks)
{
  /* chunks pieces of comm and GEMM in a pipeline: total c/n + (n-1) max(c,g)/n + g/n;
   * what exceeds the GEMM alone is exposed. Never less than one chunk of comm. */
  const double excess = comm_s > gemm_s ? comm_s - gemm_s : 0.0;
  return comm_s / chunks + (chunks - 1.0) / chunks * excess;
}
