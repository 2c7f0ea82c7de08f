/* alloc_counter.c: counts every allocation of the process while armed, by replacing malloc and its family. */
#define _GNU_SOURCE
#include "alloc_counter.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/*
 * malloc, calloc, realloc, free and the aligned allocators are replaced
 * here for the whole process (C libraries route their own allocations
 * through them too); each forwards to the next definition, the C
 * library's or the sanitizer's. While alloc_armed is set, which is only around
 * calls into the SDK, every call is counted.
 */
_Thread_local volatile int alloc_armed;
volatile long alloc_calls;
static char boot[4096];
static size_t boot_used;
static int resolving;
static void *(*next_malloc)(size_t), *(*next_calloc)(size_t, size_t), *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_memalign)(void **, size_t, size_t);

/* dlsym() may allocate while the pointers are looked up: it is served
 * from a static arena, which free() then ignores. */
static void resolve(void) {
  if (next_malloc || resolving)
    return;
  resolving = 1;
  /* POSIX's way from dlsym()'s void * to a function pointer. */
  void *s = dlsym(RTLD_NEXT, "calloc");
  memcpy(&next_calloc, &s, sizeof s);
  s = dlsym(RTLD_NEXT, "realloc");
  memcpy(&next_realloc, &s, sizeof s);
  s = dlsym(RTLD_NEXT, "free");
  memcpy(&next_free, &s, sizeof s);
  s = dlsym(RTLD_NEXT, "posix_memalign");
  memcpy(&next_memalign, &s, sizeof s);
  s = dlsym(RTLD_NEXT, "malloc");
  memcpy(&next_malloc, &s, sizeof s);
  resolving = 0;
}

static void *from_boot(size_t n) {
  void *p = boot + boot_used;
  boot_used += (n + 15) & ~(size_t)15;
  if (boot_used > sizeof boot)
    abort();
  return p;
}

static int in_boot(void *p) { return (char *)p >= boot && (char *)p < boot + sizeof boot; }

void *malloc(size_t n) {
  alloc_calls += alloc_armed;
  resolve();
  return next_malloc ? next_malloc(n) : from_boot(n);
}

void *calloc(size_t a, size_t b) {
  alloc_calls += alloc_armed;
  resolve();
  return next_calloc ? next_calloc(a, b) : memset(from_boot(a * b), 0, a * b);
}

void *realloc(void *p, size_t n) {
  alloc_calls += alloc_armed;
  resolve();
  return next_realloc(p, n);
}

void free(void *p) {
  alloc_calls += alloc_armed && p;
  if (p && !in_boot(p)) {
    resolve();
    next_free(p);
  }
}

int posix_memalign(void **out, size_t align, size_t n) {
  alloc_calls += alloc_armed;
  resolve();
  return next_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = NULL;
  return posix_memalign(&p, align, n) ? NULL : p;
}

void *memalign(size_t align, size_t n) { return aligned_alloc(align, n); }

