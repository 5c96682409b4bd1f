/*
 * dl_load.c — dlopen and dlsym for the optional GPU libraries (dl_load.h).
 */
#include "dl_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *p3cfg__dl_open(const char *soname, const char *const *dirs, size_t n, char *why,
                     size_t why_len)
{
  void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (h)
    return h;
  const char *first = dlerror();
  snprintf(why, why_len, "%s", first ? first : "not found");
  for (size_t i = 0; i < n; i++) {
    if (!dirs[i] || !*dirs[i])
      continue;
    char path[1024];
    const int len = snprintf(path, sizeof path, "%s/%s", dirs[i], soname);
    if (len < 0 || (size_t)len >= sizeof path)
      continue;
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) != NULL)
      return h;
  }
  return NULL;
}

int p3cfg__dl_sym(void *lib, const char *name, void *slot, size_t size)
{
  void *sym = dlsym(lib, name);
  if (!sym)
    return -1;
  memcpy(slot, &sym, size);
  return 0;
}

int p3cfg__dl_present(const char *soname)
{
  void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
  if (!h)
    return 0;
  dlclose(h);
  return 1;
}
