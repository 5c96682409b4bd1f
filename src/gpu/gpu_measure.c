/*
 * gpu_measure.c — p3cfg_gpu_measure: time a GPU profile's kernels on one CUDA device.
 *
 * GEMMs run through cublasGemmEx with bf16 operands and output, fp32 compute
 * (CUBLAS_COMPUTE_32F) and cuBLAS's default algorithm choice, which uses the tensor
 * cores: what Megatron-LM's linear layers call through PyTorch. The layouts are
 * nn.Linear's in column-major terms (row-major X[T x in], W[out x in]): forward
 * Y^T = W^T·X^T ("TN"), data gradient dX^T = W^T·dY^T ("NN"), weight gradient
 * dW^T = X^T·dY ("NT"). The bandwidth probe is cudaMemcpyAsync device to device, which
 * reads and writes every byte once.
 *
 * First the largest GEMM runs for `settle_s` seconds: a cold GPU runs at its top clocks
 * until the power limit brings them down within a second or so, and the first shapes
 * timed would otherwise look faster than the rest (and than training, which runs hot).
 * Then each kernel runs `warmup` times untimed, then `reps` times back to back with an event
 * between every two launches and one synchronisation at the end: the host stays ahead
 * of the GPU, so each interval is one kernel as it runs inside a busy stream (as in
 * training), launch gaps excluded. The median of the intervals is kept. Operands are
 * filled once with random bf16 values in [-1, 1]: all-zero operands draw less power and
 * run faster than real data.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "gpu_cuda.h"
#include "gpu_presets.h"
#include "gpufit.h"

/* Bytes of random data copied from the host; the rest of a buffer is doubled on the
 * device. */
#define SEED_BYTES (16u << 20)

typedef struct run {
  const p3cfg__cuda *c;
  cublasHandle_t blas;
  void *buf[3];       /* A, B, C operands; copies use the first two */
  size_t buf_bytes;
  cudaEvent_t *events; /* reps + 1 */
  uint32_t warmup, reps;
  float *ms;          /* reps intervals */
} run;

static int cuda_fail(const run *r, cudaError_t e, const char *what)
{
  char d[256];
  p3cfg__cuda_describe(d, sizeof d, r->c, e);
  return p3cfg__error_set(P3CFG_EINTERNAL, "%s failed: %s", what, d);
}

static int blas_fail(const run *r, cublasStatus_t s, const p3cfg_gpu_sample *smp)
{
  return p3cfg__error_set(P3CFG_EINTERNAL,
                          "cublasGemmEx failed on %s %s %s (m %llu, n %llu, k %llu): %s",
                          smp->model, smp->op, p3cfg__gpu_pass_name(smp->pass),
                          (unsigned long long)smp->m, (unsigned long long)smp->n,
                          (unsigned long long)smp->k, p3cfg__cublas_describe(r->c, s));
}

/* Describe device `dev` into p->device and pick the reference gpu when none is set. */
static int describe(p3cfg_gpu_profile *p, const run *r, int dev)
{
  struct cudaDeviceProp prop;
  cudaError_t e = r->c->GetDeviceProperties(&prop, dev);
  if (e != cudaSuccess)
    return cuda_fail(r, e, "cudaGetDeviceProperties");
  p3cfg_gpu_device *d = &p->device;
  prop.name[sizeof d->name - 1] = '\0'; /* CUDA allows 256 bytes; names are short */
  memcpy(d->name, prop.name, sizeof d->name);
  d->memory_bytes = (uint64_t)prop.totalGlobalMem;
  d->sm_count = (uint32_t)prop.multiProcessorCount;
  d->cc_major = (uint32_t)prop.major;
  d->cc_minor = (uint32_t)prop.minor;
  int v = 0;
  if (r->c->DeviceGetAttribute(&v, cudaDevAttrClockRate, dev) == cudaSuccess && v > 0)
    d->clock_MHz = (uint32_t)(v / 1000);
  r->c->DriverGetVersion(&d->driver_version);
  r->c->RuntimeGetVersion(&d->runtime_version);
  time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm))
    strftime(d->date, sizeof d->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (d->gpu[0])
    return P3CFG_OK;
  const p3cfg_gpu *g = p3cfg__gpu_preset_identify(d->name, d->memory_bytes);
  if (!g)
    return p3cfg__error_set(P3CFG_EVALUE,
                            "no gpu preset matches '%s': name the gpu to compare it to (a "
                            "preset, or a base cluster's gpu with its peak and bandwidth)",
                            d->name);
  snprintf(d->gpu, sizeof d->gpu, "%s", g->name);
  d->peak_flops = g->peak_flops;
  d->hbm_Bps = g->hbm_Bps;
  return P3CFG_OK;
}

