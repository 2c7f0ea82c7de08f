/* cord_int.h: what every file of the parent SDK shares: the allocator, the clock, a set of ids, and the defaults of cord_options_t. */
#ifndef CORD_INT_H
#define CORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cord.h"
#include "cord_wire.h"

#if defined(__GNUC__)
#define cord__must_check __attribute__((warn_unused_result))
#else
#define cord__must_check
#endif

/* Defaults of cord_options_t. */
#define CORD__DEF_MAX_FRAME (64u << 20)
#define CORD__DEF_MAX_LINE (512u << 20) /* the json binding's max_frame */
#define CORD__DEF_MAX_FDS 16u
#define CORD__DEF_HIGH_WATER ((size_t)128 << 10)
#define CORD__DEF_QUEUE_LIMIT ((size_t)64 << 20)
#define CORD__DEF_HELLO_MS 10000u
#define CORD__DEF_GRACE_MS 5000u

/* ---- memory: every allocation of the SDK goes through these (util.c),
 * which cord_replace_allocator() redirects. ----------------------------------- */
void *cord__malloc(size_t n);
void *cord__calloc(size_t count, size_t n);
void *cord__realloc(void *p, size_t n);
void cord__free(void *p);

/* ---- time ------------------------------------------------------------------------ */
/* CLOCK_MONOTONIC in milliseconds. */
int64_t cord__now_ms(void);

/* ---- a set of 64-bit ids (open addressing; 0 is never a member) ------------------- */
typedef struct {
  uint64_t *slot;
  uint64_t *spare; /* a table of the same size, reused when tombstones are cleaned */
  size_t cap, count, used; /* count includes `top`; used counts tombstones too */
  size_t scan;             /* where cord__idset_pop() looks first */
  bool top;                /* UINT64_MAX, the tombstone's value, is a member */
} cord__idset_t;

/* 0, or -ENOMEM. Room for one more member, so that the next add cannot fail. */
cord__must_check int cord__idset_reserve(cord__idset_t *s);
/* 0 when added, 1 if present; cord__idset_reserve() must have succeeded
 * since the last add. */
int cord__idset_add(cord__idset_t *s, uint64_t id);
bool cord__idset_has(const cord__idset_t *s, uint64_t id);
bool cord__idset_del(cord__idset_t *s, uint64_t id);
uint64_t cord__idset_pop(cord__idset_t *s); /* any member, removed; 0 if empty */
void cord__idset_free(cord__idset_t *s);

#endif /* CORD_INT_H */
