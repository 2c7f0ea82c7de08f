/* v8value.c: values of Node.js's advanced serialization in C: the arena, building, reading, and the NODE-7 rule on them. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "node_codec.h"
#include "v8value_int.h"

/* ---- the arena ------------------------------------------------------------ */

struct cord__chunk {
  struct cord__chunk *next;
  size_t cap, used; /* bytes of data after the header */
};

#define CHUNK_HEAD ((sizeof(struct cord__chunk) + 7) & ~(size_t)7)
#define CHUNK_MIN ((size_t)4 << 10)
#define CHUNK_MAX ((size_t)64 << 10)
#define SMALL_MAX ((size_t)1 << 10) /* larger allocations get a chunk of their own */

void cord_arena_init(cord_arena_t *a, size_t limit) {
  a->head = NULL;
  a->bytes = 0;
  a->limit = limit;
}

/* A new chunk of cap bytes, linked first (or second, so that the current
 * chunk keeps serving small allocations); NULL past the limit. */
static struct cord__chunk *new_chunk(cord_arena_t *a, size_t cap, int behind) {
  struct cord__chunk *c;
  if (cap > SIZE_MAX - CHUNK_HEAD || (a->limit && (a->bytes > a->limit || a->limit - a->bytes < CHUNK_HEAD + cap)))
    return NULL;
  c = cord__malloc(CHUNK_HEAD + cap);
  if (!c)
    return NULL;
  c->cap = cap;
  c->used = 0;
  if (behind && a->head) {
    c->next = a->head->next;
    a->head->next = c;
  } else {
    c->next = a->head;
    a->head = c;
  }
  a->bytes += CHUNK_HEAD + cap;
  return c;
}

/*
 * Small allocations come from chunks that grow from 4 KiB to 64 KiB, so a
 * chunk's unused tail is under 1 KiB; larger ones get a chunk of exactly
 * their size. The arena thus holds at most a sixtieth more than it hands
 * out, plus one chunk.
 */
void *cord_arena_alloc(cord_arena_t *a, size_t n) {
  struct cord__chunk *c = a->head;
  uint8_t *p;
  if (n > SIZE_MAX - 8)
    return NULL;
  n = n ? (n + 7) & ~(size_t)7 : 8;
  if (n > SMALL_MAX) {
    if (!(c = new_chunk(a, n, 1)))
      return NULL;
  } else if (!c || c->cap - c->used < n) {
    size_t want = c && c->cap < CHUNK_MAX ? c->cap * 2 : c ? CHUNK_MAX : CHUNK_MIN;
    if (want > CHUNK_MAX)
      want = CHUNK_MAX;
    if (a->limit && a->bytes < a->limit && a->limit - a->bytes < CHUNK_HEAD + want &&
        a->limit - a->bytes >= CHUNK_HEAD + n)
      want = a->limit - a->bytes - CHUNK_HEAD; /* the last chunk the limit allows */
    if (!(c = new_chunk(a, want, 0)))
      return NULL;
  }
  p = (uint8_t *)c + CHUNK_HEAD + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

void cord_arena_reset(cord_arena_t *a) {
  struct cord__chunk *c = a->head, *keep = NULL, *next;
  for (; c; c = next) {
    next = c->next;
    if (!keep || c->cap > keep->cap) {
      if (keep)
        cord__free(keep);
      keep = c;
    } else {
      cord__free(c);
    }
  }
  a->head = keep;
  a->bytes = 0;
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
    a->bytes = CHUNK_HEAD + keep->cap;
  }
}

void cord_arena_free(cord_arena_t *a) {
  struct cord__chunk *c = a->head, *next;
  for (; c; c = next) {
    next = c->next;
    cord__free(c);
  }
  a->head = NULL;
  a->bytes = 0;
}

/* ---- WTF-8 ---------------------------------------------------------------- */

/*
 * Reads one code point of WTF-8 at s[*i] (UTF-8 that may also encode a
 * lone surrogate in three bytes, but never a pair that way). Returns it, or
 * -1 if the bytes are not WTF-8. `prev_high` says whether the previous code
 * point was a high surrogate, so that a low one right after it is refused.
 */
