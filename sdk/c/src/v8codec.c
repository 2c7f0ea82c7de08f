/* v8codec.c: V8's ValueSerializer format as Node.js 20 writes and reads it on its advanced channel, to and from cord_value_t. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_codec.h"
#include "v8value_int.h"

/*
 * The format (V8's src/objects/value-serializer.cc, version 15): a header
 * FF 0F, then one value, each value a tag byte and its data. Integers are
 * LEB128 varints (zigzag for int32), doubles 8 bytes in host order. Every
 * object (anything but a primitive) gets the next id as it starts, and a
 * later `^ id` refers to it again, which is how shared objects and cycles
 * travel. Node.js writes Buffers, typed arrays and DataViews as host
 * objects of its own: `\` 00 typeIndex byteLength bytes.
 */
enum {
  T_PADDING = 0x00, T_VERIFY_COUNT = '?', T_HOLE = '-', T_UNDEFINED = '_', T_NULL = '0', T_TRUE = 'T',
  T_FALSE = 'F', T_INT32 = 'I', T_UINT32 = 'U', T_DOUBLE = 'N', T_BIGINT = 'Z', T_UTF8 = 'S',
  T_ONE_BYTE = '"', T_TWO_BYTE = 'c', T_REF = '^', T_OBJECT = 'o', T_OBJECT_END = '{', T_SPARSE = 'a',
  T_SPARSE_END = '@', T_DENSE = 'A', T_DENSE_END = '$', T_DATE = 'D', T_TRUE_OBJECT = 'y',
  T_FALSE_OBJECT = 'x', T_NUMBER_OBJECT = 'n', T_BIGINT_OBJECT = 'z', T_STRING_OBJECT = 's', T_REGEXP = 'R',
  T_MAP = ';', T_MAP_END = ':', T_SET = '\'', T_SET_END = ',', T_ARRAY_BUFFER = 'B', T_HOST = '\\',
  T_ERROR = 'r', T_VERSION = 0xFF
};

#define V8_VERSION 15u
#define MAX_STRING_UNITS 0x1FFFFFE8u /* V8's String::kMaxLength on 64-bit hosts */
#define MAX_BIGINT_BYTES ((size_t)1 << 27) /* BigInt::kMaxLengthBits, 2**30 bits */
#define REGEXP_KNOWN 0x1BFu /* g i m y u s d v; not l (V8's linear engine, off in Node.js) */

static const char *tag_name(unsigned t) {
  switch (t) {
  case T_HOLE: return "the hole";
  case T_UNDEFINED: return "undefined";
  case T_NULL: return "null";
  case T_TRUE: return "true";
  case T_FALSE: return "false";
  case T_INT32: return "int32";
  case T_UINT32: return "uint32";
  case T_DOUBLE: return "double";
  case T_BIGINT: return "BigInt";
  case T_UTF8: return "UTF-8 string";
  case T_ONE_BYTE: return "Latin-1 string";
  case T_TWO_BYTE: return "UTF-16 string";
  case T_REF: return "object reference";
  case T_OBJECT: return "object";
  case T_OBJECT_END: return "end of object";
  case T_SPARSE: return "sparse array";
  case T_SPARSE_END: return "end of sparse array";
  case T_DENSE: return "dense array";
  case T_DENSE_END: return "end of dense array";
  case T_DATE: return "Date";
  case T_TRUE_OBJECT: case T_FALSE_OBJECT: return "Boolean object";
  case T_NUMBER_OBJECT: return "Number object";
  case T_BIGINT_OBJECT: return "BigInt object";
  case T_STRING_OBJECT: return "String object";
  case T_REGEXP: return "RegExp";
  case T_MAP: return "Map";
  case T_MAP_END: return "end of Map";
  case T_SET: return "Set";
  case T_SET_END: return "end of Set";
  case T_ARRAY_BUFFER: return "ArrayBuffer";
  case T_HOST: return "host object";
  case T_ERROR: return "Error";
  case T_VERIFY_COUNT: return "object count";
  case '~': return "resizable ArrayBuffer";
  case 't': return "transferred ArrayBuffer";
  case 'V': return "ArrayBufferView after its ArrayBuffer";
  case 'u': return "SharedArrayBuffer";
  case 'p': return "shared object";
  case 'w': return "WebAssembly.Module";
  case 'm': return "WebAssembly.Memory";
  case 'M': case 'b': case 'i': case 'f': case 'e': case 'd': case 'l': case 'L': case '#': case 'g':
  case 'G': case 'H': case 'K': case 'k': return "a tag reserved by Chromium";
  default: return NULL;
  }
}

static size_t view_element_size(unsigned kind) {
  static const uint8_t size[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 1, 1, 8, 8};
  return kind < sizeof size ? size[kind] : 0;
}

static const char *view_name(unsigned kind) {
  static const char *const names[] = {"Int8Array",    "Uint8Array",   "Uint8ClampedArray", "Int16Array", "Uint16Array",
                                      "Int32Array",   "Uint32Array",  "Float32Array",      "Float64Array", "DataView",
                                      "Buffer",       "BigInt64Array", "BigUint64Array"};
  return kind < sizeof names / sizeof *names ? names[kind] : "unknown view";
}

static void set_err(cord_v8_error_t *err, size_t off, const char *fmt, va_list ap) {
  if (!err)
    return;
  err->offset = off;
  vsnprintf(err->what, sizeof err->what, fmt, ap);
}

/* A canonical array index ("0", "7", up to "4294967294"), as V8 writes as a number. */
static int index_key(const char *k, size_t n, uint32_t *out) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || n > 10 || (n > 1 && k[0] == '0'))
    return 0;
  for (i = 0; i < n; i++) {
    if (k[i] < '0' || k[i] > '9')
      return 0;
    v = v * 10 + (uint64_t)(k[i] - '0');
  }
  if (v > 4294967294u)
    return 0;
  *out = (uint32_t)v;
  return 1;
}

/* Duplicate keys among members m[0..n): the first found, or NULL. */
static int key_cmp(const void *a, const void *b) {
  const cord_member_t *x = *(const cord_member_t *const *)a, *y = *(const cord_member_t *const *)b;
  int c;
  if (x->key_len != y->key_len)
    return x->key_len < y->key_len ? -1 : 1;
  c = memcmp(x->key, y->key, x->key_len);
  return c;
}

static const cord_member_t *duplicate_key(const cord_member_t *m, size_t n, int *nomem) {
  const cord_member_t **s, *dup = NULL;
  size_t i, j;
  *nomem = 0;
  if (n <= 16) {
    for (i = 0; i < n; i++)
      for (j = i + 1; j < n; j++)
        if (m[i].key_len == m[j].key_len && !memcmp(m[i].key, m[j].key, m[i].key_len))
          return &m[j];
    return NULL;
  }
  s = cord__malloc(n * sizeof *s);
  if (!s)
    return *nomem = 1, NULL;
  for (i = 0; i < n; i++)
    s[i] = &m[i];
  qsort(s, n, sizeof *s, key_cmp);
  for (i = 1; i < n && !dup; i++)
    if (!key_cmp(&s[i - 1], &s[i]))
      dup = s[i];
  cord__free(s);
  return dup;
}

/* A growable array of temporaries (freed before returning). */
static int reserve(void **p, size_t *cap, size_t need, size_t size) {
  size_t c = *cap;
  void *q;
  if (need <= c)
    return 0;
  while (c < need)
    c = c ? c * 2 : 16;
  if (c > SIZE_MAX / size)
    return -ENOMEM;
  q = cord__realloc(*p, c * size);
  if (!q)
    return -ENOMEM;
  *p = q;
  *cap = c;
  return 0;
}

/* ======================================================================== */
/* Decoding                                                                  */
/* ======================================================================== */

static const cord_value_t v_undefined = {CORD_VALUE_UNDEFINED, 0, 0, 0, {0}};
static const cord_value_t v_null = {CORD_VALUE_NULL, 0, 0, 0, {0}};
static const cord_value_t v_true = {CORD_VALUE_BOOL, 0, 0, 0, {.boolean = 1}};
static const cord_value_t v_false = {CORD_VALUE_BOOL, 0, 0, 0, {.boolean = 0}};

/* What a frame of the decoder's explicit stack is filling. */
enum { FR_OBJECT, FR_SPARSE, FR_DENSE, FR_MAP, FR_SET, FR_CAUSE, FR_HOST };

