/* util.c: the parent SDK's allocator hook, its clock, and a set of request ids. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cord_int.h"

/* ---- memory ----------------------------------------------------------------------- */

static cord_malloc_fn use_malloc = malloc;
static cord_realloc_fn use_realloc = realloc;
static cord_calloc_fn use_calloc = calloc;
static cord_free_fn use_free = free;

int cord_replace_allocator(cord_malloc_fn m, cord_realloc_fn r, cord_calloc_fn c, cord_free_fn f) {
  if (!m || !r || !c || !f)
    return -EINVAL;
  use_malloc = m;
  use_realloc = r;
  use_calloc = c;
  use_free = f;
  return 0;
}

void *cord__malloc(size_t n) { return use_malloc(n); }
void *cord__calloc(size_t count, size_t n) { return use_calloc(count, n); }
void *cord__realloc(void *p, size_t n) { return use_realloc(p, n); }
void cord__free(void *p) {
  if (p)
    use_free(p);
}

/* ---- time ------------------------------------------------------------------------- */

int64_t cord__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- id set: linear probing, with UINT64_MAX as the tombstone ------------- */
#define TOMB UINT64_MAX

static size_t slot_of(uint64_t id, size_t cap) {
  /* A multiplicative hash spreads sequential ids over the table. */
  return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 7) & (cap - 1);
}

/* Rebuilds the table with `cap` slots, dropping tombstones. */
static int idset_rehash(cord__idset_t *s, size_t cap) {
  /* Cleaning tombstones keeps the size: the spare table of that size is
   * reused, and the old one becomes the spare, so a steady stream of
   * requests allocates nothing. */
  uint64_t *slot = cap == s->cap && s->spare ? s->spare : cord__calloc(cap, sizeof *slot);
  if (!slot)
    return -ENOMEM;
  if (slot == s->spare) {
    memset(slot, 0, cap * sizeof *slot);
    s->spare = NULL;
  }
  for (size_t i = 0; i < s->cap; i++) {
    uint64_t id = s->slot[i];
    if (id && id != TOMB) {
      size_t j = slot_of(id, cap);
      while (slot[j])
        j = (j + 1) & (cap - 1);
      slot[j] = id;
    }
  }
  if (cap == s->cap && !s->spare)
    s->spare = s->slot;
  else
    cord__free(s->slot);
  s->slot = slot;
  if (cap != s->cap) {
    cord__free(s->spare);
    s->spare = NULL;
  }
  s->cap = cap;
  s->used = s->count - s->top;
  s->scan = 0;
  return 0;
}

int cord__idset_reserve(cord__idset_t *s) {
  if ((s->used + 1) * 4 <= s->cap * 3)
    return 0;
  /* Full of live members: double. Mostly tombstones: clean in place. */
  size_t cap = !s->cap ? 16 : (s->count + 1) * 2 > s->cap ? s->cap * 2 : s->cap;
  return idset_rehash(s, cap);
}

int cord__idset_add(cord__idset_t *s, uint64_t id) {
  if (cord__idset_has(s, id))
    return 1;
  if (id == TOMB) {
    s->top = true;
    s->count++;
    return 0;
  }
  size_t j = slot_of(id, s->cap);
  while (s->slot[j] && s->slot[j] != TOMB)
    j = (j + 1) & (s->cap - 1);
  if (!s->slot[j])
    s->used++;
  s->slot[j] = id;
  s->count++;
  return 0;
}

static size_t idset_find(const cord__idset_t *s, uint64_t id) {
  if (!s->cap || id == 0 || id == TOMB)
    return SIZE_MAX;
  for (size_t j = slot_of(id, s->cap);; j = (j + 1) & (s->cap - 1)) {
    if (s->slot[j] == id)
      return j;
    if (s->slot[j] == 0)
      return SIZE_MAX;
  }
}

bool cord__idset_has(const cord__idset_t *s, uint64_t id) {
  return id == TOMB ? s->top : idset_find(s, id) != SIZE_MAX;
}

bool cord__idset_del(cord__idset_t *s, uint64_t id) {
  if (id == TOMB) {
    if (!s->top)
      return false;
    s->top = false;
    s->count--;
    return true;
  }
  size_t j = idset_find(s, id);
  if (j == SIZE_MAX)
    return false;
  s->slot[j] = TOMB;
  s->count--;
  return true;
}

uint64_t cord__idset_pop(cord__idset_t *s) {
  if (s->top) {
    s->top = false;
    s->count--;
    return TOMB;
  }
  /* The scan goes on from where the last pop stopped, so emptying the set
   * costs one pass, not one per member. */
  for (size_t n = 0; s->count && n < s->cap; n++, s->scan = (s->scan + 1) & (s->cap - 1)) {
    uint64_t id = s->slot[s->scan];
    if (id && id != TOMB) {
      s->slot[s->scan] = TOMB;
      s->count--;
      return id;
    }
  }
  return 0;
}

void cord__idset_free(cord__idset_t *s) {
  cord__free(s->slot);
  cord__free(s->spare);
  memset(s, 0, sizeof *s);
}
