/*
 * topk.c — a bounded max-heap of scored plans. Admission is one comparison against the
 * worst kept plan, so the search pays for a plan copy only when it really enters.
 */
#include "topk.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "plan_dims.h"

static int cmp_u32(uint32_t a, uint32_t b) { return (a > b) - (a < b); }

int p3cfg__scored_cmp(const p3cfg_plan *pa, const p3cfg_time *ta, const p3cfg_plan *pb,
                      const p3cfg_time *tb)
{
  if (ta->iteration_s != tb->iteration_s)
    return ta->iteration_s < tb->iteration_s ? -1 : 1;
  /* Ties: prefer simpler plans — less model parallelism, no recompute, larger
   * micro-batches last — then the remaining fields, then the split. */
  int c;
  if ((c = cmp_u32(pa->pp, pb->pp)) || (c = cmp_u32(pa->tp, pb->tp)) ||
      (c = cmp_u32(pa->dp, pb->dp)) || (c = cmp_u32(pa->virtual_stages, pb->virtual_stages)) ||
      (c = cmp_u32((uint32_t)pa->recompute, (uint32_t)pb->recompute)) ||
      (c = cmp_u32((uint32_t)pa->sequence_parallel, (uint32_t)pb->sequence_parallel)) ||
      (c = cmp_u32(pa->zero_stage, pb->zero_stage)) ||
      (c = cmp_u32(pa->micro_batch, pb->micro_batch)) || (c = cmp_u32(pa->overlap, pb->overlap)) ||
      (c = cmp_u32(p3cfg__plan_cp(pa), p3cfg__plan_cp(pb))) ||
      (c = cmp_u32(p3cfg__plan_ep(pa), p3cfg__plan_ep(pb))) ||
      (c = cmp_u32(p3cfg__plan_etp(pa), p3cfg__plan_etp(pb))) ||
      (c = cmp_u32(pa->framework, pb->framework)) ||
      (c = cmp_u32(p3cfg__plan_dp_shard(pa), p3cfg__plan_dp_shard(pb))) ||
      (c = cmp_u32(pa->compile, pb->compile)) ||
      (c = cmp_u32(pa->recompute_modules, pb->recompute_modules)))
    return c;
  if (pa->global_batch != pb->global_batch)
    return pa->global_batch < pb->global_batch ? -1 : 1;
  for (uint32_t i = 0; i < pa->pp && i < pb->pp; i++)
    if ((c = cmp_u32(pa->stage_layers[i], pb->stage_layers[i])))
      return c;
  return 0;
}

int p3cfg__topk_init(p3cfg__topk *t, size_t k)
{
  memset(t, 0, sizeof *t);
  t->items = p3cfg__calloc(k, sizeof *t->items);
  if (!t->items)
    return p3cfg__error_nomem();
  t->cap = k;
  return P3CFG_OK;
}

void p3cfg__topk_dispose(p3cfg__topk *t)
{
  p3cfg__free(t->items);
  memset(t, 0, sizeof *t);
}

static int worse(const p3cfg__scored *a, const p3cfg__scored *b)
{
  return p3cfg__scored_cmp(&a->plan, &a->time, &b->plan, &b->time) > 0;
}

int p3cfg__topk_admits(const p3cfg__topk *t, const p3cfg_plan *plan, const p3cfg_time *time)
{
  if (t->cap == 0)
    return 0;
  if (t->count < t->cap)
    return 1;
  return p3cfg__scored_cmp(plan, time, &t->items[0].plan, &t->items[0].time) < 0;
}

static void swap(p3cfg__scored *a, p3cfg__scored *b, p3cfg__scored *tmp)
{
  memcpy(tmp, a, sizeof *tmp);
  memcpy(a, b, sizeof *a);
  memcpy(b, tmp, sizeof *b);
}

static void sift_down(p3cfg__topk *t, size_t i, p3cfg__scored *tmp)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < t->count && worse(&t->items[l], &t->items[m]))
      m = l;
    if (r < t->count && worse(&t->items[r], &t->items[m]))
      m = r;
    if (m == i)
      return;
    swap(&t->items[i], &t->items[m], tmp);
    i = m;
  }
}

void p3cfg__topk_push(p3cfg__topk *t, const p3cfg_plan *plan, const p3cfg_time *time)
{
  p3cfg__scored tmp;
  if (t->count < t->cap) {
    size_t i = t->count++;
    t->items[i].plan = *plan;
    t->items[i].time = *time;
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!worse(&t->items[i], &t->items[parent]))
        break;
      swap(&t->items[i], &t->items[parent], &tmp);
      i = parent;
    }
    return;
  }
  t->items[0].plan = *plan;
  t->items[0].time = *time;
  sift_down(t, 0, &tmp);
}

static int cmp_scored(const void *a, const void *b)
{
  const p3cfg__scored *x = a, *y = b;
  return p3cfg__scored_cmp(&x->plan, &x->time, &y->plan, &y->time);
}

void p3cfg__topk_sort(p3cfg__topk *t)
{
  qsort(t->items, t->count, sizeof *t->items, cmp_scored);
}
