/*
 * offload.c — what activation offloading to host memory costs one micro-batch
 * (Megatron-Core's cpu_offloading_num_layers, run by Transformer Engine's CPU offload
 * context; TransformerEngine docs/features/other_optimizations/cpu_offloading at
 * d0067d0). The first n of a stage's L layers are offloaded; one copy stream carries
 * their activations to the host in order, each as soon as its layer's forward has saved
 * them, and back before its backward; and at most W = L - n layers' activation sets are
 * on the GPU at any time, compute and reloads stalling to hold that.
 *
 * Forward, layer k (1..L) starts when layer k-1 ends and, past the first W, when the
 * copy of layer k-W has freed its set; the copy of layer k (k <= n) starts when that
 * layer ends and the stream is free. Backward, layers L..1: the reload of layer k
 * (k <= n, in the order n..1) needs a set freed by a finished backward, the (n-k+1)-th,
 * which is layer k+W's, and the stream; layer k's backward needs layer k+1's and its
 * reload. Exact for identical layers, O(L) with no allocation: each recurrence looks
 * back W steps at most into a ring of min(W, n) entries. The copies' share of HBM
 * bandwidth is not charged. Also the perf context's two figures: one layer's activation
 * bytes (the memory model's) and the host link's rate.
 */
#include "perf_internal.h"

#include "activations.h"
#include "gpu_presets.h"

/* Ring entries the exact recurrences keep on the stack; a stage needing more (over
 * 2 * 2048 layers) gets the bound of the copies alone. */
#define OFFLOAD_RING 2048

static inline double later(double a, double b)
{
  return a > b ? a : b;
}

void p3cfg__offload_exposed(double *fwd_s, double *bwd_s, uint32_t layers, uint32_t n,
                            double layer_fwd_s, double layer_bwd_s, double xfer_s)
{
  *fwd_s = *bwd_s = 0.0;
  if (n == 0 || n >= layers || !(xfer_s > 0.0))
    return;
  const uint32_t w = layers - n;
  const uint32_t ring_n = w < n ? w : n;
  if (ring_n > OFFLOAD_RING) {
    /* Serial copies of n layers each way against the compute of the others. */
    *fwd_s = later(0.0, n * xfer_s - (layers - 1.0) * layer_fwd_s);
    *bwd_s = later(0.0, n * xfer_s - (layers - 1.0) * layer_bwd_s);
    return;
  }
  double ring[OFFLOAD_RING];

  /* Forward: c = end of the last layer's compute, x = end of the last copy. */
  double c = 0.0, x = 0.0;
  for (uint32_t k = 1; k <= layers; k++) {
    double start = c;
    if (k > w) /* the set of layer k - w (<= n) must be on the host */
      start = later(start, ring[(k - w) % ring_n]);
    c = start + layer_fwd_s;
    if (k <= n) {
      x = later(x, c) + xfer_s;
      ring[k % ring_n] = x;
    }
  }
  *fwd_s = c - layers * layer_fwd_s;

  /* Backward, from the forward's end: the stream is busy until the last copy ends. */
  double stream = later(0.0, x - c), b = 0.0;
  for (uint32_t i = 1; i <= layers; i++) { /* step i runs layer k = layers - i + 1 */
    const uint32_t k = layers - i + 1;
    double start = b;
    if (k <= n) {
      /* The reload of k waits for the backward of layer k + w, step i - w. */
      const double freed = ring[(i - w) % ring_n];
      stream = later(stream, freed) + xfer_s;
      start = later(start, stream);
    }
    b = start + layer_bwd_s;
    if (i <= n) /* layers L..w+1 free the sets the reloads take, in order */
      ring[i % ring_n] = b;
  }
  *bwd_s = b - layers * layer_bwd_s;
}

/* One layer of one micro-batch as the memory model stashes it (the larger of a dense and
 * an MoE layer), and the host link at NCCL's NVLink fraction (not measured for host
 * copies). */
void p3cfg__offload_rates(double *layer_bytes, double *host_Bps, const p3cfg_model *m,
                          const p3cfg_cluster *c, const p3cfg_plan *plan)
{
  *layer_bytes = *host_Bps = 0.0;
  if (!plan->cpu_offload_layers)
    return;
  p3cfg__act_terms terms;
  p3cfg__act_terms_get(&terms, m, plan);
  *layer_bytes = (double)(terms.layer_bytes > terms.moe_layer_bytes ? terms.layer_bytes
                                                                    : terms.moe_layer_bytes);
  *host_Bps = p3cfg__gpu_host_link_Bps(c->gpu.name) * P3CFG_NVLINK_EFFICIENCY;
}