typedef struct {
  cord_value_t *node; /* the container (FR_HOST: NULL) */
  uint8_t kind;
  uint8_t want_value; /* object-like: its key has been read, its value comes next */
  uint32_t id;        /* FR_HOST: the id that the inner value takes too */
  uint32_t next;      /* FR_DENSE: elements read so far */
  size_t base;        /* its first entry in tmp */
  size_t at;          /* where it began in the input */
} frame_t;

typedef struct {
  const uint8_t *p;
  size_t n, i;
  cord_arena_t *a;
  unsigned flags;
  uint32_t version;
  cord_v8_error_t *err;
  frame_t *fr;
  size_t nfr, capfr;
  cord_member_t *tmp; /* members and items of the open containers */
  size_t ntmp, captmp;
  const cord_value_t **ids; /* by id; NULL while the object is not complete */
  size_t nids, capids;
} dec_t;

static int dfail(dec_t *d, size_t off, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_err(d->err, off, fmt, ap);
  va_end(ap);
  return code;
}

static int dnomem(dec_t *d) {
  return dfail(d, d->i, -ENOMEM, "out of memory (the arena's limit, or the allocator) decoding the value");
}

/*
 * A varint read as V8's ReadVarint<T> reads it, T of `bits` bits: at most
 * bits/8 + 1 bytes are taken, even if the last says more follow, and bits
 * past T's width are dropped. Node.js writes none of that, but this is how
 * its reader takes what it is given.
 */
