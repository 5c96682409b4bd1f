/*
 * profile_exchange.h — the start of a profile: every rank says who it is (p3cfg
 * version, host, local index, what hwloc found), and all ranks agree, from the same
 * gathered data, whether and how the cluster can be profiled.
 */
#ifndef P3CFG_PROFILE_EXCHANGE_H
#define P3CFG_PROFILE_EXCHANGE_H

#include "profile_types.h"
#include "profile_wait.h"

/* Collective over w->comm. On success *out holds the hosts, the rank maps, the GPU,
 * the name and the base figures, and *oversubscribed says whether this rank's host runs
 * more ranks than it has PUs. Errors other than P3CFG_EMPI are the same on every rank. */
int p3cfg__profile_exchange(p3cfg_profile_result **out, int *oversubscribed, const p3cfg__waiter *w,
                            const p3cfg_profile_options *opts);

#endif
