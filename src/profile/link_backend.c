/*
 * link_backend.c — the parts of the link backends that need no MPI call: the backend
 * names of the public API, the sender's sweep of message sizes (the same rules as
 * pingpong.c's, driven by a callback that times one window), the all-reduce bus
 * bandwidth and the choice of a rank's GPU. Unit-tested in tests/profile without MPI or
 * a GPU.
 */
#include "link_backend.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "link_fit.h"

static const char *const names[] = {
    [P3CFG_PROFILE_BACKEND_MPI] = "mpi", [P3CFG_PROFILE_BACKEND_NCCL] = "nccl"};

P3CFG_API const char *p3cfg_profile_backend_name(p3cfg_profile_backend backend)
{
  if ((unsigned)backend >= sizeof names / sizeof names[0])
    return NULL;
  return names[backend];
}

P3CFG_API int p3cfg_profile_backend_from_name(p3cfg_profile_backend *out, const char *name)
{
  p3cfg__error_clear();
  if (!out || !name)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_backend_from_name: NULL argument");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (p3cfg_profile_backend)i;
      return 0;
    }
  return p3cfg__error_set(P3CFG_EINVALID, "unknown backend '%.64s' (known: mpi, nccl)", name);
}

int p3cfg__sweep_direction(p3cfg__direction *out, const p3cfg__measure_plan *plan,
                           p3cfg__window_fn window, void *ctx, double (*now)(void))
{
  double bytes[P3CFG__MAX_SIZES], times[P3CFG__MAX_SIZES];
  double samples[P3CFG__MAX_BANDWIDTH_REPS];
  uint32_t n_points = 0;
  int scaled = 0, rc;
  const double start = now();
  double last_t = 0.0;
  for (uint32_t k = 0; k < plan->n_sizes && !scaled; k++) {
    const uint64_t size = plan->sizes[k];
    const uint32_t warm = (k == 0) ? plan->warmup : 0;
    uint32_t got = 0;
    for (uint32_t i = 0; i < warm + plan->bandwidth_reps; i++) {
      /* The next window takes about as long as the last one of this size, or 4x the
       * last one of the previous size; stop before it would overrun the allowance,
       * once one window has been timed. */
      const double predicted = (i == 0) ? 4.0 * last_t : last_t;
      if ((n_points > 0 || got > 0) && now() - start + predicted > plan->allowance_s) {
        scaled = 1;
        break;
      }
      double t = 0.0;
      if ((rc = window(&t, ctx, size)) != 0)
        return rc;
      last_t = t;
      if (i >= warm)
        samples[got++] = t;
    }
    if (got > 0) {
      bytes[n_points] = (double)plan->window * (double)size;
      times[n_points] = p3cfg__quantile(samples, got, 0.25);
      n_points++;
    }
    if (n_points >= 2 && times[n_points - 1] >= plan->target_s)
      break;
  }
  p3cfg__fit fit;
  if (p3cfg__fit_bandwidth(&fit, bytes, times, n_points) != 0)
    return p3cfg__error_set(P3CFG_EINTERNAL, "no bandwidth window was timed");
  out->Bps = fit.Bps;
  if (scaled)
    out->flags |= P3CFG__LINK_SCALED;
  if (fit.one_point)
    out->flags |= P3CFG__LINK_ONE_POINT;
  return 0;
}

double p3cfg__allreduce_busbw(uint64_t bytes, double t_s, uint32_t n)
{
  if (n < 2 || !(t_s > 0.0))
    return 0.0;
  return (double)bytes / t_s * (2.0 * (n - 1) / n);
}

int p3cfg__nccl_device_of(uint32_t local, int visible)
{
  if (visible == 1)
    return 0;
  if (visible < 1 || local >= (uint32_t)visible)
    return -1;
  return (int)local;
}

void p3cfg__nccl_version_text(char *buf, size_t len, int code)
{
  if (code >= 10000)
    snprintf(buf, len, "NCCL %d.%d.%d", code / 10000, code / 100 % 100, code % 100);
  else if (code > 0)
    snprintf(buf, len, "NCCL %d.%d.%d", code / 1000, code / 100 % 10, code % 100);
  else
    snprintf(buf, len, "NCCL (version unknown)");
}
