/*
 * table_test.c — the GPU profile's shapes, its CSV table and the cluster file it
 * writes: the layer GEMMs of compute_cost.c, preset detection from CUDA device names,
 * the recorded table read back byte for byte, positioned errors for bad tables, and a
 * cluster file that loads and makes the time model run on the measured parameters.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gpufit_fixtures.h"

Test(gpufit, the_standard_set_is_every_layer_gemm_of_both_models)
{
  p3cfg_gpu_profile *p = NULL;
  cr_assert_eq(p3cfg_gpu_profile_new(&p), 0);
  cr_assert_eq(p3cfg_gpu_profile_add_standard(p), 0);
  /* 2 models x 4 tp x 4 token counts x 4 GEMMs x 3 passes, 4 squares, 2 copies */
  cr_assert_eq(p3cfg_gpu_profile_count(p), 2 * 4 * 4 * 4 * 3 + 4 + 2);
  /* Llama 3 70B, tp 8, 2048 tokens: QKV [T x h][h x (h + 2 g d)/t] with GQA */
  int seen = 0;
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    if (strcmp(s->model, "llama3-70b") || s->tp != 8 || s->tokens != 2048)
      continue;
    if (strcmp(s->op, "qkv") == 0 && s->pass == P3CFG_GPU_FWD) {
      cr_assert_eq(s->m, 2048);
      cr_assert_eq(s->n, (8192 + 2 * 1024) / 8);
      cr_assert_eq(s->k, 8192);
      seen++;
    }
    if (strcmp(s->op, "fc1") == 0 && s->pass == P3CFG_GPU_WGRAD) { /* SwiGLU: 2 f / t */
      cr_assert_eq(s->m, 8192);
      cr_assert_eq(s->n, 2 * 28672 / 8);
      cr_assert_eq(s->k, 2048);
      seen++;
    }
    if (strcmp(s->op, "fc2") == 0 && s->pass == P3CFG_GPU_DGRAD) {
      cr_assert_eq(s->m, 2048);
      cr_assert_eq(s->n, 28672 / 8);
      cr_assert_eq(s->k, 8192);
      seen++;
    }
    cr_assert_eq(s->bytes, 2 * (s->m * s->k + s->k * s->n + s->m * s->n));
  }
  cr_assert_eq(seen, 3);
  p3cfg_gpu_profile_free(p);
}

Test(gpufit, model_files_give_their_layers_and_skip_tp_that_does_not_divide)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, P3CFG_SOURCE_DIR "/models/gpt3-175b.yaml", NULL), 0);
  p3cfg_gpu_profile *p = NULL;
  cr_assert_eq(p3cfg_gpu_profile_new(&p), 0);
  const uint32_t tp[] = {1, 5, 8};
  const uint64_t tokens[] = {4096};
  size_t skipped = 9;
  cr_assert_eq(p3cfg_gpu_profile_add_model(p, m, tp, 3, tokens, 1, &skipped), 0);
  cr_assert_eq(skipped, 1);
  cr_assert_eq(p3cfg_gpu_profile_count(p), 2 * 4 * 3);
  const p3cfg_gpu_sample *proj = p3cfg_gpu_profile_sample(p, 12 + 3); /* tp 8 proj fwd */
  cr_assert_str_eq(proj->op, "proj");
  cr_assert_eq(proj->m, 4096);
  cr_assert_eq(proj->n, 12288);
  cr_assert_eq(proj->k, 1536);
  const uint64_t zero[] = {0};
  cr_assert_eq(p3cfg_gpu_profile_add_model(p, m, tp, 3, zero, 1, NULL), P3CFG_EINVALID);
  p3cfg_gpu_profile_free(p);
  p3cfg_model_free(m);
}

static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  char *buf = malloc(1 << 20);
  *len = fread(buf, 1, (1 << 20) - 1, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

Test(gpufit, the_recorded_table_reads_back_byte_for_byte)
{
  p3cfg_gpu_profile *p = fx_load_h200();
  const p3cfg_gpu_device *d = p3cfg_gpu_profile_device(p);
  cr_assert_str_eq(d->name, "NVIDIA H200");
  cr_assert_str_eq(d->gpu, "h200");
  cr_assert_eq(d->peak_flops, 989.4e12);
  cr_assert_eq(d->sm_count, 132);
  cr_assert_eq(d->cc_major, 9);
  cr_assert_eq(d->cc_minor, 0);
  cr_assert_eq(d->cublas_version, 130100);
  cr_assert_eq(p3cfg_gpu_profile_count(p), 390);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_gpu_profile_csv(&b, p), 0);
  size_t len;
  char *file = read_all(FX_H200_CSV, &len);
  cr_assert_eq(b.len, len);
  cr_assert(memcmp(b.data, file, len) == 0);
  free(file);
  p3cfg_buffer_dispose(&b);
  p3cfg_gpu_profile_free(p);
}

