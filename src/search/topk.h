/*
 * topk.h — the best K plans seen so far, under a total order (time, then the plan's
 * fields), so that a search returns the same plans in the same order whatever the
 * enumeration order or thread count.
 */
#ifndef P3CFG_TOPK_H
#define P3CFG_TOPK_H

#include <stddef.h>

#include "types.h"

typedef struct p3cfg__scored {
  p3cfg_plan plan;
  p3cfg_time time;
} p3cfg__scored;

typedef struct p3cfg__topk {
  p3cfg__scored *items; /* max-heap on the total order: items[0] is the worst kept */
  size_t count, cap;
} p3cfg__topk;

/* <0 when a ranks before b (a is better). Total: equal only for identical plans. */
int p3cfg__scored_cmp(const p3cfg_plan *pa, const p3cfg_time *ta, const p3cfg_plan *pb,
                      const p3cfg_time *tb);

/* Room for k plans; P3CFG_ENOMEM on failure. */
int p3cfg__topk_init(p3cfg__topk *t, size_t k);
void p3cfg__topk_dispose(p3cfg__topk *t);
/* Would (plan, time) enter the top k? Cheap test before copying the plan. */
int p3cfg__topk_admits(const p3cfg__topk *t, const p3cfg_plan *plan, const p3cfg_time *time);
/* Insert, evicting the worst when full (call only when admitted). */
void p3cfg__topk_push(p3cfg__topk *t, const p3cfg_plan *plan, const p3cfg_time *time);
/* Sort items best first (destroys the heap order). */
void p3cfg__topk_sort(p3cfg__topk *t);

#endif
