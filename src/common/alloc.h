/* alloc.h — the one allocator of libp3cfg, with a failure hook for torture tests. */
#ifndef P3CFG_ALLOC_H
#define P3CFG_ALLOC_H

#include <stddef.h>

void *p3cfg__malloc(size_t n);
void *p3cfg__calloc(size_t count, size_t size);
void *p3cfg__realloc(void *p, size_t n);
void p3cfg__free(void *p);
/* strdup / strndup through the same allocator; NULL on failure. */
char *p3cfg__strdup(const char *s);
char *p3cfg__strndup(const char *s, size_t n);

#endif
