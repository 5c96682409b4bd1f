/*
 * plan_version.c — a caller's p3cfg_plan of version 1 to 5 read into, and written back
 * from, a current plan (plan_version.h).
 */
#include "plan_version.h"

#include <string.h>

#include "error.h"
#include "plan_dims.h"

size_t p3cfg__plan_size(unsigned version)
{
  switch (version) {
  case 1:
    return offsetof(p3cfg_plan, cp);
  case 2:
    return offsetof(p3cfg_plan, framework);
  case 3:
    return offsetof(p3cfg_plan, cpu_offload_layers);
  case 4:
    return offsetof(p3cfg_plan, split_accounts);
  case 5:
    return sizeof(p3cfg_plan);
  default:
    return 0;
  }
}

int p3cfg__plan_read(p3cfg_plan *out, const p3cfg_plan *in, const char *who)
{
  const size_t have = p3cfg__plan_size(in->version);
  if (have == 0)
    return p3cfg__error_set(P3CFG_EINVALID, "%s: p3cfg_plan version %u, expected 1 to %u", who,
                            in->version, P3CFG_PLAN_VERSION);
  if (have == sizeof *out) {
    *out = *in;
    return P3CFG_OK;
  }
  memset(out, 0, sizeof *out);
  memcpy(out, in, have);
  out->version = P3CFG_PLAN_VERSION;
  if (in->version < 2) {
    out->cp = out->ep = 1;
    out->etp = out->tp;
  }
  /* Before version 3: Megatron-LM (framework 0), dp_shard 0 and compile 0, as zeroed;
   * before version 4: no activation offloading; before version 5: a split of
   * transformer layers alone. */
  return P3CFG_OK;
}

void p3cfg__plan_write(p3cfg_plan *out, const p3cfg_plan *in)
{
  const unsigned version = out->version;
  const size_t have = p3cfg__plan_size(version);
  memcpy(out, in, have ? have : sizeof *out);
  out->version = version;
}

void p3cfg__plan_normalise_dims(p3cfg_plan *p)
{
  p->cp = p3cfg__plan_cp(p);
  p->ep = p3cfg__plan_ep(p);
  p->etp = p3cfg__plan_etp(p);
}
