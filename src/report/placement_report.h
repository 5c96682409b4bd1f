/*
 * placement_report.h — the part of a table that says which links the chosen placement
 * puts the traffic on: the slowest tensor-parallel, pipeline and data-parallel link, and
 * what the placement gained over the default.
 */
#ifndef P3CFG_PLACEMENT_REPORT_H
#define P3CFG_PLACEMENT_REPORT_H

#include "text_buffer.h"
#include "types.h"

void p3cfg__placement_summary(p3cfg__text *t, const p3cfg__result_entry *e,
                              const p3cfg_cluster *c);

#endif
