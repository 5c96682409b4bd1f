/* version.c — the release and API versions of the library actually linked. */
#include "p3cfg.h"

#define P3CFG_STR2(x) #x
#define P3CFG_STR(x) P3CFG_STR2(x)

P3CFG_API const char *p3cfg_version_string(void)
{
  return P3CFG_STR(P3CFG_VERSION_MAJOR) "." P3CFG_STR(P3CFG_VERSION_MINOR) "." P3CFG_STR(
      P3CFG_VERSION_PATCH);
}

P3CFG_API int p3cfg_api_version(void)
{
  return P3CFG_API_VERSION;
}