static void expect_error(const char *text, int code, int line, int column, const char *words)
{
  p3cfg_gpu_profile *p = (p3cfg_gpu_profile *)1;
  const int rc = p3cfg_gpu_profile_load_csv_string(&p, text, strlen(text), "t.csv");
  const p3cfg_error *e = p3cfg_error_last();
  cr_assert_eq(rc, code, "%s: %s", text, e->message);
  cr_assert_null(p);
  cr_assert_str_eq(e->file, "t.csv");
  cr_assert_eq(e->line, line, "%s: line %d: %s", text, e->line, e->message);
  cr_assert_eq(e->column, column, "%s: column %d: %s", text, e->column, e->message);
  cr_assert(strstr(e->message, words), "%s", e->message);
}

#define ROW0 "kind,model,op,pass,tp,tokens,m,n,k,bytes,median_s,min_s,max_s,reps\n"
#define HEAD "# p3cfg gpu profile 1\n" ROW0

Test(gpufit, bad_tables_are_reported_at_their_position)
{
  expect_error("kind,model\n", P3CFG_ESYNTAX, 1, 1, "not a gpu profile");
  expect_error("# p3cfg gpu profile 1\nkind,model\n", P3CFG_ESYNTAX, 2, 1, "header row");
  expect_error(HEAD "gemm,m,qkv,fwd,1,2\n", P3CFG_ESYNTAX, 3, 19, "expected 14 fields");
  expect_error(HEAD "gemv,m,qkv,fwd,1,2,2,2,2,24,1,1,1,1\n", P3CFG_EVALUE, 3, 1, "gemm or copy");
  expect_error(HEAD "gemm,m,qkv,up,1,2,2,2,2,24,1,1,1,1\n", P3CFG_EVALUE, 3, 12, "pass");
  expect_error(HEAD "gemm,m,qkv,fwd,1,2,2,x,2,24,1,1,1,1\n", P3CFG_EVALUE, 3, 22, "integer");
  expect_error(HEAD "gemm,m,qkv,fwd,1,2,2,2,2,25,1,1,1,1\n", P3CFG_EVALUE, 3, 26, "2 (mk");
  expect_error(HEAD "gemm,m,qkv,fwd,1,2,2,2,2,24,2,1,1,1\n", P3CFG_EVALUE, 3, 29, "min_s");
  expect_error(HEAD "gemm,m,qkv,fwd,1,2,2,2,2,24,-1,1,1,1\n", P3CFG_EVALUE, 3, 29, "seconds");
  expect_error(HEAD "gemm,a b,qkv,fwd,1,2,2,2,2,24,1,1,1,1\n", P3CFG_EVALUE, 3, 6, "character");
  expect_error("# p3cfg gpu profile 1\n# gpu: h200\n" ROW0, P3CFG_EVALUE, 0, 0, "peak_flops");
  expect_error("# p3cfg gpu profile 1\n", P3CFG_ESYNTAX, 1, 1, "no header row");
  p3cfg_gpu_profile *p = NULL;
  cr_assert_eq(p3cfg_gpu_profile_load_csv(&p, "/nonexistent/t.csv"), P3CFG_EIO);
  const char *crlf = HEAD "copy,copy,d2d,fwd,1,0,0,0,0,8,0,0,0,0\r\n";
  cr_assert_eq(p3cfg_gpu_profile_load_csv_string(&p, crlf, strlen(crlf), "t"), 0);
  cr_assert_eq(p3cfg_gpu_profile_count(p), 1);
  p3cfg_gpu_profile_free(p);
}

/* The cluster file loads, carries the fitted numbers, and the time model uses them: an
 * estimate on it is faster than on the preset (whose efficiency is training's). */
