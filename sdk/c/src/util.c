/* util.c: the parent SDK's containers: a byte buffer, a set of ids, and the arena protobuf-c unpacks into. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cord_int.h"

int cord__buf_reserve(cord__buf_t *b, size_t n) {
  size_t live = b->tail - b->head;
  if (b->cap - b->tail >= n)
    return 0;
  /* Moving the live bytes to the front is cheaper than growing when at
   * least half the buffer is already consumed. */
  if (b->head > 0 && b->cap - live >= n && b->head >= live) {
    memmove(b->p, b->p + b->head, live);
    b->head = 0;
    b->tail = live;
    return 0;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - live < n) {
    if (cap > SIZE_MAX / 2)
      return -ENOMEM;
    cap *= 2;
  }
  uint8_t *p = malloc(cap);
  if (!p)
    return -ENOMEM;
  if (live)
    memcpy(p, b->p + b->head, live);
  free(b->p);
  b->p = p;
  b->cap = cap;
  b->head = 0;
  b->tail = live;
  return 0;
}

void cord__buf_free(cord__buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- id set: linear probing, with UINT64_MAX as the tombstone ------------- */
#define TOMB UINT64_MAX

static size_t slot_of(uint64_t id, size_t cap) {
  /* A multiplicative hash spreads sequential ids over the table. */
  return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 7) & (cap - 1);
}

/* Rebuilds the table with `cap` slots, dropping tombstones. */
static int idset_rehash(cord__idset_t *s, size_t cap) {
  uint64_t *slot = calloc(cap, sizeof *slot);
  if (!slot)
    return -ENOMEM;
  for (size_t i = 0; i < s->cap; i++) {
    uint64_t id = s->slot[i];
    if (id && id != TOMB) {
      size_t j = slot_of(id, cap);
      while (slot[j])
        j = (j + 1) & (cap - 1);
      slot[j] = id;
    }
  }
  free(s->slot);
  s->slot = slot;
  s->cap = cap;
  s->used = s->count;
  return 0;
}

int cord__idset_add(cord__idset_t *s, uint64_t id) {
  if (id == 0 || id == TOMB)
    return -EINVAL;
  if (cord__idset_has(s, id))
    return 1;
  if ((s->used + 1) * 4 > s->cap * 3) {
    /* Full of live members: double. Mostly tombstones: clean in place. */
    size_t cap = !s->cap ? 16 : (s->count + 1) * 2 > s->cap ? s->cap * 2 : s->cap;
    int r = idset_rehash(s, cap);
    if (r < 0)
      return r;
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

bool cord__idset_has(const cord__idset_t *s, uint64_t id) { return idset_find(s, id) != SIZE_MAX; }

bool cord__idset_del(cord__idset_t *s, uint64_t id) {
  size_t j = idset_find(s, id);
  if (j == SIZE_MAX)
    return false;
  s->slot[j] = TOMB;
  s->count--;
  return true;
}

uint64_t cord__idset_pop(cord__idset_t *s) {
  for (size_t j = 0; s->count && j < s->cap; j++) {
    uint64_t id = s->slot[j];
    if (id && id != TOMB) {
      s->slot[j] = TOMB;
      s->count--;
      return id;
    }
  }
  return 0;
}

void cord__idset_free(cord__idset_t *s) {
  free(s->slot);
  memset(s, 0, sizeof *s);
}

/* ---- arena ------------------------------------------------------------------- */

static void *arena_alloc(void *data, size_t size) {
  cord__arena_t *a = data;
  size_t at = (a->used + 15) & ~(size_t)15;
  if (at <= a->cap && a->cap - at >= size) {
    a->used = at + size;
    return a->p + at;
  }
  /* Too big for this round: take it from malloc, and make the buffer large
   * enough next time so that the steady state allocates nothing. */
  if (a->nspill == a->spillcap) {
    size_t cap = a->spillcap ? a->spillcap * 2 : 8;
    void **v = realloc(a->spill, cap * sizeof *v);
    if (!v)
      return NULL;
    a->spill = v;
    a->spillcap = cap;
  }
  void *p = malloc(size ? size : 1);
  if (!p)
    return NULL;
  a->spill[a->nspill++] = p;
  if (a->want < at + size)
    a->want = at + size;
  return p;
}

static void arena_free(void *data, void *ptr) {
  /* Everything is released at once by cord__arena_reset(). */
  (void)data;
  (void)ptr;
}

void cord__arena_init(cord__arena_t *a) {
  memset(a, 0, sizeof *a);
  a->pbc.alloc = arena_alloc;
  a->pbc.free = arena_free;
  a->pbc.allocator_data = a;
}

void cord__arena_reset(cord__arena_t *a) {
  for (size_t i = 0; i < a->nspill; i++)
    free(a->spill[i]);
  a->nspill = 0;
  a->used = 0;
  if (a->want > a->cap) {
    uint8_t *p = malloc(a->want);
    if (p) {
      free(a->p);
      a->p = p;
      a->cap = a->want;
    }
  }
  a->want = 0;
}

int cord__arena_reserve(cord__arena_t *a, size_t n) {
  if (a->cap - a->used >= n)
    return 0;
  if (a->used == 0) {
    uint8_t *p = malloc(n);
    if (!p)
      return -ENOMEM;
    free(a->p);
    a->p = p;
    a->cap = n;
  } else if (a->want < a->used + n) {
    a->want = a->used + n;
  }
  return 0;
}

void cord__arena_free(cord__arena_t *a) {
  cord__arena_reset(a);
  free(a->p);
  free(a->spill);
  cord__arena_init(a);
}
