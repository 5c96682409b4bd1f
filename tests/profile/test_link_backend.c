/*
 * test_link_backend.c — the MPI-free parts of the link backends (link_backend.c): the
 * backend names of the public API, the sender's size sweep against a modelled link,
 * NCCL's bus bandwidth and version text, the GPU each rank takes, and what an NCCL
 * profile adds to the summary and the cluster file (the all-reduce within each host, a
 * lone rank's loop to itself) without breaking the file format.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_backend.h"
#include "pair_schedule.h"
#include "profile_types.h"

/* ---- names ----------------------------------------------------------------------------- */

Test(backend, names_round_trip)
{
  p3cfg_profile_backend b = P3CFG_PROFILE_BACKEND_NCCL;
  cr_assert_eq(p3cfg_profile_backend_from_name(&b, "mpi"), 0);
  cr_assert_eq(b, P3CFG_PROFILE_BACKEND_MPI);
  cr_assert_eq(p3cfg_profile_backend_from_name(&b, "nccl"), 0);
  cr_assert_eq(b, P3CFG_PROFILE_BACKEND_NCCL);
  cr_assert_str_eq(p3cfg_profile_backend_name(P3CFG_PROFILE_BACKEND_MPI), "mpi");
  cr_assert_str_eq(p3cfg_profile_backend_name(P3CFG_PROFILE_BACKEND_NCCL), "nccl");
  cr_assert_null(p3cfg_profile_backend_name((p3cfg_profile_backend)7));
}

Test(backend, unknown_names_are_refused)
{
  p3cfg_profile_backend b = P3CFG_PROFILE_BACKEND_NCCL;
  const char *bad[] = {"NCCL", "gloo", "", "nccl "};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(p3cfg_profile_backend_from_name(&b, bad[i]), P3CFG_EINVALID, "%s", bad[i]);
    cr_assert(strstr(p3cfg_error_last()->message, "known: mpi, nccl"));
  }
  cr_assert_eq(b, P3CFG_PROFILE_BACKEND_NCCL, "left unchanged on error");
  cr_assert_eq(p3cfg_profile_backend_from_name(&b, NULL), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_profile_backend_from_name(NULL, "mpi"), P3CFG_EINVALID);
}

Test(backend, options_default_to_mpi)
{
  p3cfg_profile_options o;
  memset(&o, 0xff, sizeof o);
  p3cfg_profile_options_init(&o);
  cr_assert_eq(o.version, 2);
  cr_assert_eq(o.backend, P3CFG_PROFILE_BACKEND_MPI);
}

/* ---- bus bandwidth and versions ------------------------------------------------------ */

Test(backend, allreduce_bus_bandwidth)
{
  /* nccl-tests: busbw = algbw * 2(n-1)/n. */
  cr_assert_float_eq(p3cfg__allreduce_busbw(1000000000ull, 1.0, 8), 1.75e9, 1e-3);
  cr_assert_float_eq(p3cfg__allreduce_busbw(1000000000ull, 0.5, 2), 2e9, 1e-3);
  cr_assert_float_eq(p3cfg__allreduce_busbw(256ull << 20, 1e-3, 4), 268435456e3 * 1.5, 1.0);
  cr_assert_eq(p3cfg__allreduce_busbw(1u << 20, 1e-3, 1), 0.0, "one rank moves nothing");
  cr_assert_eq(p3cfg__allreduce_busbw(1u << 20, 0.0, 8), 0.0);
  cr_assert_eq(p3cfg__allreduce_busbw(1u << 20, NAN, 8), 0.0);
}

Test(backend, nccl_version_text)
{
  char v[48];
  p3cfg__nccl_version_text(v, sizeof v, 22809);
  cr_assert_str_eq(v, "NCCL 2.28.9");
  p3cfg__nccl_version_text(v, sizeof v, 21903);
  cr_assert_str_eq(v, "NCCL 2.19.3");
  p3cfg__nccl_version_text(v, sizeof v, 2708); /* before 2.9: X*1000+Y*100+Z */
  cr_assert_str_eq(v, "NCCL 2.7.8");
  p3cfg__nccl_version_text(v, sizeof v, 0);
  cr_assert_str_eq(v, "NCCL (version unknown)");
}

Test(backend, nccl_device_of_a_rank)
{
  /* One visible device (CUDA_VISIBLE_DEVICES of one GPU per rank): device 0 for all. */
  for (uint32_t local = 0; local < 8; local++)
    cr_assert_eq(p3cfg__nccl_device_of(local, 1), 0, "local %u", local);
  /* All of the host's GPUs visible: the local index. */
  for (uint32_t local = 0; local < 8; local++)
    cr_assert_eq(p3cfg__nccl_device_of(local, 8), (int)local, "local %u", local);
  /* More ranks on the host than devices, or none visible: refused. */
  cr_assert_eq(p3cfg__nccl_device_of(2, 2), -1);
  cr_assert_eq(p3cfg__nccl_device_of(8, 4), -1);
  cr_assert_eq(p3cfg__nccl_device_of(UINT32_MAX, 4), -1);
  cr_assert_eq(p3cfg__nccl_device_of(0, 0), -1);
  cr_assert_eq(p3cfg__nccl_device_of(0, -1), -1);
}

