/* cord_scan.c: the one reading of a Cord frame body that spec FRAME-6, FRAME-7 and FRAME-14 allow, without allocation. */
#include "cord_scan.h"

#include <string.h>

/* Protobuf wire types [FRAME-14]: 3 and 4 (groups) and 6, 7 do not exist in
 * proto3 and are refused wherever they appear. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* What a known field is, by body member and field number. */
enum {
  T_UNKNOWN = 0, /* not in the schema: skipped [FRAME-9] */
  T_U32,         /* uint32: a varint that fits 32 bits */
  T_U64,         /* uint64: any varint */
  T_I32,         /* an enum: a varint that is an int32, sign-extended when negative */
  T_F32,         /* fixed32 */
  T_STR0,        /* string or bytes, kept in s[0] */
  T_STR1,        /* string or bytes, kept in s[1] */
  T_TYPED,       /* Message.payload's typed member: a Typed message */
  T_PAYLOAD      /* Message.payload's json or raw member, kept in s[1] */
};

/* Rows: the body members (field numbers of Frame); columns: field numbers
 * 1 to 9 of each member's message, as proto/cord.proto defines them. */
static const unsigned char schema[8][10] = {
    [CORD_SCAN_HELLO] = {0, T_F32, T_U32, T_U32, T_U32, T_U32, T_U64, T_U32, T_STR0, T_STR1},
    [CORD_SCAN_MESSAGE] = {0, T_U64, T_U64, T_U32, T_U32, T_TYPED, T_PAYLOAD, T_PAYLOAD},
    [CORD_SCAN_CANCEL] = {0, T_U64},
    [CORD_SCAN_PING] = {0, T_U64},
    [CORD_SCAN_PONG] = {0, T_U64},
    [CORD_SCAN_GOODBYE] = {0, T_I32, T_STR0},
    [CORD_SCAN_ERROR] = {0, T_U32, T_STR0},
};

/* The wire type each kind of field must arrive in. */
static const unsigned char wire_of[] = {
    [T_U32] = WT_VARINT, [T_U64] = WT_VARINT, [T_I32] = WT_VARINT, [T_F32] = WT_I32,
    [T_STR0] = WT_LEN,   [T_STR1] = WT_LEN,   [T_TYPED] = WT_LEN,  [T_PAYLOAD] = WT_LEN,
};

/* A reader over one message's bytes; the first rule broken wins. */
typedef struct {
  const uint8_t *p, *end;
  const char *why;
  const uint8_t *at;
  uint32_t *top; /* where the largest field number goes */
} rd_t;

static int broken(rd_t *r, const char *why) {
  r->why = why;
  r->at = r->p;
  return -1;
}

/* A varint of at most 10 bytes whose value fits 64 bits (the tenth byte
 * is 0 or 1), as nanopb reads it. */
