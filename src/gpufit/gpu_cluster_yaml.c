/*
 * gpu_cluster_yaml.c — a cluster file (spec §3) carrying a GPU profile's fitted
 * parameters in its gpu map, so that the time model runs on measured numbers.
 *
 * The gpu map is written in full (name, memory, peak, the FP8 and FP4 peaks where the GPU
 * has them, bandwidth, context, the three fitted parameters): it loads the same whether
 * or not the name is a preset. Everything
 * else comes from the base cluster (nodes, network, measured links, written back as
 * the parser stored them); without one the file describes the one GPU measured, and the
 * network lines, unused with one GPU, hold the datasheet figures of the GPU's family
 * (clusters/dgx-*.yaml) as placeholders, which a comment says. Comments at the top say
 * where the numbers come from and what the preset assumed. As the MPI profiler does,
 * the text is loaded with p3cfg_cluster_load_string before it is handed out.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "gpu_presets.h"
#include "gpufit.h"

static void comments(p3cfg__text *t, const p3cfg_gpu_profile *p, const p3cfg_gpu_fit *f)
{
  const p3cfg_gpu_device *d = &p->device;
  const p3cfg_gpu *preset = p3cfg__gpu_preset(d->gpu);
  p3cfg__text_printf(t, "# Cluster file written by `p3cfg profile --compute` (p3cfg %s)%s%s.\n",
                      p3cfg_version_string(), d->date[0] ? ", measured " : "", d->date);
  p3cfg__text_printf(t, "# gpu: %u bf16 GEMMs and a device-to-device copy timed on %s;\n",
                      f->gemms, d->name[0] ? d->name : "an unnamed device");
  p3cfg__text_printf(t, "# matmul_efficiency and matmul_half_tflop fitted to the GEMM formula "
                         "of\n# docs/time-model.md (relative error rms %.1f %%, max %.1f %%), "
                         "memory_efficiency\n# = copy bandwidth / hbm_GBps. See "
                         "docs/gpu-profiling.md.\n",
                      100.0 * f->rms_error, 100.0 * f->max_error);
  if (f->square_n)
    p3cfg__text_printf(t, "# %llu^3 GEMM: %.1f TFLOP/s; copy: %.0f GB/s.\n",
                        (unsigned long long)f->square_n, f->square_flops_s / 1e12,
                        f->copy_Bps / 1e9);
  if (preset)
    p3cfg__text_printf(t, "# The %s preset (calibrated on whole training steps, where NCCL "
                           "kernels share\n# the SMs) has matmul_efficiency %.4g, "
                           "matmul_half_tflop %.4g, memory_efficiency %.4g.\n",
                        preset->name, preset->matmul_efficiency,
                        preset->matmul_half_flops / 1e12, preset->memory_efficiency);
}

static void gpu_map(p3cfg__text *t, const p3cfg_gpu_profile *p, const p3cfg_gpu_fit *f,
                    const p3cfg_cluster *base)
{
  const p3cfg_gpu_device *d = &p->device;
  const p3cfg_gpu *preset = p3cfg__gpu_preset(d->gpu);
  uint64_t memory = d->memory_bytes, context = 1024ull << 20;
  /* The low-precision peaks: the base's GPU of that name, else the preset's, at the ratio
   * to the 16-bit peak they have there (as the parser scales a preset's). */
  const p3cfg_gpu *lp = base && strcmp(base->gpu.name, d->gpu) == 0 ? &base->gpu : preset;
  const double lp_scale = lp && lp->peak_flops > 0.0 ? f->peak_flops / lp->peak_flops : 0.0;
  if (base && strcmp(base->gpu.name, d->gpu) == 0) {
    context = base->gpu.context_bytes;
    if (!memory)
      memory = base->gpu.memory_bytes;
  } else if (preset) {
    context = preset->context_bytes;
    if (!memory)
      memory = preset->memory_bytes;
  } else if (base) {
    context = base->gpu.context_bytes;
  }
  if (memory <= context) /* nothing measured nor known: the parser's limit */
    memory = context + (1ull << 30);
  p3cfg__text_printf(t, "gpu:\n  name: ");
  p3cfg__gpufit_quoted(t, d->gpu);
  p3cfg__text_printf(t, "\n  memory_GiB: %.10g\n  peak_tflops: %.10g\n",
                     (double)memory / 1073741824.0, f->peak_flops / 1e12);
  /* Written when not 0, or when 0 under a preset's name that has one (else the file
   * would load with the preset's). */
  if (lp && (lp->peak_fp8_flops > 0.0 || (preset && preset->peak_fp8_flops > 0.0)))
    p3cfg__text_printf(t, "  peak_fp8_tflops: %.10g\n", lp->peak_fp8_flops * lp_scale / 1e12);
  if (lp && (lp->peak_fp4_flops > 0.0 || (preset && preset->peak_fp4_flops > 0.0)))
    p3cfg__text_printf(t, "  peak_fp4_tflops: %.10g\n", lp->peak_fp4_flops * lp_scale / 1e12);
  p3cfg__text_printf(t, "  hbm_GBps: %.10g\n  context_MiB: %.10g\n", f->hbm_Bps / 1e9,
                     (double)context / 1048576.0);
  p3cfg__text_printf(t, "  matmul_efficiency: ");
  p3cfg__gpufit_number(t, f->matmul_efficiency);
  p3cfg__text_printf(t, "\n  matmul_half_tflop: ");
  p3cfg__gpufit_number(t, f->matmul_half_flops / 1e12);
  p3cfg__text_printf(t, "\n  memory_efficiency: ");
  p3cfg__gpufit_number(t, f->memory_efficiency);
  p3cfg__text_printf(t, "\n");
}