/* ---- the sweep ----------------------------------------------------------------------- */

/* A modelled link: a window of W * size bytes takes fixed_s + W * size / Bps; the
 * clock advances by each window's time. */
typedef struct model {
  double fixed_s, Bps, clock_s;
  uint32_t window, calls, fail_at;
  uint64_t last_size;
} model;

static model *current;

static double model_now(void)
{
  return current->clock_s;
}

static int model_window(double *t_s, void *ctx, uint64_t size)
{
  model *m = ctx;
  if (++m->calls == m->fail_at)
    return P3CFG_EMPI;
  /* Every third window is disturbed (slower): the 25th percentile ignores it. */
  const double t = m->fixed_s + (double)m->window * (double)size / m->Bps;
  *t_s = (m->calls % 3 == 0) ? 1.5 * t : t;
  m->clock_s += *t_s;
  m->last_size = size;
  return 0;
}

static p3cfg__measure_plan plan_of(uint32_t window)
{
  p3cfg__measure_plan p;
  memset(&p, 0, sizeof p);
  p.latency_reps = 20;
  p.warmup = 2;
  p.bandwidth_reps = 5;
  p.window = window;
  for (uint64_t s = 64u << 10; s <= (4u << 20); s *= 4)
    p.sizes[p.n_sizes++] = s;
  p.target_s = 0.1;
  p.allowance_s = 24.0;
  return p;
}

Test(sweep, recovers_the_link_bandwidth)
{
  model m = {20e-6, 300e9, 0.0, 8, 0, 0, 0}; /* NVLink-like: 300 GB/s, 20 us fixed */
  current = &m;
  p3cfg__measure_plan p = plan_of(8);
  p3cfg__direction d = {0.0, 0.0, 0};
  cr_assert_eq(p3cfg__sweep_direction(&d, &p, model_window, &m, model_now), 0);
  cr_assert(fabs(d.Bps - 300e9) < 0.01 * 300e9, "%g", d.Bps);
  cr_assert_eq(d.flags, 0);
  cr_assert_eq(m.calls, 2 + 4 * 5, "warm-up + 5 windows for each of 4 sizes");
  cr_assert_eq(m.last_size, 4u << 20);
}

Test(sweep, stops_at_the_target_and_at_the_allowance)
{
  model slow = {1e-3, 0.05e9, 0.0, 8, 0, 0, 0}; /* 50 MB/s: 8 x 1 MiB take 0.17 s */
  current = &slow;
  p3cfg__measure_plan p = plan_of(8);
  p3cfg__direction d = {0.0, 0.0, 0};
  cr_assert_eq(p3cfg__sweep_direction(&d, &p, model_window, &slow, model_now), 0);
  cr_assert_eq(slow.last_size, 1u << 20, "larger sizes are skipped");
  cr_assert(fabs(d.Bps - 0.05e9) < 0.02 * 0.05e9, "%g", d.Bps);

  model tight = {1e-3, 0.05e9, 0.0, 8, 0, 0, 0};
  current = &tight;
  p.allowance_s = 0.05; /* room for a few windows of the first size only */
  d = (p3cfg__direction){0.0, 0.0, 0};
  cr_assert_eq(p3cfg__sweep_direction(&d, &p, model_window, &tight, model_now), 0);
  cr_assert(d.flags & P3CFG__LINK_SCALED);
  cr_assert(d.flags & P3CFG__LINK_ONE_POINT);
  cr_assert_gt(d.Bps, 0.0);
}

Test(sweep, a_failed_window_ends_it)
{
  model m = {20e-6, 300e9, 0.0, 8, 0, 4, 0};
  current = &m;
  p3cfg__measure_plan p = plan_of(8);
  p3cfg__direction d = {0.0, 0.0, 0};
  cr_assert_eq(p3cfg__sweep_direction(&d, &p, model_window, &m, model_now), P3CFG_EMPI);
  cr_assert_eq(m.calls, 4);
}

/* ---- an NCCL profile in the summary and the file ------------------------------------- */