long cord__wtf8_next(const uint8_t *s, size_t *i, size_t n, int prev_high) {
  size_t k = *i, need, j;
  uint8_t c = s[k];
  long cp, min;
  if (c < 0x80) {
    *i = k + 1;
    return c;
  }
  if (c >= 0xC2 && c <= 0xDF)
    need = 1, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    need = 2, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    need = 3, cp = c & 0x07, min = 0x10000;
  else
    return -1;
  if (n - k <= need)
    return -1;
  for (j = 1; j <= need; j++) {
    if ((s[k + j] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[k + j] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF)
    return -1;
  if (prev_high && cp >= 0xDC00 && cp <= 0xDFFF)
    return -1; /* a pair spelled as two surrogates: WTF-8 uses the 4-byte form */
  *i = k + need + 1;
  return cp;
}

int cord__wtf8_valid(const char *s, size_t n) {
  size_t i = 0;
  long cp = 0;
  while (i < n) {
    cp = cord__wtf8_next((const uint8_t *)s, &i, n, cp >= 0xD800 && cp <= 0xDBFF);
    if (cp < 0)
      return 0;
  }
  return 1;
}

size_t cord__wtf8_put(uint8_t *o, unsigned long cp) {
  if (cp < 0x80) {
    o[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (uint8_t)(0xC0 | (cp >> 6));
    o[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xE0 | (cp >> 12));
    o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | (cp >> 18));
  o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* ---- building ------------------------------------------------------------- */

cord_value_t *cord_value_new(cord_arena_t *a, cord_value_type_t type) {
  cord_value_t *v;
  if ((unsigned)type > CORD_VALUE_ERROR)
    return NULL;
  v = cord_arena_alloc(a, sizeof *v);
  if (v)
    v->type = (uint8_t)type;
  return v;
}

cord_value_t *cord_value_bool(cord_arena_t *a, int b) {
  cord_value_t *v = cord_value_new(a, CORD_VALUE_BOOL);
  if (v)
    v->u.boolean = b != 0;
  return v;
}

cord_value_t *cord_value_int32(cord_arena_t *a, int32_t i) {
  cord_value_t *v = cord_value_new(a, CORD_VALUE_INT32);
  if (v)
    v->u.int32 = i;
  return v;
}

static cord_value_t *number_node(cord_arena_t *a, cord_value_type_t t, double d) {
  cord_value_t *v = cord_value_new(a, t);
  if (v)
    v->u.number = d;
  return v;
}

cord_value_t *cord_value_double(cord_arena_t *a, double d) {
  return number_node(a, CORD_VALUE_DOUBLE, d);
}

cord_value_t *cord_value_date(cord_arena_t *a, double ms) {
  return number_node(a, CORD_VALUE_DATE, ms);
}

/* A NUL-terminated copy of s[0..n) in the arena. */
static char *copy_str(cord_arena_t *a, const char *s, size_t n) {
  char *p;
  if (n == SIZE_MAX)
    return NULL;
  p = cord_arena_alloc(a, n + 1);
  if (p && n)
    memcpy(p, s, n);
  return p;
}

cord_value_t *cord_value_string(cord_arena_t *a, const char *s, size_t len) {
  cord_value_t *v;
  char *p;
  if (!s && len)
    return NULL;
  if (!cord__wtf8_valid(s, len))
    return NULL;
  v = cord_value_new(a, CORD_VALUE_STRING);
  p = v ? copy_str(a, s, len) : NULL;
  if (!p)
    return NULL;
  v->u.string.ptr = p;
  v->u.string.len = len;
  return v;
}

cord_value_t *cord_value_regexp(cord_arena_t *a, const char *source, size_t len, uint32_t flags) {
  cord_value_t *v = cord_value_string(a, source, len);
  if (v) {
    v->type = CORD_VALUE_REGEXP;
    v->aux = flags;
  }
  return v;
}

cord_value_t *cord_value_bytes(cord_arena_t *a, cord_value_type_t type, unsigned kind, const void *p, size_t len) {
  cord_value_t *v;
  uint8_t *d;
  if (type != CORD_VALUE_ARRAYBUFFER && type != CORD_VALUE_VIEW && type != CORD_VALUE_BIGINT)
    return NULL;
  if ((!p && len) || kind > 255)
    return NULL;
  v = cord_value_new(a, type);
  d = v ? cord_arena_alloc(a, len ? len : 1) : NULL;
  if (!d)
    return NULL;
  if (len)
    memcpy(d, p, len);
  if (type == CORD_VALUE_BIGINT)
    while (len && !d[len - 1]) /* no high zero bytes: one spelling per number */
      len--;
  v->kind = (uint8_t)(type == CORD_VALUE_BIGINT ? (len && kind) : kind);
  v->u.bytes.ptr = d;
  v->u.bytes.len = len;
  return v;
}

cord_value_t *cord_value_bigint_i64(cord_arena_t *a, int64_t i) {
  uint64_t m = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
  uint8_t b[8];
  int k;
  for (k = 0; k < 8; k++)
    b[k] = (uint8_t)(m >> (8 * k));
  return cord_value_bytes(a, CORD_VALUE_BIGINT, i < 0, b, sizeof b);
}

cord_value_t *cord_value_array(cord_arena_t *a, uint32_t length, int sparse) {
  cord_value_t *v = cord_value_new(a, CORD_VALUE_ARRAY);
  if (!v)
    return NULL;
  v->aux = length;
  if (!sparse && length) {
    v->u.array.items = cord_arena_alloc(a, (size_t)length * sizeof *v->u.array.items);
    if (!v->u.array.items)
      return NULL;
  } else if (sparse) {
    v->flags = CORD__V_SPARSE;
  }
  return v;
}

/* Grows *items (count used, room for at least cap) to hold one more. */
static int grow(cord_arena_t *a, const cord_value_t ***items, uint32_t count, uint32_t *cap) {
  const cord_value_t **n;
  uint32_t want;
  if (count < *cap)
    return 0;
  if (count >= UINT32_MAX / 2)
    return -ENOMEM;
  want = count < 4 ? 4 : count * 2;
  n = cord_arena_alloc(a, (size_t)want * sizeof *n);
  if (!n)
    return -ENOMEM;
  if (count)
    memcpy(n, *items, (size_t)count * sizeof *n);
  *items = n;
  *cap = want;
  return 0;
}

int cord_value_put_n(cord_arena_t *a, cord_value_t *t, const char *key, size_t key_len, const cord_value_t *v) {
  cord_member_t *m;
  char *k;
  if (!t || !v || (!key && key_len))
    return -EINVAL;
  if (t->type == CORD_VALUE_ARRAY) {
    if (!t->u.array.props && !(t->u.array.props = cord_value_new(a, CORD_VALUE_OBJECT)))
      return -ENOMEM;
    t = t->u.array.props;
  }
  if (t->type != CORD_VALUE_OBJECT && t->type != CORD_VALUE_ERROR)
    return -EINVAL;
  if (!cord__wtf8_valid(key, key_len))
    return -EINVAL;
  if (t->u.object.count == t->u.object.cap) {
    uint32_t want;
    if (t->u.object.count >= UINT32_MAX / 2)
      return -ENOMEM;
    want = t->u.object.count < 4 ? 4 : t->u.object.count * 2;
    m = cord_arena_alloc(a, (size_t)want * sizeof *m);
    if (!m)
      return -ENOMEM;
    if (t->u.object.count)
      memcpy(m, t->u.object.members, (size_t)t->u.object.count * sizeof *m);
    t->u.object.members = m;
    t->u.object.cap = want;
  }
  if (!(k = copy_str(a, key, key_len)))
    return -ENOMEM;
  m = &t->u.object.members[t->u.object.count++];
  m->key = k;
  m->key_len = key_len;
  m->value = v;
  return 0;
}

int cord_value_put(cord_arena_t *a, cord_value_t *t, const char *key, const cord_value_t *v) {
  return key ? cord_value_put_n(a, t, key, strlen(key), v) : -EINVAL;
}

int cord_value_push(cord_arena_t *a, cord_value_t *t, const cord_value_t *v) {
  int r;
  if (!t)
    return -EINVAL;
  if (t->type == CORD_VALUE_SET || t->type == CORD_VALUE_MAP) {
    if (!v)
      return -EINVAL;
    if ((r = grow(a, &t->u.list.items, t->u.list.count, &t->u.list.cap)) != 0)
      return r;
    t->u.list.items[t->u.list.count++] = v;
    return 0;
  }
  if (t->type == CORD_VALUE_ARRAY && !(t->flags & CORD__V_SPARSE)) {
    /* The room of a dense array: its length, or once the builder has grown
     * it, the power of two at or above that (at least 4), which never
     * exceeds what grow() gave. */
    uint32_t cap = t->aux;
    if (t->flags & CORD__V_GROWN) {
      while (cap & (cap - 1))
        cap &= cap - 1;
      cap = cap < 4 ? 4 : cap == t->aux ? cap : cap << 1;
    }
    if ((r = grow(a, &t->u.array.items, t->aux, &cap)) != 0)
      return r;
    t->flags |= CORD__V_GROWN;
    t->u.array.items[t->aux++] = v;
    return 0;
  }
  return -EINVAL;
}

int cord_value_set_index(cord_arena_t *a, cord_value_t *arr, uint32_t i, const cord_value_t *v) {
  char key[16];
  int n;
  if (!arr || arr->type != CORD_VALUE_ARRAY || i >= arr->aux)
    return -EINVAL;
  if (!(arr->flags & CORD__V_SPARSE)) {
    arr->u.array.items[i] = v;
    return 0;
  }
  if (!v)
    return 0; /* a hole in a sparse array is an element not set */
  n = snprintf(key, sizeof key, "%u", (unsigned)i);
  return cord_value_put_n(a, arr, key, (size_t)n, v);
}

/* ---- reading -------------------------------------------------------------- */

static const cord_member_t *find(const cord_value_t *o, const char *key, size_t n) {
  uint32_t i;
  for (i = o->u.object.count; i-- > 0;) /* the last one, should a builder have put a key twice */
    if (o->u.object.members[i].key_len == n && !memcmp(o->u.object.members[i].key, key, n))
      return &o->u.object.members[i];
  return NULL;
}

const cord_value_t *cord_value_get(const cord_value_t *v, const char *key) {
  const cord_member_t *m;
  if (!v || !key)
    return NULL;
  if (v->type == CORD_VALUE_ARRAY)
    v = v->u.array.props;
  if (!v || (v->type != CORD_VALUE_OBJECT && v->type != CORD_VALUE_ERROR))
    return NULL;
  m = find(v, key, strlen(key));
  return m ? m->value : NULL;
}

const cord_value_t *cord_value_index(const cord_value_t *v, uint32_t i) {
  char key[16];
  if (!v || v->type != CORD_VALUE_ARRAY || i >= v->aux)
    return NULL;
  if (!(v->flags & CORD__V_SPARSE))
    return v->u.array.items[i];
  snprintf(key, sizeof key, "%u", (unsigned)i);
  return cord_value_get(v, key);
}

const char *cord_value_type_name(int type) {
  static const char *const names[] = {"undefined", "null",   "boolean", "int32",   "number",      "bigint",
                                      "string",    "object", "Array",   "Date",    "RegExp",      "Map",
                                      "Set",       "ArrayBuffer", "ArrayBufferView", "boxed primitive", "Error"};
  return type >= 0 && (size_t)type < sizeof names / sizeof *names ? names[type] : "unknown type";
}

/* ---- NODE-7 on a decoded message ----------------------------------------- */

static int str_is(const cord_value_t *v, const char *w) {
  return v && v->type == CORD_VALUE_STRING && v->u.string.len == strlen(w) && !memcmp(v->u.string.ptr, w, v->u.string.len);
}

cord__node_kind_t cord__node_value_kind(const cord_value_t *v, const cord_value_t **msg,
                                        cord__handle_type_t *handle_type) {
  static const char *const names[] = {"net.Socket", "net.Server", "net.Native", "dgram.Socket", "dgram.Native"};
  const cord_value_t *cmd, *type;
  size_t t;
  if (msg)
    *msg = NULL;
  if (handle_type)
    *handle_type = CORD__HANDLE_OTHER;
  /* typeof message === 'object' is true of every receiver, but only plain
   * objects and arrays can carry an own "cmd" that V8 serializes; an array's
   * named properties count as well. */
  if (!v || (v->type != CORD_VALUE_OBJECT && v->type != CORD_VALUE_ARRAY))
    return CORD__NODE_USER;
  cmd = cord_value_get(v, "cmd");
  /* A string of more than 5 UTF-16 units starting NODE_: in UTF-8, more
   * than 5 bytes, as each unit takes at least one. */
  if (!cmd || cmd->type != CORD_VALUE_STRING || cmd->u.string.len <= 5 || memcmp(cmd->u.string.ptr, "NODE_", 5))
    return CORD__NODE_USER;
  if (str_is(cmd, "NODE_HANDLE_ACK"))
    return CORD__NODE_HANDLE_ACK;
  if (str_is(cmd, "NODE_HANDLE_NACK"))
    return CORD__NODE_HANDLE_NACK;
  if (!str_is(cmd, "NODE_HANDLE"))
    return CORD__NODE_OTHER;
  if (msg)
    *msg = cord_value_get(v, "msg");
  type = cord_value_get(v, "type");
  for (t = 0; handle_type && t < sizeof names / sizeof *names; t++)
    if (str_is(type, names[t]))
      *handle_type = (cord__handle_type_t)(t + 1);
  return CORD__NODE_HANDLE;
}