/* Placeholder network of a GPU's platform, per GPU per direction: the GPU table's, or for
 * a GPU no preset names, the A100's. */
static void family_network(const char *gpu, double *intra_GBps, double *inter_GBps)
{
  if (!p3cfg__gpu_preset_network(gpu, intra_GBps, inter_GBps))
    p3cfg__gpu_preset_network("a100-80gb", intra_GBps, inter_GBps);
}

static void matrix(p3cfg__text *t, const double *m, uint32_t n, double scale)
{
  for (uint32_t i = 0; i < n; i++) {
    p3cfg__text_printf(t, "    - [");
    for (uint32_t j = 0; j < n; j++)
      p3cfg__text_printf(t, j ? ", %.10g" : "%.10g", m[(size_t)i * n + j] * scale);
    p3cfg__text_printf(t, "]\n");
  }
}

static void rest_of_base(p3cfg__text *t, const p3cfg_cluster *c)
{
  p3cfg__text_printf(t, "network:\n  intra_node_GBps: %.10g\n  intra_node_latency_us: %.10g\n"
                         "  inter_node_GBps: %.10g\n  inter_node_latency_us: %.10g\n",
                      c->intra_Bps / 1e9, c->intra_latency_s * 1e6, c->inter_Bps / 1e9,
                      c->inter_latency_s * 1e6);
  const p3cfg_links *l = &c->links;
  if (l->granularity == P3CFG_LINKS_NONE || l->n == 0)
    return;
  p3cfg__text_printf(t, "links:\n  granularity: %s\n  names: [",
                      l->granularity == P3CFG_LINKS_GPU ? "gpu" : "node");
  for (uint32_t i = 0; i < l->n; i++) {
    if (i)
      p3cfg__text_printf(t, ", ");
    p3cfg__gpufit_quoted(t, l->names[i]);
  }
  p3cfg__text_printf(t, "]\n  bandwidth_GBps:\n");
  matrix(t, l->bandwidth_Bps, l->n, 1e-9);
  p3cfg__text_printf(t, "  latency_us:\n");
  matrix(t, l->latency_s, l->n, 1e6);
}

static int check_loads(const p3cfg_buffer *b)
{
  p3cfg_cluster *c = NULL;
  p3cfg_diagnostics *diags = NULL;
  int rc = p3cfg_cluster_load_string(&c, b->data, b->len, "gpu profile", &diags);
  p3cfg_cluster_free(c);
  if (rc == 0 || rc == P3CFG_ENOMEM) {
    p3cfg_diagnostics_free(diags);
    return rc == 0 ? 0 : p3cfg__error_nomem();
  }
  const p3cfg_diag *d = diags ? p3cfg_diagnostics_get(diags, 0) : NULL;
  rc = p3cfg__error_set(P3CFG_EINTERNAL,
                        "the gpu profile makes a cluster file that p3cfg rejects (line %d, "
                        "column %d): %s",
                        d ? d->line : 0, d ? d->column : 0, d ? d->message : p3cfg_strerror(rc));
  p3cfg_diagnostics_free(diags);
  return rc;
}

P3CFG_API int p3cfg_gpu_profile_cluster_yaml(p3cfg_buffer *out, const p3cfg_gpu_profile *p,
                                             const p3cfg_gpu_fit *fit,
                                             const p3cfg_cluster *base)
{
  p3cfg__error_clear();
  if (!out || !p || !fit)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_cluster_yaml: NULL argument");
  out->data = NULL;
  out->len = 0;
  if (!p->device.gpu[0] || !(fit->matmul_efficiency > 0.0 && fit->matmul_efficiency <= 1.0) ||
      !(fit->matmul_half_flops > 0.0) ||
      !(fit->memory_efficiency > 0.0 && fit->memory_efficiency <= 1.0))
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_cluster_yaml: no fit to write");
  p3cfg__text t;
  p3cfg__text_init(&t);
  comments(&t, p, fit);
  p3cfg__text_printf(&t, "name: ");
  p3cfg__gpufit_quoted(&t, base && base->name ? base->name : "profiled");
  p3cfg__text_printf(&t, "\nnodes: %u\ngpus_per_node: %u\n", base ? base->nodes : 1u,
                      base ? base->gpus_per_node : 1u);
  gpu_map(&t, p, fit, base);
  if (base) {
    rest_of_base(&t, base);
  } else {
    double intra, inter;
    family_network(p->device.gpu, &intra, &inter);
    p3cfg__text_printf(&t, "network:\n  # not measured (one GPU, unused): the %s family's "
                            "datasheet figures;\n  # give --base CLUSTER to keep your "
                            "cluster's network and links\n  intra_node_GBps: %.10g\n"
                            "  inter_node_GBps: %.10g\n",
                        p->device.gpu, intra, inter);
  }
  int rc = p3cfg__text_finish(&t, out);
  if (rc == 0 && (rc = check_loads(out)) != 0) {
    p3cfg__free(out->data);
    out->data = NULL;
    out->len = 0;
  }
  return rc;
}