static p3cfg_profile_result *nccl_result(uint32_t hosts, uint32_t per_host)
{
  const uint32_t n = hosts * per_host;
  p3cfg_profile_result *r = p3cfg__profile_result_new(n, hosts);
  cr_assert_not_null(r);
  r->per_host = per_host;
  for (uint32_t h = 0; h < hosts; h++)
    snprintf(r->hosts[h].name, sizeof r->hosts[h].name, "gpu%u", h);
  for (uint32_t i = 0; i < n; i++) {
    r->rank_host[i] = i / per_host;
    r->rank_local[i] = i % per_host;
  }
  for (uint32_t a = 0; a < n; a++)
    for (uint32_t b = 0; b < n; b++)
      if (a != b) {
        const int same = r->rank_host[a] == r->rank_host[b];
        r->bw_Bps[a * n + b] = same ? 360e9 : 45e9;
        r->lat_s[a * n + b] = same ? 12e-6 : 25e-6;
      }
  r->name = strdup("nccl");
  snprintf(r->gpu.name, sizeof r->gpu.name, "h100-sxm");
  r->gpu_is_preset = 1;
  r->rounds = p3cfg__schedule_rounds(n);
  r->steps = r->rounds;
  r->link_backend = P3CFG_PROFILE_BACKEND_NCCL;
  snprintf(r->backend, sizeof r->backend, "NCCL 2.28.9 send/recv, device buffers");
  snprintf(r->backend_note, sizeof r->backend_note, "rank 0's GPU: NVIDIA H100 80GB HBM3");
  snprintf(r->mpi_library, sizeof r->mpi_library, "test MPI");
  r->latency_reps = 20;
  r->bandwidth_reps = 5;
  r->window = 8;
  r->min_bytes = 65536;
  r->max_bytes = 4u << 20;
  r->allreduce_Bps = calloc(hosts, sizeof *r->allreduce_Bps);
  r->allreduce_alg_Bps = calloc(hosts, sizeof *r->allreduce_alg_Bps);
  for (uint32_t h = 0; h < hosts; h++) {
    r->allreduce_alg_Bps[h] = 200e9 + 1e9 * h;
    r->allreduce_Bps[h] = p3cfg__allreduce_busbw(1, 1.0 / r->allreduce_alg_Bps[h], per_host);
  }
  r->allreduce_max_bytes = 256u << 20;
  cr_assert_eq(p3cfg__profile_finish(r), 0);
  return r;
}

Test(nccl_result, summary_and_file_say_how_it_was_measured)
{
  p3cfg_profile_result *r = nccl_result(2, 4);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_profile_summary(&b, r), 0, "%s", p3cfg_error_last()->message);
  cr_assert(strstr(b.data, "measured with: NCCL 2.28.9 send/recv, device buffers (start-up and "
                           "control messages over test MPI)\nrank 0's GPU: NVIDIA H100"),
            "%s", b.data);
  cr_assert(strstr(b.data, "all-reduce within each host (NCCL, float sum, 1 MiB to 256 MiB"), "%s",
            b.data);
  cr_assert(strstr(b.data, "  gpu1  4 GPUs  bus bandwidth 301.5 GB/s  (algorithm 201 GB/s)"), "%s",
            b.data);
  p3cfg_buffer_dispose(&b);

  cr_assert_eq(p3cfg_profile_cluster_yaml(&b, r), 0, "%s", p3cfg_error_last()->message);
  cr_assert(strstr(b.data, "# measured with: NCCL 2.28.9 send/recv, device buffers\n"));
  cr_assert(strstr(b.data, "# all-reduce within each host (NCCL"), "comments carry it");
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load_string(&c, b.data, b.len, "nccl", NULL), 0, "%s",
               p3cfg_error_last()->message);
  cr_assert_eq(c->links.n, 8);
  cr_assert(fabs(c->intra_Bps - 360e9) < 1e6);
  p3cfg_cluster_free(c);
  p3cfg_buffer_dispose(&b);
  p3cfg_profile_result_free(r);
}

Test(nccl_result, one_rank_uses_its_loop_to_itself)
{
  p3cfg_profile_result *r = nccl_result(1, 1);
  r->self_Bps = 1500e9;
  r->self_lat_s = 8e-6;
  cr_assert_eq(p3cfg__profile_finish(r), 0);
  double Bps = 0.0, lat = 0.0;
  cr_assert_eq(p3cfg_profile_link(&Bps, &lat, r, 0, 0), 0);
  cr_assert_eq(Bps, 1500e9);
  cr_assert_eq(lat, 8e-6);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_profile_summary(&b, r), 0);
  cr_assert(strstr(b.data, "one rank: its GPU's send/recv to itself 1500 GB/s, latency 8 us"), "%s",
            b.data);
  cr_assert(strstr(b.data, "1 GPU   no bus bandwidth with one GPU (a local copy at 200 GB/s)"),
            "%s", b.data);
  p3cfg_buffer_dispose(&b);
  cr_assert_eq(p3cfg_profile_cluster_yaml(&b, r), 0, "%s", p3cfg_error_last()->message);
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load_string(&c, b.data, b.len, "one", NULL), 0, "%s\n%s",
               p3cfg_error_last()->message, b.data);
  cr_assert_eq(c->nodes, 1);
  cr_assert_eq(c->gpus_per_node, 1);
  cr_assert(fabs(c->links.bandwidth_Bps[0] - 1500e9) < 1e6);
  p3cfg_cluster_free(c);
  p3cfg_buffer_dispose(&b);
  p3cfg_profile_result_free(r);
}