/* Largest operand (elements) of any GEMM and largest copy (bytes) of the profile. */
static size_t buffer_bytes(const p3cfg_gpu_profile *p)
{
  uint64_t most = 0;
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    uint64_t b;
    if (s->kind == P3CFG_GPU_COPY) {
      b = s->bytes / 2;
    } else {
      const uint64_t mk = s->m * s->k, kn = s->k * s->n, mn = s->m * s->n;
      b = 2 * (mk > kn ? (mk > mn ? mk : mn) : (kn > mn ? kn : mn));
    }
    if (b > most)
      most = b;
  }
  return (size_t)((most + 255) / 256 * 256);
}

/* Random bf16 in [-1, 1] (the upper half of a float), then doubled on the device. */
static int fill(const run *r)
{
  const size_t seed = r->buf_bytes < SEED_BYTES ? r->buf_bytes : SEED_BYTES;
  uint16_t *host = p3cfg__malloc(seed);
  if (!host)
    return p3cfg__error_nomem();
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < seed / 2; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    float f = (float)((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    host[i] = (uint16_t)(bits >> 16);
  }
  int rc = P3CFG_OK;
  for (int b = 0; b < 3 && rc == 0; b++) {
    char *dst = r->buf[b];
    cudaError_t e = r->c->Memcpy(dst, host, seed, cudaMemcpyHostToDevice);
    for (size_t done = seed; e == cudaSuccess && done < r->buf_bytes;) {
      const size_t n = done < r->buf_bytes - done ? done : r->buf_bytes - done;
      e = r->c->Memcpy(dst + done, dst, n, cudaMemcpyDeviceToDevice);
      done += n;
    }
    if (e != cudaSuccess)
      rc = cuda_fail(r, e, "filling the operands");
  }
  p3cfg__free(host);
  return rc;
}

static cublasStatus_t gemm(const run *r, const p3cfg_gpu_sample *s)
{
  static const float one = 1.0f, zero = 0.0f;
  const int m = (int)s->m, n = (int)s->n, k = (int)s->k;
  void *a = r->buf[0], *b = r->buf[1], *c = r->buf[2];
  switch (s->pass) {
  case P3CFG_GPU_DGRAD: /* dX^T[in x T] = W^T[in x out] dY^T[out x T]: n = in, k = out */
    return r->c->GemmEx(r->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, a, CUDA_R_16BF, n, b,
                        CUDA_R_16BF, k, &zero, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT);
  case P3CFG_GPU_WGRAD: /* dW^T[in x out] = X^T[in x T] dY[T x out]: m = in, k = T */
    return r->c->GemmEx(r->blas, CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, &one, a, CUDA_R_16BF, m, b,
                        CUDA_R_16BF, n, &zero, c, CUDA_R_16BF, m, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT);
  case P3CFG_GPU_FWD: /* Y^T[out x T] = W[out x in] X^T[in x T]: n = out, k = in */
  default:
    return r->c->GemmEx(r->blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, a, CUDA_R_16BF, k, b,
                        CUDA_R_16BF, k, &zero, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT);
  }
}

/* One launch of sample s. */
static int launch(const run *r, const p3cfg_gpu_sample *s)
{
  if (s->kind == P3CFG_GPU_COPY) {
    cudaError_t e =
        r->c->MemcpyAsync(r->buf[1], r->buf[0], (size_t)(s->bytes / 2), cudaMemcpyDeviceToDevice, 0);
    return e == cudaSuccess ? P3CFG_OK : cuda_fail(r, e, "cudaMemcpyAsync");
  }
  cublasStatus_t st = gemm(r, s);
  return st == CUBLAS_STATUS_SUCCESS ? P3CFG_OK : blas_fail(r, st, s);
}

static int cmp_float(const void *a, const void *b)
{
  const float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static int time_sample(const run *r, p3cfg_gpu_sample *s)
{
  int rc;
  for (uint32_t i = 0; i < r->warmup; i++)
    if ((rc = launch(r, s)) != 0)
      return rc;
  cudaError_t e = cudaSuccess;
  for (uint32_t i = 0; i < r->reps && e == cudaSuccess; i++) {
    if ((e = r->c->EventRecord(r->events[i], 0)) != cudaSuccess)
      break;
    if ((rc = launch(r, s)) != 0)
      return rc;
  }
  if (e == cudaSuccess)
    e = r->c->EventRecord(r->events[r->reps], 0);
  if (e == cudaSuccess)
    e = r->c->EventSynchronize(r->events[r->reps]);
  for (uint32_t i = 0; i < r->reps && e == cudaSuccess; i++)
    e = r->c->EventElapsedTime(&r->ms[i], r->events[i], r->events[i + 1]);
  if (e != cudaSuccess)
    return cuda_fail(r, e, "timing with CUDA events");
  qsort(r->ms, r->reps, sizeof *r->ms, cmp_float);
  const uint32_t h = r->reps / 2;
  const double med = r->reps % 2 ? r->ms[h] : 0.5 * ((double)r->ms[h - 1] + (double)r->ms[h]);
  s->median_s = med * 1e-3;
  s->min_s = (double)r->ms[0] * 1e-3;
  s->max_s = (double)r->ms[r->reps - 1] * 1e-3;
  s->reps = r->reps;
  return P3CFG_OK;
}

/* Run the GEMM with the most FLOPs back to back for `seconds`, in batches of 10 between
 * synchronisations (so that the queue never holds more than a few hundred ms). */
static int settle(const run *r, const p3cfg_gpu_profile *p, double seconds)
{
  const p3cfg_gpu_sample *big = NULL;
  double most = 0.0;
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    const double f = (double)s->m * (double)s->n * (double)s->k;
    if (s->kind == P3CFG_GPU_GEMM && f > most)
      big = s, most = f;
  }
  if (!big || !(seconds > 0.0))
    return P3CFG_OK;
  const double end = p3cfg__monotonic_s() + seconds;
  int rc;
  do {
    for (int i = 0; i < 10; i++)
      if ((rc = launch(r, big)) != 0)
        return rc;
    cudaError_t e = r->c->EventRecord(r->events[0], 0);
    if (e == cudaSuccess)
      e = r->c->EventSynchronize(r->events[0]);
    if (e != cudaSuccess)
      return cuda_fail(r, e, "settling the clocks");
  } while (p3cfg__monotonic_s() < end);
  return P3CFG_OK;
}

/* Load CUDA, pick and describe the device, create the cuBLAS handle. */
static int open_device(run *r, p3cfg_gpu_profile *p, int dev)
{
  char why[600];
  if (!(r->c = p3cfg__cuda_load(why, sizeof why)))
    return p3cfg__error_set(P3CFG_ENOTFOUND, "no CUDA device: %s", why);
  int count = 0;
  cudaError_t e = r->c->GetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver && !p3cfg__cuda_driver_present())
    return p3cfg__error_set(P3CFG_ENOTFOUND,
                            "no CUDA device: no NVIDIA driver on this machine (libcuda.so.1 "
                            "not found)");
  if (e != cudaSuccess) {
    p3cfg__cuda_describe(why, sizeof why, r->c, e);
    return p3cfg__error_set(P3CFG_ENOTFOUND, "no CUDA device: %s", why);
  }
  if (count <= 0)
    return p3cfg__error_set(P3CFG_ENOTFOUND, "no CUDA device: the driver sees no GPU");
  if (dev < 0 || dev >= count)
    return p3cfg__error_set(P3CFG_ENOTFOUND, "no CUDA device %d: this machine has %d (0..%d)",
                            dev, count, count - 1);
  if ((e = r->c->SetDevice(dev)) != cudaSuccess) {
    p3cfg__cuda_describe(why, sizeof why, r->c, e);
    return p3cfg__error_set(P3CFG_ENOTFOUND, "no CUDA device: cannot use device %d: %s", dev,
                            why);
  }
  int rc = describe(p, r, dev);
  if (rc != 0)
    return rc;
  cublasStatus_t st = r->c->Create(&r->blas);
  if (st != CUBLAS_STATUS_SUCCESS)
    return p3cfg__error_set(P3CFG_ENOTFOUND, "no CUDA device: cublasCreate failed: %s",
                            p3cfg__cublas_describe(r->c, st));
  int v = 0;
  if (r->c->GetVersion(r->blas, &v) == CUBLAS_STATUS_SUCCESS)
    p->device.cublas_version = v;
  return P3CFG_OK;
}