Test(gpufit, the_cluster_file_carries_the_fit_into_the_time_model)
{
  p3cfg_gpu_profile *p = fx_load_h200();
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0);
  p3cfg_cluster *base = NULL;
  cr_assert_eq(p3cfg_cluster_load(&base, P3CFG_SOURCE_DIR "/clusters/dgx-h200-8n.yaml", NULL), 0);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_gpu_profile_cluster_yaml(&b, p, &f, base), 0, "%s",
               p3cfg_error_last()->message);
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load_string(&c, b.data, b.len, "gpu.yaml", NULL), 0);
  cr_assert_str_eq(c->gpu.name, "h200");
  fx_close(c->gpu.matmul_efficiency, f.matmul_efficiency, 1e-5);
  fx_close(c->gpu.matmul_half_flops, f.matmul_half_flops, 1e-5);
  fx_close(c->gpu.memory_efficiency, f.memory_efficiency, 1e-5);
  cr_assert_eq(c->nodes, base->nodes);
  cr_assert_eq(c->gpus_per_node, base->gpus_per_node);
  cr_assert_eq(c->inter_Bps, base->inter_Bps);
  fx_close((double)c->gpu.memory_bytes, 150109880320.0, 1e-8); /* what CUDA reported */
  fx_close(c->gpu.peak_fp8_flops, base->gpu.peak_fp8_flops, 1e-9);
  cr_assert(strstr(b.data, "  peak_fp8_tflops: 1978.9\n"), "the FP8 peak is written");

  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, P3CFG_SOURCE_DIR "/models/llama3-70b.yaml", NULL), 0);
  p3cfg_plan plan = P3CFG_PLAN_INIT;
  plan.tp = 8, plan.pp = 4, plan.dp = 2, plan.micro_batch = 1;
  p3cfg_result *measured = NULL, *preset = NULL;
  cr_assert_eq(p3cfg_estimate(&measured, m, c, &plan, NULL), 0, "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_estimate(&preset, m, base, &plan, NULL), 0);
  const double tm = p3cfg_result_time(measured, 0)->compute_s;
  const double tp = p3cfg_result_time(preset, 0)->compute_s;
  /* The h200 preset is this very table's fit, so the two agree; the gpu map's own
   * numbers are the ones used (checked field by field above). */
  cr_assert(fabs(tm - tp) <= 0.01 * tp, "compute %g s measured vs %g s preset", tm, tp);
  p3cfg_result_free(measured);
  p3cfg_result_free(preset);
  p3cfg_model_free(m);
  p3cfg_cluster_free(c);
  p3cfg_buffer_dispose(&b);

  /* Without a base: one GPU, placeholders for the network, still a valid file. */
  cr_assert_eq(p3cfg_gpu_profile_cluster_yaml(&b, p, &f, NULL), 0);
  cr_assert(strstr(b.data, "nodes: 1\ngpus_per_node: 1\n"));
  cr_assert(strstr(b.data, "not measured"));
  p3cfg_buffer_dispose(&b);
  p3cfg_cluster_free(base);
  p3cfg_gpu_profile_free(p);
}

/* The base's low-precision peaks go into the file, a 0 under a preset's name included
 * (without it the file would load with the preset's FP8 peak). */
Test(gpufit, the_cluster_file_carries_the_low_precision_peaks)
{
  p3cfg_gpu_profile *p = fx_load_h200();
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0);
  static const char base_text[] = "name: c\nnodes: 1\ngpus_per_node: 8\n"
                                  "gpu: {name: h200, peak_fp8_tflops: 0}\n"
                                  "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n";
  p3cfg_cluster *base = NULL, *c = NULL;
  cr_assert_eq(p3cfg_cluster_load_string(&base, base_text, strlen(base_text), "b.yaml", NULL), 0);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_gpu_profile_cluster_yaml(&b, p, &f, base), 0, "%s",
               p3cfg_error_last()->message);
  cr_assert(strstr(b.data, "  peak_fp8_tflops: 0\n"), "%s", b.data);
  cr_assert_eq(p3cfg_cluster_load_string(&c, b.data, b.len, "gpu.yaml", NULL), 0);
  cr_expect_eq(c->gpu.peak_fp8_flops, 0);
  p3cfg_cluster_free(c);
  p3cfg_cluster_free(base);
  p3cfg_buffer_dispose(&b);
  p3cfg_gpu_profile_free(p);
}

Test(gpufit, every_allocation_failure_is_reported_and_freed)
{
  size_t len;
  char *text = read_all(FX_H200_CSV, &len);
  int done = 0;
  for (unsigned long n = 1; !done && n < 20000; n++) {
    p3cfg_gpu_profile *p = NULL;
    p3cfg_buffer b = {0}, y = {0};
    p3cfg_gpu_fit f;
    p3cfg_test_fail_alloc_after(n);
    int rc = p3cfg_gpu_profile_load_csv_string(&p, text, len, "h200.csv");
    if (rc == 0)
      rc = p3cfg_gpu_profile_fit(&f, p);
    if (rc == 0)
      rc = p3cfg_gpu_profile_report(&b, p, &f, 1);
    if (rc == 0)
      rc = p3cfg_gpu_profile_cluster_yaml(&y, p, &f, NULL);
    p3cfg_test_fail_alloc_after(0);
    cr_assert(rc == 0 || rc == P3CFG_ENOMEM, "allocation %lu: rc %d", n, rc);
    done = rc == 0;
    p3cfg_buffer_dispose(&b);
    p3cfg_buffer_dispose(&y);
    p3cfg_gpu_profile_free(p);
  }
  cr_assert(done);
  free(text);
}
