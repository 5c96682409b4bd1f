/*
 * plan_version.h — reading and writing a caller's p3cfg_plan of any version. Version 1
 * ends before cp, ep and etp; a public entry copies only the caller's version's prefix
 * into a current plan (the fields it lacks take their version-1 meaning: cp = ep = 1,
 * etp = tp) and writes back only that prefix, never past the caller's struct.
 */
#ifndef P3CFG_PLAN_VERSION_H
#define P3CFG_PLAN_VERSION_H

#include <stddef.h>

#include "types.h"

/* Bytes of a version-`version` plan; 0 for a version this library does not know. */
size_t p3cfg__plan_size(unsigned version);

/* *out = the caller's plan `in` as a current-version plan. P3CFG_EINVALID (with `who` in
 * the message) for a version outside 1 .. P3CFG_PLAN_VERSION. */
int p3cfg__plan_read(p3cfg_plan *out, const p3cfg_plan *in, const char *who);

/* Write the current plan `in` back into the caller's plan `out` of version
 * out->version (read before with p3cfg__plan_read): only the fields that version has. */
void p3cfg__plan_write(p3cfg_plan *out, const p3cfg_plan *in);

/* cp, ep and etp given their defaults (0: 1, 1 and tp). */
void p3cfg__plan_normalise_dims(p3cfg_plan *p);

#endif