/* Operands and events. */
static int allocate(run *r, const p3cfg_gpu_profile *p)
{
  r->buf_bytes = buffer_bytes(p);
  size_t free_b = 0, total_b = 0;
  r->c->MemGetInfo(&free_b, &total_b);
  for (int b = 0; b < 3; b++) {
    cudaError_t e = r->c->Malloc(&r->buf[b], r->buf_bytes);
    if (e != cudaSuccess) {
      r->buf[b] = NULL;
      return p3cfg__error_set(P3CFG_ENOMEM,
                              "the GPU has no room for the largest shape: 3 operands of %.2f "
                              "GiB, %.2f GiB were free",
                              (double)r->buf_bytes / 1073741824.0, (double)free_b / 1073741824.0);
    }
  }
  r->events = p3cfg__calloc(r->reps + 1, sizeof *r->events);
  r->ms = p3cfg__calloc(r->reps, sizeof *r->ms);
  if (!r->events || !r->ms)
    return p3cfg__error_nomem();
  for (uint32_t i = 0; i <= r->reps; i++) {
    cudaError_t e = r->c->EventCreate(&r->events[i]);
    if (e != cudaSuccess) {
      r->events[i] = NULL;
      return cuda_fail(r, e, "cudaEventCreate");
    }
  }
  return fill(r);
}

