/*
 * export.h — the launcher exports of `p3cfg export` (docs/exports.md), one writer per
 * target, all from a plan record (common/plan_record.h). Each appends its text to `t`
 * and returns 0, or P3CFG_EUNSUPPORTED (last error set) when the target cannot express
 * the plan. `number` is the plan's 1-based number in its file, for the header comment.
 */
#ifndef P3CFG_EXPORT_H
#define P3CFG_EXPORT_H

#include <stddef.h>

#include "plan_record.h"
#include "text_buffer.h"

int p3cfg__export_megatron(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);
int p3cfg__export_torchtitan(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);
int p3cfg__export_deepspeed(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);
int p3cfg__export_rankfile(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);
int p3cfg__export_hostfile(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);

int p3cfg__export_sbatch(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);
int p3cfg__export_launch(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);

/* The framework a launch runs (a p3cfg_framework; export_env.c). */
int p3cfg__export_framework(const p3cfg__plan_record *rec);
/* The environment lines (bash) of a launch of the plan with `framework`: export_env.c. */
void p3cfg__export_env(p3cfg__text *t, const p3cfg__plan_record *rec, int framework);

/* The socket of local GPU g of the plan's cluster: the cluster file's host.gpu_sockets,
 * or the default halves (p3cfg__gpu_socket_default). */
uint32_t p3cfg__export_gpu_socket(const p3cfg_plan_cluster *c, uint32_t g);

/* 0 when every host of the placement runs one block of N consecutive ranks (torchrun's
 * numbering), with *hosts and *per set; else P3CFG_EUNSUPPORTED naming `target`. */
int p3cfg__export_host_blocks(const p3cfg__plan_record *rec, const char *target, size_t *hosts,
                              size_t *per);

/* "plan N: MODEL on CLUSTER, G GPUs (dp D, tp T, pp P)" for header comments. */
void p3cfg__export_title(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);

/* Micro-batches per pipeline per step (global_batch / (micro_batch * dp)). */
uint64_t p3cfg__export_microbatches(const p3cfg_plan *p);

/* Whether every pipeline rank holds the same number of split units: its layers and the
 * embedding or loss it accounts for (p3cfg_plan.split_accounts). */
int p3cfg__export_even_split(const p3cfg_plan *p);

#endif
