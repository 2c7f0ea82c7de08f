/* v8value_int.h: what the value builder and the V8 codec share: WTF-8 helpers and the nodes' private flags. */
#ifndef CORD_V8VALUE_INT_H
#define CORD_V8VALUE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cord.h"

/* The SDK's allocator hook (util.c, cord_replace_allocator()): the codec
 * takes and gives back all its memory through it, as the rest does. */
void *cord__malloc(size_t n);
void *cord__realloc(void *p, size_t n);
void *cord__calloc(size_t count, size_t n);
void cord__free(void *p);

/* cord_value_t.flags bits. */
#define CORD__V_GROWN 1u  /* ARRAY: items were grown by cord_value_push() */
#define CORD__V_SPARSE 2u /* ARRAY: sparse: elements live in props, by index */

/* The next code point of WTF-8 at s[*i] (advancing *i), or -1; prev_high:
 * the previous one was a high surrogate (a low one may not follow). */
long cord__wtf8_next(const uint8_t *s, size_t *i, size_t n, int prev_high);

/* 1 if s[0..n) is WTF-8 (UTF-8, plus lone surrogates in three bytes). */
int cord__wtf8_valid(const char *s, size_t n);

/* Writes code point cp (up to 0x10FFFF, surrogates too) at o; returns 1 to 4. */
size_t cord__wtf8_put(uint8_t *o, unsigned long cp);

#endif /* CORD_V8VALUE_INT_H */