static void release(run *r)
{
  if (!r->c)
    return;
  r->c->DeviceSynchronize();
  if (r->events)
    for (uint32_t i = 0; i <= r->reps; i++)
      if (r->events[i])
        r->c->EventDestroy(r->events[i]);
  for (int b = 0; b < 3; b++)
    if (r->buf[b])
      r->c->Free(r->buf[b]);
  if (r->blas)
    r->c->Destroy(r->blas);
  p3cfg__free(r->events);
  p3cfg__free(r->ms);
}

P3CFG_API int p3cfg_gpu_measure(p3cfg_gpu_profile *p, const p3cfg_gpu_measure_options *opts)
{
  p3cfg__error_clear();
  p3cfg_gpu_measure_options o = P3CFG_GPU_MEASURE_OPTIONS_INIT;
  if (opts)
    o = *opts;
  if (!p)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_measure: NULL profile");
  if (o.version != P3CFG_GPU_MEASURE_OPTIONS_VERSION || o.reps < 1 || o.reps > 10000 ||
      o.warmup > 10000 || !(o.settle_s >= 0.0 && o.settle_s <= 3600.0))
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_measure: bad options (reps %u, warmup %u)",
                            o.reps, o.warmup);
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    if (s->m > INT_MAX || s->n > INT_MAX || s->k > INT_MAX)
      return p3cfg__error_set(P3CFG_EINVALID, "GEMM %s %s too large for cuBLAS", s->model, s->op);
  }
  run r;
  memset(&r, 0, sizeof r);
  r.warmup = o.warmup;
  r.reps = o.reps;
  int rc = open_device(&r, p, o.device);
  if (rc == 0 && p->count > 0)
    rc = allocate(&r, p);
  if (rc == 0)
    rc = settle(&r, p, o.settle_s);
  for (size_t i = 0; rc == 0 && i < p->count; i++) {
    rc = time_sample(&r, &p->samples[i]);
    if (rc == 0 && o.progress)
      o.progress(o.progress_payload, (uint32_t)(i + 1), (uint32_t)p->count);
  }
  release(&r);
  return rc;
}