static int varint(rd_t *r, uint64_t *v) {
  uint64_t x = 0;
  for (unsigned i = 0; i < 10; i++) {
    if (r->p == r->end)
      return broken(r, "a varint runs past the end of its message");
    uint8_t b = *r->p++;
    if (i == 9 && b > 1)
      return broken(r, "a varint exceeds 64 bits");
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return broken(r, "a varint is longer than 10 bytes");
}

/*
 * Reads the next field of the message: its number, wire type, and value
 * (a varint or fixed number in *v, a length-delimited one in *s). Returns
 * 1 for a field, 0 at the end of the message, -1 when a rule is broken.
 */
static int field(rd_t *r, uint32_t *num, unsigned *wt, uint64_t *v, cord_scan_span_t *s) {
  uint64_t tag, len;
  if (r->p == r->end)
    return 0;
  if (varint(r, &tag) < 0)
    return -1;
  if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
    return broken(r, "a field number is 0 or above 536870911");
  *num = (uint32_t)(tag >> 3);
  *wt = (unsigned)(tag & 7);
  if (*num > *r->top)
    *r->top = *num;
  switch (*wt) {
  case WT_VARINT:
    return varint(r, v) < 0 ? -1 : 1;
  case WT_I64:
  case WT_I32: {
    size_t k = *wt == WT_I64 ? 8 : 4;
    if ((size_t)(r->end - r->p) < k)
      return broken(r, "a fixed-size field runs past the end of its message");
    *v = 0;
    for (size_t i = 0; i < k; i++)
      *v |= (uint64_t)r->p[i] << (8 * i);
    r->p += k;
    return 1;
  }
  case WT_LEN:
    if (varint(r, &len) < 0)
      return -1;
    if (len > (uint64_t)(r->end - r->p))
      return broken(r, "a length-delimited field runs past the end of its message");
    s->p = r->p;
    s->n = (size_t)len;
    r->p += len;
    return 1;
  default:
    return broken(r, "a field has wire type 3, 4, 6 or 7, which proto3 does not use");
  }
}

/* Reads a member's message into f. */
static int member(rd_t *r, cord_scan_frame_t *f) {
  uint32_t num;
  unsigned wt;
  uint64_t v = 0;
  cord_scan_span_t s = {0};
  int k;
  while ((k = field(r, &num, &wt, &v, &s)) > 0) {
    unsigned t = num < 10 ? schema[f->body][num] : T_UNKNOWN;
    if (t == T_UNKNOWN)
      continue;
    if (wt != wire_of[t])
      return broken(r, "a known field has the wrong wire type");
    switch (t) {
    case T_U32:
      if (v > 0xffffffffu)
        return broken(r, "a uint32 field holds a value above 4294967295");
      /* fall through */
    case T_U64:
    case T_F32:
      f->v[num] = v;
      break;
    case T_I32:
      if ((int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX)
        return broken(r, "an enum field holds a value outside int32");
      f->v[num] = v;
      break;
    case T_STR0:
    case T_STR1:
      f->s[t - T_STR0] = s;
      break;
    case T_TYPED:
    case T_PAYLOAD:
      if (f->payload)
        return broken(r, "Message.payload holds a second member");
      f->payload = (int)num;
      f->s[0] = (cord_scan_span_t){s.p, 0};
      f->s[1] = t == T_PAYLOAD ? s : (cord_scan_span_t){s.p, 0};
      if (t == T_TYPED) {
        rd_t sub = {s.p, s.p + s.n, NULL, NULL, r->top};
        while ((k = field(&sub, &num, &wt, &v, &s)) > 0 && (num > 2 || wt == WT_LEN))
          if (num <= 2)
            f->s[num - 1] = s; /* Typed: 1 type, 2 value */
        if (k > 0)
          k = broken(&sub, "a known field has the wrong wire type");
        if (k < 0) {
          r->why = sub.why;
          r->at = sub.at;
          return -1;
        }
      }
      break;
    }
  }
  return k;
}

int cord_scan(const uint8_t *b, size_t n, cord_scan_frame_t *f, const char **why, size_t *at) {
  rd_t r;
  uint32_t num;
  unsigned wt;
  uint64_t v;
  cord_scan_span_t s = {0};
  int k;

  memset(f, 0, sizeof *f);
  r = (rd_t){b, b + n, NULL, NULL, &f->top_field};
  while ((k = field(&r, &num, &wt, &v, &s)) > 0) {
    if (num > CORD_SCAN_ERROR)
      continue; /* a member of a newer schema [FRAME-8] */
    if (wt != WT_LEN) {
      k = broken(&r, "a member of Frame.body is not length-delimited");
      break;
    }
    if (f->body) {
      k = broken(&r, "Frame.body holds a second member");
      break;
    }
    f->body = (int)num;
    rd_t m = {s.p, s.p + s.n, NULL, NULL, &f->top_field};
    if ((k = member(&m, f)) < 0) {
      r.why = m.why;
      r.at = m.at;
      break;
    }
  }
  if (k < 0) {
    if (why)
      *why = r.why;
    if (at)
      *at = (size_t)(r.at - b);
    return -1;
  }
  return 0;
}