static int rd_varint_bits(dec_t *d, uint32_t *out, unsigned bits) {
  uint32_t v = 0, mask = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
  unsigned shift;
  for (shift = 0; shift < bits; shift += 7) {
    uint8_t b;
    if (d->i >= d->n)
      return dfail(d, d->i, CORD_EPROTOCOL, "the value ends inside a varint");
    b = d->p[d->i++];
    v |= ((uint32_t)(b & 0x7F) << shift) & mask;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  /* The last byte said more follow: V8 stops there, but only if a byte does follow. */
  if (d->i >= d->n)
    return dfail(d, d->i, CORD_EPROTOCOL, "the value ends inside a varint");
  *out = v;
  return 0;
}

static int rd_varint(dec_t *d, uint32_t *out) {
  return rd_varint_bits(d, out, 32);
}

static int rd_double(dec_t *d, double *out) {
  if (d->n - d->i < 8)
    return dfail(d, d->i, CORD_EPROTOCOL, "the value ends inside a double");
  memcpy(out, d->p + d->i, 8);
  d->i += 8;
  if (*out != *out)
    *out = NAN; /* one NaN, as V8 reads them */
  return 0;
}

/* Reads a length and checks it against the bytes left before trusting it. */
static int rd_len(dec_t *d, uint32_t *len, const char *what) {
  size_t at = d->i;
  int r = rd_varint(d, len);
  if (r)
    return r;
  if (*len > d->n - d->i)
    return dfail(d, at, CORD_EPROTOCOL, "%s of length %u, with %zu bytes left", what, (unsigned)*len, d->n - d->i);
  return 0;
}

/* The next tag, past any padding; 0 at the end. */
static int peek_tag(dec_t *d) {
  size_t k = d->i;
  while (k < d->n && d->p[k] == T_PADDING)
    k++;
  return k < d->n ? d->p[k] : -1;
}

static int rd_tag(dec_t *d, uint8_t *tag) {
  while (d->i < d->n && d->p[d->i] == T_PADDING)
    d->i++;
  if (d->i >= d->n)
    return dfail(d, d->i, CORD_EPROTOCOL, "the value ends where a tag was expected");
  *tag = d->p[d->i++];
  return 0;
}

/* Copies a string of V8 encoding `tag` (byte length len at d->i) into the arena as WTF-8. */
static int rd_string_body(dec_t *d, uint8_t tag, uint32_t len, const char **out, size_t *outlen) {
  const uint8_t *s = d->p + d->i;
  size_t need = 0, k, o = 0;
  uint8_t *w;
  if (tag == T_ONE_BYTE) {
    for (k = 0; k < len; k++)
      need += s[k] < 0x80 ? 1 : 2;
  } else if (tag == T_TWO_BYTE) {
    if (len & 1)
      return dfail(d, d->i, CORD_EPROTOCOL, "a UTF-16 string of an odd byte length (%u)", (unsigned)len);
    for (k = 0; k < len; k += 2) {
      unsigned u = s[k] | (unsigned)s[k + 1] << 8;
      unsigned nx = k + 3 < len ? (s[k + 2] | (unsigned)s[k + 3] << 8) : 0;
      if (u >= 0xD800 && u <= 0xDBFF && nx >= 0xDC00 && nx <= 0xDFFF)
        need += 4, k += 2;
      else
        need += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
    }
  } else { /* UTF-8, invalid sequences replaced by U+FFFD as V8 does */
    for (k = 0; k < len;) {
      size_t before = k;
      if (cord__wtf8_next(s, &k, len, 1) >= 0 && !(s[before] == 0xED && s[before + 1] >= 0xA0)) {
        need += k - before;
        continue;
      }
      k = before + 1;
      need += 3;
    }
  }
  w = cord_arena_alloc(d->a, need + 1);
  if (!w)
    return dnomem(d);
  if (tag == T_ONE_BYTE) {
    for (k = 0; k < len; k++)
      o += cord__wtf8_put(w + o, s[k]);
  } else if (tag == T_TWO_BYTE) {
    for (k = 0; k < len; k += 2) {
      unsigned long u = s[k] | (unsigned long)s[k + 1] << 8;
      unsigned long nx = k + 3 < len ? (s[k + 2] | (unsigned long)s[k + 3] << 8) : 0;
      if (u >= 0xD800 && u <= 0xDBFF && nx >= 0xDC00 && nx <= 0xDFFF) {
        u = 0x10000 + ((u - 0xD800) << 10) + (nx - 0xDC00);
        k += 2;
      }
      o += cord__wtf8_put(w + o, u);
    }
  } else {
    for (k = 0; k < len;) {
      size_t before = k;
      if (cord__wtf8_next(s, &k, len, 1) >= 0 && !(s[before] == 0xED && s[before + 1] >= 0xA0)) {
        memcpy(w + o, s + before, k - before);
        o += k - before;
        continue;
      }
      /* One U+FFFD for the longest start of a sequence that could have been valid. */
      k = before + 1;
      if (s[before] >= 0xC2 && s[before] <= 0xF4 && k < len) {
        uint8_t lo = s[before] == 0xE0 ? 0xA0 : s[before] == 0xF0 ? 0x90 : 0x80;
        uint8_t hi = s[before] == 0xED ? 0x9F : s[before] == 0xF4 ? 0x8F : 0xBF;
        size_t want = s[before] >= 0xF0 ? 3 : s[before] >= 0xE0 ? 2 : 1;
        if (s[k] >= lo && s[k] <= hi)
          for (k++; k < len && k - before <= want && (s[k] & 0xC0) == 0x80; k++)
            ;
      }
      o += cord__wtf8_put(w + o, 0xFFFD);
    }
  }
  w[o] = 0;
  d->i += len;
  *out = (const char *)w;
  *outlen = o;
  return 0;
}

/* Reads a string value (a string tag, then its body). */
static int rd_string(dec_t *d, const char **out, size_t *outlen, const char *what) {
  uint8_t tag;
  uint32_t len;
  size_t at;
  int r;
  if ((r = rd_tag(d, &tag)) != 0)
    return r;
  at = d->i - 1;
  if (tag != T_ONE_BYTE && tag != T_TWO_BYTE && tag != T_UTF8)
    return dfail(d, at, CORD_EPROTOCOL, "%s must be a string, not tag 0x%02x", what, tag);
  if ((r = rd_len(d, &len, "a string")) != 0)
    return r;
  return rd_string_body(d, tag, len, out, outlen);
}

static int new_id(dec_t *d, uint32_t *id) {
  if (d->nids >= UINT32_MAX)
    return dfail(d, d->i, CORD_EPROTOCOL, "too many objects");
  if (reserve((void **)&d->ids, &d->capids, d->nids + 1, sizeof *d->ids))
    return dnomem(d);
  d->ids[d->nids] = NULL;
  *id = (uint32_t)d->nids++;
  return 0;
}

static cord_value_t *new_node(dec_t *d, uint8_t type) {
  cord_value_t *v = cord_arena_alloc(d->a, sizeof *v);
  if (v)
    v->type = type;
  return v;
}

static int push_frame(dec_t *d, cord_value_t *node, uint8_t kind, size_t at) {
  frame_t *f;
  if (reserve((void **)&d->fr, &d->capfr, d->nfr + 1, sizeof *d->fr))
    return dnomem(d);
  f = &d->fr[d->nfr++];
  memset(f, 0, sizeof *f);
  f->node = node;
  f->kind = kind;
  f->base = d->ntmp;
  f->at = at;
  return 0;
}

/* Reads the tag of a value, past padding and the object counts ('?') that
 * old writers put before some values and V8 skips; *at is its offset. */
static int rd_value_tag(dec_t *d, uint8_t *tag, size_t *at) {
  uint32_t count;
  int r;
  for (;;) {
    if ((r = rd_tag(d, tag)) != 0)
      return r;
    *at = d->i - 1;
    if (*tag != T_VERIFY_COUNT)
      return 0;
    if ((r = rd_varint(d, &count)) != 0)
      return r;
  }
}

/*
 * Writes x as JavaScript's Number.prototype.toString() does (ECMA-262
 * Number::toString): the shortest digits that read back as x, in plain
 * decimal from 1e-7 up to 1e21 and with an exponent outside. A key 1.5
 * names the property "1.5". Returns the length written into out[32].
 */
/*
 * ECMA-262 asks for the fewest digits that read back as x, which need not
 * be x correctly rounded to that many: -7.291122019556398e-304 reads back
 * as x, its correct rounding ...397e-304 does not. So the neighbours of
 * the rounding are tried as well, the one on x's side first. Changes the
 * last digit of e ("d.ddde-n", as %e writes it) by `by` (+1 or -1), with
 * carry or borrow; keeps the change and returns 1 if the result reads
 * back as x, else leaves e as it was and returns 0.
 */
static int nudge_last_digit(char *e, int by, double x) {
  char t[40];
  char *m = strchr(e, 'e'), *d;
  if (!m)
    return 0;
  snprintf(t, sizeof t, "%s", e);
  d = t + (m - e) - 1;
  for (;; d--) {
    if (*d == '.')
      continue;
    if (by > 0 && *d == '9') {
      *d = '0';
    } else if (by < 0 && *d == '0') {
      *d = '9';
    } else {
      *d = (char)(*d + by);
      break;
    }
    if (d == t)
      return 0; /* 9.99 up, or 1.00 down: another exponent, never the shortest */
  }
  if (t[0] == '0' || strtod(t, NULL) != x)
    return 0;
  memcpy(e, t, strlen(t) + 1);
  return 1;
}

static int js_number(double x, char *out) {
  char e[40], digits[20];
  int p, k = 0, n, i, o = 0;
  if (x != x)
    return sprintf(out, "NaN");
  if (x == 0)
    return sprintf(out, "0");
  if (x < 0)
    out[o++] = '-', x = -x;
  if (x > 1.7976931348623157e308)
    return o + sprintf(out + o, "Infinity");
  for (p = 1; p <= 17; p++) { /* the fewest significant digits that round-trip */
    snprintf(e, sizeof e, "%.*e", p - 1, x);
    if (strtod(e, NULL) == x || nudge_last_digit(e, strtod(e, NULL) < x ? 1 : -1, x) ||
        nudge_last_digit(e, strtod(e, NULL) < x ? -1 : 1, x))
      break;
  }
  for (i = 0; e[i] && e[i] != 'e'; i++)
    if (e[i] != '.')
      digits[k++] = e[i];
  n = atoi(e + i + 1) + 1; /* x = 0.d1d2... * 10^n */
  while (k > 1 && digits[k - 1] == '0')
    k--;
  if (k <= n && n <= 21) {
    memcpy(out + o, digits, (size_t)k), o += k;
    for (i = k; i < n; i++)
      out[o++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(out + o, digits, (size_t)n), o += n;
    out[o++] = '.';
    memcpy(out + o, digits + n, (size_t)(k - n)), o += k - n;
  } else if (-6 < n && n <= 0) {
    out[o++] = '0', out[o++] = '.';
    for (i = n; i < 0; i++)
      out[o++] = '0';
    memcpy(out + o, digits, (size_t)k), o += k;
  } else {
    out[o++] = digits[0];
    if (k > 1) {
      out[o++] = '.';
      memcpy(out + o, digits + 1, (size_t)(k - 1)), o += k - 1;
    }
    o += sprintf(out + o, "e%c%d", n - 1 < 0 ? '-' : '+', n - 1 < 0 ? 1 - n : n - 1);
  }
  out[o] = 0;
  return o;
}

/* Reads an object key: a string, or a number that names an index. */
static int rd_key(dec_t *d, const char **key, size_t *len) {
  uint8_t tag;
  uint32_t u;
  double x;
  char buf[32];
  size_t at;
  int r, n;
  if ((r = rd_value_tag(d, &tag, &at)) != 0)
    return r;
  switch (tag) {
  case T_ONE_BYTE:
  case T_TWO_BYTE:
  case T_UTF8:
    if ((r = rd_len(d, &u, "a string")) != 0)
      return r;
    return rd_string_body(d, tag, u, key, len);
  case T_INT32:
    if ((r = rd_varint(d, &u)) != 0)
      return r;
    if (u & 1) /* zigzag: -1 is 1, -2 is 3, ... */
      n = snprintf(buf, sizeof buf, "-%lu", (unsigned long)(u >> 1) + 1);
    else
      n = snprintf(buf, sizeof buf, "%lu", (unsigned long)(u >> 1));
    break;
  case T_UINT32:
    if ((r = rd_varint(d, &u)) != 0)
      return r;
    n = snprintf(buf, sizeof buf, "%lu", (unsigned long)u);
    break;
  case T_DOUBLE:
    if ((r = rd_double(d, &x)) != 0)
      return r;
    n = js_number(x, buf);
    break;
  default:
    return dfail(d, at, CORD_EPROTOCOL, "an object key must be a string or a number, not tag 0x%02x (%s)", tag,
                 tag_name(tag) ? tag_name(tag) : "unknown");
  }
  {
    char *k = cord_arena_alloc(d->a, (size_t)n + 1);
    if (!k)
      return dnomem(d);
    memcpy(k, buf, (size_t)n + 1);
    *key = k;
    *len = (size_t)n;
  }
  return 0;
}

static int index_cmp(const void *a, const void *b) {
  uint32_t x, y;
  index_key(((const cord_member_t *)a)->key, ((const cord_member_t *)a)->key_len, &x);
  index_key(((const cord_member_t *)b)->key, ((const cord_member_t *)b)->key_len, &y);
  return x < y ? -1 : x > y;
}

/*
 * Puts members in the order JavaScript lists them: element indices
 * ascending, then the other keys as they came. V8 writes them so; a
 * hand-made message may not, and the reader should see what Node.js would.
 */
static int js_order(cord_member_t *m, size_t n) {
  size_t k, nidx = 0, sorted = 1, j = 0;
  uint32_t idx, last = 0;
  cord_member_t *t;
  for (k = 0; k < n; k++)
    if (index_key(m[k].key, m[k].key_len, &idx)) {
      if (k != nidx || (nidx && idx < last))
        sorted = 0;
      last = idx;
      nidx++;
    }
  if (sorted)
    return 0;
  if (!(t = cord__malloc(n * sizeof *t)))
    return -ENOMEM;
  for (k = 0; k < n; k++)
    if (index_key(m[k].key, m[k].key_len, &idx))
      t[j++] = m[k];
  qsort(t, nidx, sizeof *t, index_cmp);
  for (k = 0; k < n; k++)
    if (!index_key(m[k].key, m[k].key_len, &idx))
      t[j++] = m[k];
  memcpy(m, t, n * sizeof *t);
  cord__free(t);
  return 0;
}

/* Moves the top frame's tmp entries into the arena as members. */
static int take_members(dec_t *d, frame_t *f, cord_member_t **out, uint32_t *count) {
  size_t n = d->ntmp - f->base;
  const cord_member_t *dup;
  int nomem;
  cord_member_t *m = NULL;
  if (n) {
    m = cord_arena_alloc(d->a, n * sizeof *m);
    if (!m)
      return dnomem(d);
    memcpy(m, d->tmp + f->base, n * sizeof *m);
  }
  dup = duplicate_key(m, n, &nomem);
  if (nomem)
    return dnomem(d);
  if (dup)
    return dfail(d, d->i, CORD_EPROTOCOL, "the key \"%.60s\" twice in one object (V8 refuses it too)", dup->key);
  if (js_order(m, n))
    return dnomem(d);
  d->ntmp = f->base;
  *out = m;
  *count = (uint32_t)n;
  return 0;
}

static int take_items(dec_t *d, frame_t *f, const cord_value_t ***out, uint32_t *count) {
  size_t n = d->ntmp - f->base, k;
  const cord_value_t **items = NULL;
  if (n) {
    items = cord_arena_alloc(d->a, n * sizeof *items);
    if (!items)
      return dnomem(d);
    for (k = 0; k < n; k++)
      items[k] = d->tmp[f->base + k].value;
  }
  d->ntmp = f->base;
  *out = items;
  *count = (uint32_t)n;
  return 0;
}

/* The end tag of the top frame has been read: checks its counts and completes the node. */
static int finish_frame(dec_t *d, uint8_t tag, size_t at, const cord_value_t **done) {
  frame_t *f = &d->fr[d->nfr - 1];
  cord_value_t *v = f->node;
  uint32_t n1 = 0, n2 = 0, count;
  int r;
  if ((r = rd_varint(d, &n1)) != 0)
    return r;
  if ((tag == T_SPARSE_END || tag == T_DENSE_END) && (r = rd_varint(d, &n2)) != 0)
    return r;
  switch (f->kind) {
  case FR_OBJECT:
    if ((r = take_members(d, f, &v->u.object.members, &count)) != 0)
      return r;
    v->u.object.count = v->u.object.cap = count;
    if (n1 != count)
      return dfail(d, at, CORD_EPROTOCOL, "an object of %u properties says it has %u", (unsigned)count,
                   (unsigned)n1);
    break;
  case FR_SPARSE:
  case FR_DENSE: {
    cord_member_t *m;
    if ((r = take_members(d, f, &m, &count)) != 0)
      return r;
    if (n1 != count || n2 != v->aux)
      return dfail(d, at, CORD_EPROTOCOL, "an array of %u properties and length %u says %u and %u",
                   (unsigned)count, (unsigned)v->aux, (unsigned)n1, (unsigned)n2);
    if (f->kind == FR_SPARSE) { /* an element at or past the length makes it longer, as in JavaScript */
      uint32_t k, idx;
      for (k = 0; k < count; k++)
        if (index_key(m[k].key, m[k].key_len, &idx) && idx >= v->aux)
          v->aux = idx + 1;
    }
    if (count) {
      if (!(v->u.array.props = new_node(d, CORD_VALUE_OBJECT)))
        return dnomem(d);
      v->u.array.props->u.object.members = m;
      v->u.array.props->u.object.count = v->u.array.props->u.object.cap = count;
    }
    break;
  }
  case FR_MAP:
  case FR_SET:
    if ((r = take_items(d, f, &v->u.list.items, &count)) != 0)
      return r;
    v->u.list.count = v->u.list.cap = count;
    if (f->kind == FR_MAP && (count & 1))
      return dfail(d, at, CORD_EPROTOCOL, "a Map ends between a key and its value");
    if (n1 != count)
      return dfail(d, at, CORD_EPROTOCOL, "a %s of %u entries says %u", f->kind == FR_MAP ? "Map" : "Set",
                   (unsigned)count, (unsigned)n1);
    break;
  }
  d->nfr--;
  *done = v;
  return 0;
}

static int end_tag_of(uint8_t kind) {
  switch (kind) {
  case FR_OBJECT: return T_OBJECT_END;
  case FR_SPARSE: return T_SPARSE_END;
  case FR_DENSE: return T_DENSE_END;
  case FR_MAP: return T_MAP_END;
  case FR_SET: return T_SET_END;
  default: return -1;
  }
}

/* Sets member key of e to v, replacing an earlier one (V8 keeps the last). */
static int set_member(dec_t *d, cord_value_t *e, const char *key, const cord_value_t *v) {
  uint32_t k;
  for (k = 0; k < e->u.object.count; k++)
    if (!strcmp(e->u.object.members[k].key, key)) {
      e->u.object.members[k].value = v;
      return 0;
    }
  return cord_value_put(d->a, e, key, v) ? dnomem(d) : 0;
}

/*
 * Reads an Error's fields after its tag, in any order and any number, as
 * V8 11.3 does (it writes prototype, message, cause, stack, end): returns
 * 0 with *done set once the end is read, or 0 with a frame pushed when a
 * cause value comes next (deliver() then calls this again).
 */
static int rd_error(dec_t *d, cord_value_t *e, uint32_t id, int *done) {
  static const char protos[] = "ERFSTU"; /* Eval Range Reference Syntax Type URI */
  *done = 0;
  for (;;) {
    size_t at = d->i, len;
    uint32_t tag;
    const char *s;
    cord_value_t *str;
    int r;
    if ((r = rd_varint_bits(d, &tag, 8)) != 0)
      return r;
    if (tag && tag < 0x80 && strchr(protos, (int)tag)) {
      e->kind = (uint8_t)(strchr(protos, (int)tag) - protos + 1);
    } else if (tag == 'm' || tag == 's') {
      if ((r = rd_string(d, &s, &len, tag == 's' ? "an Error's stack" : "an Error's message")) != 0)
        return r;
      if (!(str = new_node(d, CORD_VALUE_STRING)))
        return dnomem(d);
      str->u.string.ptr = s;
      str->u.string.len = len;
      if ((r = set_member(d, e, tag == 's' ? "stack" : "message", str)) != 0)
        return r;
    } else if (tag == 'c') {
      if ((r = push_frame(d, e, FR_CAUSE, at)) != 0)
        return r;
      d->fr[d->nfr - 1].id = id;
      return 0;
    } else if (tag == '.') {
      d->ids[id] = e; /* complete: from here on it may be referred to */
      *done = 1;
      return 0;
    } else {
      return dfail(d, at, CORD_EPROTOCOL, "an Error field tag 0x%02x that V8 does not write", (unsigned)tag);
    }
  }
}

/* Reads one value's tag and data. A scalar comes back in *v; a container
 * pushes its frame and sets *v to NULL (its elements come next). */
static int rd_value(dec_t *d, const cord_value_t **v) {
  uint8_t tag;
  uint32_t u, id;
  double x;
  size_t at;
  cord_value_t *n = NULL;
  int r;
  *v = NULL;
  if ((r = rd_value_tag(d, &tag, &at)) != 0)
    return r;
  switch (tag) {
  case T_UNDEFINED: *v = &v_undefined; return 0;
  case T_NULL: *v = &v_null; return 0;
  case T_TRUE: *v = &v_true; return 0;
  case T_FALSE: *v = &v_false; return 0;
  case T_INT32:
    if ((r = rd_varint(d, &u)) != 0)
      return r;
    if (!(n = new_node(d, CORD_VALUE_INT32)))
      return dnomem(d);
    n->u.int32 = (int32_t)((u >> 1) ^ (0u - (u & 1)));
    break;
  case T_UINT32:
    if ((r = rd_varint(d, &u)) != 0)
      return r;
    if (!(n = new_node(d, u <= INT32_MAX ? CORD_VALUE_INT32 : CORD_VALUE_DOUBLE)))
      return dnomem(d);
    if (u <= INT32_MAX)
      n->u.int32 = (int32_t)u;
    else
      n->u.number = u;
    break;
  case T_DOUBLE:
  case T_DATE:
    if ((r = rd_double(d, &x)) != 0)
      return r;
    if (tag == T_DATE && (r = new_id(d, &id)) != 0)
      return r;
    if (!(n = new_node(d, tag == T_DATE ? CORD_VALUE_DATE : CORD_VALUE_DOUBLE)))
      return dnomem(d);
    n->u.number = x;
    if (tag == T_DATE)
      d->ids[id] = n;
    break;
  case T_BIGINT:
  case T_BIGINT_OBJECT: {
    uint8_t *digits;
    uint32_t bytes;
    size_t len;
    if (tag == T_BIGINT_OBJECT && (r = new_id(d, &id)) != 0)
      return r;
    if ((r = rd_varint(d, &u)) != 0)
      return r;
    bytes = (u >> 1) & 0x3FFFFFFFu;
    if (!bytes && (u & 1))
      return dfail(d, at, CORD_EPROTOCOL, "a BigInt with a sign and no digits (V8 refuses it too)");
    if (bytes > d->n - d->i)
      return dfail(d, at, CORD_EPROTOCOL, "a BigInt of length %u, with %zu bytes left", (unsigned)bytes, d->n - d->i);
    len = bytes;
    while (len && !d->p[d->i + len - 1])
      len--;
    if (!(n = new_node(d, CORD_VALUE_BIGINT)) || !(digits = cord_arena_alloc(d->a, len ? len : 1)))
      return dnomem(d);
    memcpy(digits, d->p + d->i, len);
    d->i += bytes;
    n->u.bytes.ptr = digits;
    n->u.bytes.len = len;
    n->kind = (uint8_t)(len && (u & 1));
    if (tag == T_BIGINT_OBJECT) {
      cord_value_t *box = new_node(d, CORD_VALUE_BOXED);
      if (!box)
        return dnomem(d);
      box->u.boxed = n;
      n = box;
      d->ids[id] = n;
    }
    break;
  }
  case T_ONE_BYTE:
  case T_TWO_BYTE:
  case T_UTF8:
    if ((r = rd_len(d, &u, "a string")) != 0)
      return r;
    if (!(n = new_node(d, CORD_VALUE_STRING)))
      return dnomem(d);
    return (r = rd_string_body(d, tag, u, &n->u.string.ptr, &n->u.string.len)) ? r : (*v = n, 0);
  case T_REF:
    if (d->flags & CORD_V8_NO_REFS)
      return dfail(d, at, CORD_EUNSUPPORTED, "an object reference (tag '^'), refused by CORD_V8_NO_REFS");
    if ((r = rd_varint(d, &u)) != 0)
      return r;
    if (u >= d->nids || !d->ids[u])
      return dfail(d, at, CORD_EPROTOCOL, "a reference to object %u, which %s", (unsigned)u,
                   u >= d->nids ? "does not exist" : "is not complete");
    *v = d->ids[u];
    return 0;
  case T_OBJECT:
  case T_MAP:
  case T_SET:
    if ((r = new_id(d, &id)) != 0)
      return r;
    if (!(n = new_node(d, tag == T_OBJECT ? CORD_VALUE_OBJECT : tag == T_MAP ? CORD_VALUE_MAP : CORD_VALUE_SET)))
      return dnomem(d);
    d->ids[id] = n;
    return push_frame(d, n, tag == T_OBJECT ? FR_OBJECT : tag == T_MAP ? FR_MAP : FR_SET, at);
  case T_SPARSE:
  case T_DENSE:
    if ((r = tag == T_DENSE ? rd_len(d, &u, "a dense array") : rd_varint(d, &u)) != 0)
      return r;
    if ((r = new_id(d, &id)) != 0)
      return r;
    if (!(n = new_node(d, CORD_VALUE_ARRAY)))
      return dnomem(d);
    n->aux = u;
    if (tag == T_SPARSE)
      n->flags = CORD__V_SPARSE;
    /* A dense array's items are gathered as they come and allocated at
     * their end: a length is only a claim, and nested arrays could each
     * claim the same bytes. */
    d->ids[id] = n;
    return push_frame(d, n, tag == T_DENSE ? FR_DENSE : FR_SPARSE, at);
  case T_TRUE_OBJECT:
  case T_FALSE_OBJECT:
  case T_NUMBER_OBJECT:
  case T_STRING_OBJECT: {
    cord_value_t *in = NULL;
    if ((r = new_id(d, &id)) != 0)
      return r;
    if (tag == T_NUMBER_OBJECT) {
      if ((r = rd_double(d, &x)) != 0)
        return r;
      if (!(in = new_node(d, CORD_VALUE_DOUBLE)))
        return dnomem(d);
      in->u.number = x;
    } else if (tag == T_STRING_OBJECT) {
      if (!(in = new_node(d, CORD_VALUE_STRING)))
        return dnomem(d);
      if ((r = rd_string(d, &in->u.string.ptr, &in->u.string.len, "a String object's value")) != 0)
        return r;
    }
    if (!(n = new_node(d, CORD_VALUE_BOXED)))
      return dnomem(d);
    n->u.boxed = in ? in : tag == T_TRUE_OBJECT ? &v_true : &v_false;
    d->ids[id] = n;
    break;
  }
  case T_REGEXP:
    if ((r = new_id(d, &id)) != 0)
      return r;
    if (!(n = new_node(d, CORD_VALUE_REGEXP)))
      return dnomem(d);
    if ((r = rd_string(d, &n->u.string.ptr, &n->u.string.len, "a RegExp's source")) != 0)
      return r;
    if ((r = rd_varint(d, &n->aux)) != 0)
      return r;
    if (n->aux & ~REGEXP_KNOWN)
      return dfail(d, at, CORD_EPROTOCOL, "RegExp flags 0x%x that V8 refuses", (unsigned)n->aux);
    d->ids[id] = n;
    break;
  case T_ARRAY_BUFFER: {
    uint8_t *b;
    if ((r = new_id(d, &id)) != 0)
      return r;
    if ((r = rd_len(d, &u, "an ArrayBuffer")) != 0)
      return r;
    if (!(n = new_node(d, CORD_VALUE_ARRAYBUFFER)) || !(b = cord_arena_alloc(d->a, u ? u : 1)))
      return dnomem(d);
    memcpy(b, d->p + d->i, u);
    d->i += u;
    n->u.bytes.ptr = b;
    n->u.bytes.len = u;
    d->ids[id] = n;
    if (peek_tag(d) == 'V')
      return dfail(d, d->i, CORD_EUNSUPPORTED, "V8 tag 0x56 'V' (%s) is not supported: Node.js writes views as "
                   "host objects", tag_name('V'));
    break;
  }
  case T_HOST: {
    uint32_t sub, kind;
    uint8_t *b;
    if ((r = new_id(d, &id)) != 0)
      return r;
    if ((r = rd_varint(d, &sub)) != 0)
      return r;
    if (sub == 1) { /* another native object, sent as a plain copy that follows */
      if ((r = push_frame(d, NULL, FR_HOST, at)) != 0)
        return r;
      d->fr[d->nfr - 1].id = id;
      return 0;
    }
    if (sub != 0)
      return dfail(d, at, CORD_EPROTOCOL, "a Node.js host object of kind %u (0 is a view, 1 a copy)", (unsigned)sub);
    if ((r = rd_varint(d, &kind)) != 0)
      return r;
    if (!view_element_size(kind))
      return dfail(d, at, CORD_EPROTOCOL, "a Node.js view of type index %u (Node.js knows 0 to 12)", (unsigned)kind);
    if ((r = rd_len(d, &u, view_name(kind))) != 0)
      return r;
    if (u % view_element_size(kind))
      return dfail(d, at, CORD_EPROTOCOL, "a %s of %u bytes, not a multiple of %zu", view_name(kind), (unsigned)u,
                   view_element_size(kind));
    if (!(n = new_node(d, CORD_VALUE_VIEW)) || !(b = cord_arena_alloc(d->a, u ? u : 1)))
      return dnomem(d);
    memcpy(b, d->p + d->i, u);
    d->i += u;
    n->kind = (uint8_t)kind;
    n->u.bytes.ptr = b;
    n->u.bytes.len = u;
    d->ids[id] = n;
    break;
  }
  case T_ERROR: {
    int done;
    if ((r = new_id(d, &id)) != 0)
      return r;
    if (!(n = new_node(d, CORD_VALUE_ERROR)))
      return dnomem(d);
    if ((r = rd_error(d, n, id, &done)) != 0)
      return r;
    if (!done)
      return 0; /* its cause comes next */
    break;
  }
  default:
    if (tag_name(tag))
      return dfail(d, at, tag == T_HOLE ? CORD_EPROTOCOL : CORD_EUNSUPPORTED,
                   tag == T_HOLE ? "the hole (tag '-') outside a dense array"
                                 : "V8 tag 0x%02x '%c' (%s) is not supported",
                   tag, tag, tag_name(tag));
    return dfail(d, at, CORD_EPROTOCOL, "0x%02x is not a V8 tag", tag);
  }
  *v = n;
  return 0;
}

/* Gives a complete value to the frame that waits for it; returns 1 when it was the whole message. */
static int deliver(dec_t *d, const cord_value_t *v, const cord_value_t **root) {
  for (;;) {
    frame_t *f;
    if (!d->nfr) {
      *root = v;
      return 1;
    }
    f = &d->fr[d->nfr - 1];
    switch (f->kind) {
    case FR_HOST:
      if (!v || v->type < CORD_VALUE_OBJECT)
        return dfail(d, f->at, CORD_EPROTOCOL, "a Node.js host object whose copy is a %s, not an object",
                     v ? cord_value_type_name(v->type) : "hole");
      d->ids[f->id] = v;
      d->nfr--;
      continue;
    case FR_CAUSE: {
      cord_value_t *e = f->node;
      uint32_t id = f->id;
      int r, done;
      d->nfr--;
      if ((r = set_member(d, e, "cause", v)) != 0)
        return r;
      if ((r = rd_error(d, e, id, &done)) != 0)
        return r;
      if (!done)
        return 0; /* another cause follows */
      v = e;
      continue;
    }
    case FR_DENSE:
      if (f->next < f->node->aux) {
        uint32_t count;
        if (reserve((void **)&d->tmp, &d->captmp, d->ntmp + 1, sizeof *d->tmp))
          return dnomem(d);
        memset(&d->tmp[d->ntmp], 0, sizeof *d->tmp);
        d->tmp[d->ntmp++].value = v;
        if (++f->next == f->node->aux)
          return take_items(d, f, &f->node->u.array.items, &count);
        return 0;
      }
      /* Fall through - once the elements are read, values belong to properties. */
    case FR_OBJECT:
    case FR_SPARSE:
      d->tmp[d->ntmp - 1].value = v;
      f->want_value = 0;
      return 0;
    default: /* FR_MAP, FR_SET */
      if (reserve((void **)&d->tmp, &d->captmp, d->ntmp + 1, sizeof *d->tmp))
        return dnomem(d);
      memset(&d->tmp[d->ntmp], 0, sizeof *d->tmp);
      d->tmp[d->ntmp++].value = v;
      return 0;
    }
  }
}

static int decode(dec_t *d, const cord_value_t **out) {
  const cord_value_t *v = NULL, *root = NULL;
  uint8_t tag;
  int r;
  if (d->n < 1 || d->p[0] != T_VERSION)
    return dfail(d, 0, CORD_EPROTOCOL, "no V8 header: the first byte must be 0xff");
  d->i = 1;
  if ((r = rd_varint(d, &d->version)) != 0)
    return r;
  if (d->version > V8_VERSION)
    return dfail(d, 1, CORD_EPROTOCOL, "V8 format version %u, newer than 15 (V8 refuses it too)",
                 (unsigned)d->version);
  /* Version 13 is left out: V8 reads its data twice, the second time in a
   * "broken data" mode whose object ids go on from the first attempt. */
  if (d->version < 14)
    return dfail(d, 1, CORD_EUNSUPPORTED, "V8 format version %u (this codec reads 14 and 15)", (unsigned)d->version);
  for (;;) {
    frame_t *f = d->nfr ? &d->fr[d->nfr - 1] : NULL;
    if (f && f->kind != FR_CAUSE && f->kind != FR_HOST && !f->want_value &&
        !(f->kind == FR_DENSE && f->next < f->node->aux)) {
      /* The frame takes a key (or an item), unless its end comes. */
      int t = peek_tag(d);
      if (t == end_tag_of(f->kind)) {
        size_t at;
        (void)rd_tag(d, &tag);
        at = d->i - 1;
        if ((r = finish_frame(d, tag, at, &v)) != 0)
          return r;
        if ((r = deliver(d, v, &root)) < 0)
          return r;
        if (r)
          break;
        continue;
      }
      if (f->kind == FR_OBJECT || f->kind == FR_SPARSE || f->kind == FR_DENSE) {
        if (reserve((void **)&d->tmp, &d->captmp, d->ntmp + 1, sizeof *d->tmp))
          return dnomem(d);
        memset(&d->tmp[d->ntmp], 0, sizeof *d->tmp);
        {
          size_t at = d->i;
          uint32_t idx;
          cord_member_t *m = &d->tmp[d->ntmp++];
          if ((r = rd_key(d, &m->key, &m->key_len)) != 0)
            return r;
          if (f->kind == FR_DENSE && index_key(m->key, m->key_len, &idx))
            return dfail(d, at, CORD_EPROTOCOL, "a dense array with the element index %s among its properties",
                         m->key);
        }
        f->want_value = 1;
        continue;
      }
    }
    if (f && f->kind == FR_DENSE && f->next < f->node->aux && peek_tag(d) == T_HOLE) {
      (void)rd_tag(d, &tag);
      v = NULL; /* a hole */
    } else {
      if ((r = rd_value(d, &v)) != 0)
        return r;
      if (!v)
        continue; /* a container began */
    }
    if ((r = deliver(d, v, &root)) != 0) {
      if (r < 0)
        return r;
      break;
    }
  }
  /* Bytes after the value are ignored, as Node.js's reader ignores them. */
  *out = root;
  return 0;
}

int cord_v8_decode(cord_arena_t *a, const void *buf, size_t len, unsigned flags, const cord_value_t **out,
                   cord_v8_error_t *err) {
  dec_t d;
  int r;
  *out = NULL;
  memset(&d, 0, sizeof d);
  d.p = buf;
  d.n = buf ? len : 0;
  d.a = a;
  d.flags = flags;
  d.err = err;
  if (flags & ~CORD_V8_NO_REFS)
    return dfail(&d, 0, -EINVAL, "unknown flags 0x%x", flags);
  r = decode(&d, out);
  if (r)
    *out = NULL;
  cord__free(d.fr);
  cord__free(d.tmp);
  cord__free(d.ids);
  return r;
}

/* ======================================================================== */
/* Encoding                                                                  */
/* ======================================================================== */

typedef struct {
  const cord_value_t *v;
  uint32_t i;   /* next child */
  uint8_t part; /* ARRAY: 0 elements, 1 properties; ERROR: 1 once the cause is written */
} eframe_t;

typedef struct {
  uint8_t *buf;
  size_t cap, pos;
  cord_v8_error_t *err;
  const cord_value_t **seen; /* open addressing: the objects written, and their ids */
  uint32_t *seen_id;
  size_t seen_cap, seen_count;
  uint32_t next_id;
  eframe_t *st;
  size_t nst, capst;
} enc_t;

static int efail(enc_t *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_err(e->err, e->pos, fmt, ap);
  va_end(ap);
  return code;
}

static void put(enc_t *e, const void *p, size_t n) {
  if (e->pos <= e->cap && e->cap - e->pos >= n && n)
    memcpy(e->buf + e->pos, p, n);
  e->pos += n;
}

static void put_byte(enc_t *e, uint8_t b) {
  put(e, &b, 1);
}

static size_t varint_len(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80)
    v >>= 7, n++;
  return n;
}

static void put_varint(enc_t *e, uint32_t v) {
  uint8_t b[5];
  size_t n = 0;
  do {
    b[n++] = (uint8_t)((v & 0x7F) | 0x80);
    v >>= 7;
  } while (v);
  b[n - 1] &= 0x7F;
  put(e, b, n);
}

static void put_tag_double(enc_t *e, uint8_t tag, double d) {
  put_byte(e, tag);
  put(e, &d, 8);
}

/* Writes a WTF-8 string as V8 would hold it: Latin-1 if every character fits, else UTF-16 (2-aligned). */
static int put_string(enc_t *e, uint8_t object_tag, const char *str, size_t n) {
  const uint8_t *s = (const uint8_t *)str;
  size_t i = 0, units = 0;
  long cp = 0, max = 0;
  while (i < n) {
    cp = cord__wtf8_next(s, &i, n, cp >= 0xD800 && cp <= 0xDBFF);
    if (cp < 0)
      return efail(e, -EINVAL, "a string that is not UTF-8 (WTF-8), at its byte %zu", i);
    units += cp > 0xFFFF ? 2 : 1;
    if (cp > max)
      max = cp;
  }
  if (units > MAX_STRING_UNITS)
    return efail(e, CORD_ETOOBIG, "a string of %zu UTF-16 units, over V8's %u", units, MAX_STRING_UNITS);
  if (object_tag)
    put_byte(e, object_tag);
  if (max <= 0xFF) {
    put_byte(e, T_ONE_BYTE);
    put_varint(e, (uint32_t)units);
    for (i = 0; i < n;) {
      uint8_t c = (uint8_t)cord__wtf8_next(s, &i, n, 0);
      put_byte(e, c);
    }
    return 0;
  }
  if ((e->pos + 1 + varint_len((uint32_t)(units * 2))) & 1)
    put_byte(e, T_PADDING); /* V8 aligns UTF-16 data to 2 bytes */
  put_byte(e, T_TWO_BYTE);
  put_varint(e, (uint32_t)(units * 2));
  cp = 0;
  for (i = 0; i < n;) {
    uint8_t b[4];
    cp = cord__wtf8_next(s, &i, n, 0);
    if (cp > 0xFFFF) {
      unsigned long hi = 0xD800 + ((unsigned long)(cp - 0x10000) >> 10), lo = 0xDC00 + ((unsigned long)cp & 0x3FF);
      b[0] = (uint8_t)hi, b[1] = (uint8_t)(hi >> 8), b[2] = (uint8_t)lo, b[3] = (uint8_t)(lo >> 8);
      put(e, b, 4);
    } else {
      b[0] = (uint8_t)cp, b[1] = (uint8_t)(cp >> 8);
      put(e, b, 2);
    }
  }
  return 0;
}

static int put_key(enc_t *e, const cord_member_t *m) {
  uint32_t idx;
  if (!m->key && m->key_len)
    return efail(e, -EINVAL, "a member with no key");
  if (index_key(m->key, m->key_len, &idx)) {
    if (idx <= INT32_MAX) {
      put_byte(e, T_INT32);
      put_varint(e, idx << 1);
    } else {
      put_tag_double(e, T_DOUBLE, (double)idx);
    }
    return 0;
  }
  return put_string(e, 0, m->key ? m->key : "", m->key_len);
}

static int put_bigint(enc_t *e, uint8_t tag, const cord_value_t *v) {
  size_t len = v->u.bytes.len, padded;
  static const uint8_t zero[8];
  if (len && !v->u.bytes.ptr)
    return efail(e, -EINVAL, "a BigInt with no digits");
  while (len && !v->u.bytes.ptr[len - 1])
    len--;
  padded = (len + 7) & ~(size_t)7;
  if (padded > MAX_BIGINT_BYTES)
    return efail(e, CORD_ETOOBIG, "a BigInt of %zu bytes, over V8's 2**30 bits", len);
  put_byte(e, tag);
  put_varint(e, (uint32_t)(padded << 1) | (uint32_t)(len && v->kind));
  put(e, v->u.bytes.ptr, len);
  put(e, zero, padded - len);
  return 0;
}

static size_t hash_ptr(const void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

/* The id of v if it was written before (1), or a new id for it (0). */
static int seen(enc_t *e, const cord_value_t *v, uint32_t *id) {
  size_t h, k;
  if (e->seen_count * 2 >= e->seen_cap) {
    size_t cap = e->seen_cap ? e->seen_cap * 2 : 64;
    const cord_value_t **s = cord__calloc(cap, sizeof *s);
    uint32_t *ids = cord__malloc(cap * sizeof *ids);
    if (!s || !ids) {
      cord__free(s);
      cord__free(ids);
      return -ENOMEM;
    }
    for (k = 0; k < e->seen_cap; k++) {
      if (!e->seen[k])
        continue;
      for (h = hash_ptr(e->seen[k], cap); s[h]; h = (h + 1) & (cap - 1))
        ;
      s[h] = e->seen[k];
      ids[h] = e->seen_id[k];
    }
    cord__free(e->seen);
    cord__free(e->seen_id);
    e->seen = s;
    e->seen_id = ids;
    e->seen_cap = cap;
  }
  for (h = hash_ptr(v, e->seen_cap); e->seen[h]; h = (h + 1) & (e->seen_cap - 1))
    if (e->seen[h] == v)
      return *id = e->seen_id[h], 1;
  e->seen[h] = v;
  e->seen_id[h] = *id = e->next_id++;
  e->seen_count++;
  return 0;
}

static int push_eframe(enc_t *e, const cord_value_t *v) {
  if (e->nst >= CORD_V8_MAX_DEPTH)
    return efail(e, CORD_ETOOBIG, "nesting deeper than %d levels, which Node.js may fail to read",
                 CORD_V8_MAX_DEPTH);
  if (reserve((void **)&e->st, &e->capst, e->nst + 1, sizeof *e->st))
    return efail(e, -ENOMEM, "out of memory");
  e->st[e->nst].v = v;
  e->st[e->nst].i = 0;
  e->st[e->nst].part = 0;
  e->nst++;
  return 0;
}

static int check_members(enc_t *e, const cord_value_t *o, int dense_length, uint32_t length) {
  const cord_member_t *dup;
  int nomem;
  uint32_t k, idx;
  if (o->type != CORD_VALUE_OBJECT || (o->u.object.count && !o->u.object.members))
    return efail(e, -EINVAL, "an array's properties are not an object");
  for (k = 0; k < o->u.object.count; k++) {
    const cord_member_t *m = &o->u.object.members[k];
    if (!m->value)
      return efail(e, -EINVAL, "the member \"%.60s\" has no value", m->key ? m->key : "");
    if (dense_length >= 0 && index_key(m->key, m->key_len, &idx))
      return efail(e, -EINVAL, "a dense array with the element index %s among its properties", m->key);
    if (dense_length < 0 && index_key(m->key, m->key_len, &idx) && idx >= length)
      return efail(e, -EINVAL, "a sparse array of length %u with an element at %u", (unsigned)length, (unsigned)idx);
  }
  dup = duplicate_key(o->u.object.members, o->u.object.count, &nomem);
  if (nomem)
    return efail(e, -ENOMEM, "out of memory");
  if (dup)
    return efail(e, -EINVAL, "the key \"%.60s\" twice in one object", dup->key);
  return 0;
}

/* Writes v, or its beginning if it has children (then pushes its frame). */
static int put_value(enc_t *e, const cord_value_t *v) {
  uint32_t id;
  int r;
  if (!v)
    return efail(e, -EINVAL, "a NULL value (only a dense array's holes may be NULL)");
  switch (v->type) {
  case CORD_VALUE_UNDEFINED: put_byte(e, T_UNDEFINED); return 0;
  case CORD_VALUE_NULL: put_byte(e, T_NULL); return 0;
  case CORD_VALUE_BOOL: put_byte(e, v->u.boolean ? T_TRUE : T_FALSE); return 0;
  case CORD_VALUE_INT32:
    put_byte(e, T_INT32);
    put_varint(e, ((uint32_t)v->u.int32 << 1) ^ (uint32_t)(v->u.int32 >> 31));
    return 0;
  case CORD_VALUE_DOUBLE: put_tag_double(e, T_DOUBLE, v->u.number); return 0;
  case CORD_VALUE_BIGINT: return put_bigint(e, T_BIGINT, v);
  case CORD_VALUE_STRING:
    if (!v->u.string.ptr && v->u.string.len)
      return efail(e, -EINVAL, "a string with no bytes");
    return put_string(e, 0, v->u.string.ptr ? v->u.string.ptr : "", v->u.string.len);
  default:
    break;
  }
  if (v->type > CORD_VALUE_ERROR)
    return efail(e, -EINVAL, "an unknown value type %u", (unsigned)v->type);
  /* An object: written once, then referred to by its id. */
  if ((r = seen(e, v, &id)) < 0)
    return efail(e, r, "out of memory");
  if (r) {
    put_byte(e, T_REF);
    put_varint(e, id);
    return 0;
  }
  switch (v->type) {
  case CORD_VALUE_DATE: put_tag_double(e, T_DATE, v->u.number); return 0;
  case CORD_VALUE_REGEXP:
    if (v->aux & ~REGEXP_KNOWN)
      return efail(e, -EINVAL, "RegExp flags 0x%x that V8 refuses", (unsigned)v->aux);
    put_byte(e, T_REGEXP);
    if ((r = put_string(e, 0, v->u.string.ptr ? v->u.string.ptr : "", v->u.string.len)) != 0)
      return r;
    put_varint(e, v->aux);
    return 0;
  case CORD_VALUE_ARRAYBUFFER:
  case CORD_VALUE_VIEW:
    if (v->u.bytes.len > UINT32_MAX || (v->u.bytes.len && !v->u.bytes.ptr))
      return efail(e, v->u.bytes.len > UINT32_MAX ? CORD_ETOOBIG : -EINVAL, "%s of %zu bytes",
                   v->type == CORD_VALUE_VIEW ? view_name(v->kind) : "an ArrayBuffer", v->u.bytes.len);
    if (v->type == CORD_VALUE_VIEW) {
      if (!view_element_size(v->kind))
        return efail(e, -EINVAL, "a view of unknown kind %u", (unsigned)v->kind);
      if (v->u.bytes.len % view_element_size(v->kind))
        return efail(e, -EINVAL, "a %s of %zu bytes, not a multiple of %zu", view_name(v->kind), v->u.bytes.len,
                     view_element_size(v->kind));
      put_byte(e, T_HOST);
      put_varint(e, 0);
      put_varint(e, v->kind);
    } else {
      put_byte(e, T_ARRAY_BUFFER);
    }
    put_varint(e, (uint32_t)v->u.bytes.len);
    put(e, v->u.bytes.ptr, v->u.bytes.len);
    return 0;
  case CORD_VALUE_BOXED: {
    const cord_value_t *in = v->u.boxed;
    switch (in ? in->type : 255) {
    case CORD_VALUE_BOOL: put_byte(e, in->u.boolean ? T_TRUE_OBJECT : T_FALSE_OBJECT); return 0;
    case CORD_VALUE_INT32: put_tag_double(e, T_NUMBER_OBJECT, in->u.int32); return 0;
    case CORD_VALUE_DOUBLE: put_tag_double(e, T_NUMBER_OBJECT, in->u.number); return 0;
    case CORD_VALUE_BIGINT: return put_bigint(e, T_BIGINT_OBJECT, in);
    case CORD_VALUE_STRING: return put_string(e, T_STRING_OBJECT, in->u.string.ptr ? in->u.string.ptr : "",
                                              in->u.string.len);
    default: return efail(e, -EINVAL, "a boxed value that is not a boolean, number, BigInt or string");
    }
  }
  case CORD_VALUE_OBJECT:
    if ((r = check_members(e, v, -1, UINT32_MAX)) != 0)
      return r;
    put_byte(e, T_OBJECT);
    return push_eframe(e, v);
  case CORD_VALUE_ARRAY: {
    int sparse = (v->flags & CORD__V_SPARSE) != 0;
    if (!sparse && v->aux && !v->u.array.items)
      return efail(e, -EINVAL, "a dense array of length %u with no items", (unsigned)v->aux);
    if (v->u.array.props && (r = check_members(e, v->u.array.props, sparse ? -1 : (int)1, v->aux)) != 0)
      return r;
    put_byte(e, sparse ? T_SPARSE : T_DENSE);
    put_varint(e, v->aux);
    return push_eframe(e, v);
  }
  case CORD_VALUE_MAP:
  case CORD_VALUE_SET:
    if (v->type == CORD_VALUE_MAP && (v->u.list.count & 1))
      return efail(e, -EINVAL, "a Map with a key and no value (%u items)", (unsigned)v->u.list.count);
    put_byte(e, v->type == CORD_VALUE_MAP ? T_MAP : T_SET);
    return push_eframe(e, v);
  case CORD_VALUE_ERROR: {
    static const char protos[] = "ERFSTU";
    const cord_value_t *msg = cord_value_get(v, "message"), *stack = cord_value_get(v, "stack");
    uint32_t known = !!msg + !!stack + !!cord_value_get(v, "cause");
    if (v->kind > CORD_ERROR_URI)
      return efail(e, -EINVAL, "an Error of unknown kind %u", (unsigned)v->kind);
    if (known != v->u.object.count)
      return efail(e, -EINVAL, "an Error carries only \"message\", \"stack\" and \"cause\", once each");
    if ((msg && msg->type != CORD_VALUE_STRING) || (stack && stack->type != CORD_VALUE_STRING))
      return efail(e, -EINVAL, "an Error's message and stack must be strings");
    put_byte(e, T_ERROR);
    if (v->kind)
      put_varint(e, (uint8_t)protos[v->kind - 1]);
    if (msg) {
      put_varint(e, 'm');
      if ((r = put_string(e, 0, msg->u.string.ptr ? msg->u.string.ptr : "", msg->u.string.len)) != 0)
        return r;
    }
    return push_eframe(e, v); /* then the cause, the stack and the end, as V8 11.3 writes them */
  }
  default:
    return efail(e, -EINVAL, "an unknown value type %u", (unsigned)v->type);
  }
}

/* Writes the next child of the top frame, or its end. */
static int step(enc_t *e) {
  eframe_t *f = &e->st[e->nst - 1];
  const cord_value_t *v = f->v;
  int r;
  switch (v->type) {
  case CORD_VALUE_OBJECT:
    if (f->i < v->u.object.count) {
      const cord_member_t *m = &v->u.object.members[f->i++];
      return (r = put_key(e, m)) ? r : put_value(e, m->value);
    }
    put_byte(e, T_OBJECT_END);
    put_varint(e, v->u.object.count);
    break;
  case CORD_VALUE_ARRAY: {
    const cord_value_t *props = v->u.array.props;
    uint32_t np = props ? props->u.object.count : 0;
    if (f->part == 0 && !(v->flags & CORD__V_SPARSE) && f->i < v->aux) {
      const cord_value_t *item = v->u.array.items[f->i++];
      if (!item) {
        put_byte(e, T_HOLE);
        return 0;
      }
      return put_value(e, item);
    }
    if (f->part == 0)
      f->part = 1, f->i = 0;
    if (f->i < np) {
      const cord_member_t *m = &props->u.object.members[f->i++];
      return (r = put_key(e, m)) ? r : put_value(e, m->value);
    }
    put_byte(e, (v->flags & CORD__V_SPARSE) ? T_SPARSE_END : T_DENSE_END);
    put_varint(e, np);
    put_varint(e, v->aux);
    break;
  }
  case CORD_VALUE_MAP:
  case CORD_VALUE_SET:
    if (f->i < v->u.list.count) {
      if (!v->u.list.items)
        return efail(e, -EINVAL, "a %s with no items", cord_value_type_name(v->type));
      return put_value(e, v->u.list.items[f->i++]);
    }
    put_byte(e, v->type == CORD_VALUE_MAP ? T_MAP_END : T_SET_END);
    put_varint(e, v->u.list.count);
    break;
  case CORD_VALUE_ERROR: {
    const cord_value_t *cause = cord_value_get(v, "cause"), *stack = cord_value_get(v, "stack");
    if (cause && !f->part) {
      f->part = 1;
      put_varint(e, 'c');
      return put_value(e, cause);
    }
    if (stack) {
      put_varint(e, 's');
      if ((r = put_string(e, 0, stack->u.string.ptr ? stack->u.string.ptr : "", stack->u.string.len)) != 0)
        return r;
    }
    put_varint(e, '.');
    break;
  }
  }
  e->nst--;
  return 0;
}

int cord_v8_encode(const cord_value_t *v, void *buf, size_t cap, size_t *len, cord_v8_error_t *err) {
  enc_t e;
  int r;
  memset(&e, 0, sizeof e);
  e.buf = buf;
  e.cap = buf ? cap : 0;
  e.err = err;
  put_byte(&e, T_VERSION);
  put_varint(&e, V8_VERSION);
  r = put_value(&e, v);
  while (!r && e.nst)
    r = step(&e);
  cord__free(e.seen);
  cord__free(e.seen_id);
  cord__free(e.st);
  *len = e.pos;
  if (r)
    return r;
  if (e.pos > e.cap)
    return efail(&e, -ENOBUFS, "the value needs %zu bytes, the buffer has %zu", e.pos, cap);
  return 0;
}
