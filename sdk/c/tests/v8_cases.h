/* v8_cases.h: the values node_v8_peer.js sends, built in C, for the tests that hold the codec and the advanced binding to real Node.js. */
#ifndef CORD_TEST_V8_CASES_H
#define CORD_TEST_V8_CASES_H

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "cord.h"

/* The arena every builder below takes its nodes from. */
static cord_arena_t A;

static inline cord_value_t *S(const char *s) {
  return cord_value_string(&A, s, strlen(s));
}
static inline cord_value_t *I(int32_t i) {
  return cord_value_int32(&A, i);
}
static inline cord_value_t *D(double d) {
  return cord_value_double(&A, d);
}
static inline cord_value_t *B(cord_value_type_t t, unsigned kind, const void *p, size_t n) {
  return cord_value_bytes(&A, t, kind, p, n);
}
/* An object from key, value pairs ending with NULL. */
static inline cord_value_t *obj(const char *key, ...) {
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  va_list ap;
  va_start(ap, key);
  for (; key; key = va_arg(ap, const char *))
    cord_value_put(&A, o, key, va_arg(ap, const cord_value_t *));
  va_end(ap);
  return o;
}
/* A container of `type` (ARRAY, SET, MAP) from n values. */
static inline cord_value_t *list(cord_value_type_t type, int n, ...) {
  cord_value_t *l = cord_value_new(&A, type);
  va_list ap;
  va_start(ap, n);
  while (n--)
    cord_value_push(&A, l, va_arg(ap, const cord_value_t *));
  va_end(ap);
  return l;
}
static inline cord_value_t *boxed(const cord_value_t *in) {
  cord_value_t *b = cord_value_new(&A, CORD_VALUE_BOXED);
  b->u.boxed = in;
  return b;
}
static inline cord_value_t *error(cord_error_kind_t kind, const char *msg, const cord_value_t *cause) {
  cord_value_t *e = cord_value_new(&A, CORD_VALUE_ERROR);
  e->kind = (uint8_t)kind;
  cord_value_put(&A, e, "message", S(msg));
  if (cause)
    cord_value_put(&A, e, "cause", cause);
  return e;
}
static inline cord_value_t *sparse(uint32_t length, uint32_t i, const cord_value_t *v, uint32_t j, const cord_value_t *w) {
  cord_value_t *a = cord_value_array(&A, length, 1);
  cord_value_set_index(&A, a, i, v);
  if (w)
    cord_value_set_index(&A, a, j, w);
  return a;
}

/* The values of node_v8_peer.js, built in C. */
static inline const cord_value_t *expected(const char *name) {
  static const uint8_t two64[] = {0, 0, 0, 0, 0, 0, 0, 0, 1}, ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                       two63[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
  uint8_t two200[26] = {0};
  double f64[2] = {1.5, -0.0};
  float f32 = 0.5f;
  two200[25] = 1;
#define IS(n) (!strcmp(name, n))
  if (IS("int")) return I(1);
  if (IS("neg")) return I(-1);
  if (IS("i30")) return I(1 << 30);
  if (IS("imax")) return I(INT32_MAX);
  if (IS("imin")) return I(INT32_MIN);
  if (IS("dbl")) return D(1.5);
  if (IS("negzero")) return D(-0.0);
  if (IS("nan")) return D(NAN);
  if (IS("inf")) return D(-INFINITY);
  if (IS("two31")) return D(2147483648.0);
  if (IS("empty")) return S("");
  if (IS("ascii")) return S("ascii");
  if (IS("latin1")) return S("caf\xc3\xa9");
  if (IS("utf16")) return S("\xe2\x82\xacuro");
  if (IS("pair")) return S("a\xf0\x9f\x98\x80" "b");
  if (IS("lone")) return S("\xed\xa0\x80x");
  if (IS("nul")) return cord_value_string(&A, "a\0b", 3);
  if (IS("t")) return cord_value_bool(&A, 1);
  if (IS("f")) return cord_value_bool(&A, 0);
  if (IS("nil")) return cord_value_new(&A, CORD_VALUE_NULL);
  if (IS("undef")) return cord_value_new(&A, CORD_VALUE_UNDEFINED);
  if (IS("big0")) return cord_value_bigint_i64(&A, 0);
  if (IS("big5")) return cord_value_bigint_i64(&A, 5);
  if (IS("bigneg")) return cord_value_bigint_i64(&A, -5);
  if (IS("big64")) return B(CORD_VALUE_BIGINT, 0, two64, sizeof two64);
  if (IS("bighuge")) return B(CORD_VALUE_BIGINT, 1, two200, sizeof two200);
  if (IS("date")) return cord_value_date(&A, 0);
  if (IS("date2")) return cord_value_date(&A, 1700000000123.0);
  if (IS("baddate")) return cord_value_date(&A, NAN);
  if (IS("re")) return cord_value_regexp(&A, "a+b", 3, CORD_REGEXP_GLOBAL | CORD_REGEXP_IGNORE_CASE);
  if (IS("re2"))
    return cord_value_regexp(&A, "x", 1, CORD_REGEXP_HAS_INDICES | CORD_REGEXP_MULTILINE | CORD_REGEXP_DOT_ALL |
                                             CORD_REGEXP_UNICODE | CORD_REGEXP_STICKY);
  if (IS("re3")) return cord_value_regexp(&A, "[\\p{L}]", 7, CORD_REGEXP_UNICODE_SETS);
  if (IS("map")) return list(CORD_VALUE_MAP, 4, I(1), S("a"), S("k"), obj("x", I(1), NULL));
  if (IS("set")) return list(CORD_VALUE_SET, 3, I(1), S("a"), cord_value_new(&A, CORD_VALUE_NULL));
  if (IS("ab")) return B(CORD_VALUE_ARRAYBUFFER, 0, "\1\2\3", 3);
  if (IS("buf")) return B(CORD_VALUE_VIEW, CORD_VIEW_BUFFER, "\1\2\3", 3);
  if (IS("i8")) return B(CORD_VALUE_VIEW, CORD_VIEW_INT8, "\xff\2", 2);
  if (IS("u8")) return B(CORD_VALUE_VIEW, CORD_VIEW_UINT8, "\xff", 1);
  if (IS("u8c")) return B(CORD_VALUE_VIEW, CORD_VIEW_UINT8_CLAMPED, "\7", 1);
  if (IS("i16")) return B(CORD_VALUE_VIEW, CORD_VIEW_INT16, "\xfe\xff", 2);
  if (IS("u16")) return B(CORD_VALUE_VIEW, CORD_VIEW_UINT16, "\2\1", 2);
  if (IS("i32")) return B(CORD_VALUE_VIEW, CORD_VIEW_INT32, "\xfd\xff\xff\xff", 4);
  if (IS("u32")) return B(CORD_VALUE_VIEW, CORD_VIEW_UINT32, "\x00\x28\x6b\xee", 4);
  if (IS("f32")) return B(CORD_VALUE_VIEW, CORD_VIEW_FLOAT32, &f32, 4);
  if (IS("f64")) return B(CORD_VALUE_VIEW, CORD_VIEW_FLOAT64, f64, 16);
  if (IS("dv")) return B(CORD_VALUE_VIEW, CORD_VIEW_DATAVIEW, "\x09\x08", 2);
  if (IS("bi64")) return B(CORD_VALUE_VIEW, CORD_VIEW_BIGINT64, ones, 8);
  if (IS("bu64")) return B(CORD_VALUE_VIEW, CORD_VIEW_BIGUINT64, two63, 8);
  if (IS("dense"))
    return list(CORD_VALUE_ARRAY, 4, I(1), S("a"), cord_value_new(&A, CORD_VALUE_NULL),
                cord_value_new(&A, CORD_VALUE_UNDEFINED));
  if (IS("sparse")) return sparse(3, 0, I(1), 2, I(3));
  if (IS("bigsparse")) return sparse(1000001, 1000000, I(1), 0, NULL);
  if (IS("props")) {
    cord_value_t *a = list(CORD_VALUE_ARRAY, 2, I(1), I(2));
    cord_value_put(&A, a, "x", I(3));
    return a;
  }
  if (IS("obj")) /* V8's order: element indices ascending, then names as they were added */
    return obj("1", I(2), "2147483648", I(3), "a", I(1), "b", obj("c", list(CORD_VALUE_ARRAY, 2, I(1), I(2)), NULL),
               "\xc3\xa9", S("x"), NULL);
  if (IS("shared")) {
    cord_value_t *o = obj(NULL);
    return list(CORD_VALUE_ARRAY, 2, o, o);
  }
  if (IS("cyc")) {
    cord_value_t *o = obj(NULL);
    cord_value_put(&A, o, "self", o);
    return o;
  }
  if (IS("boxed"))
    return list(CORD_VALUE_ARRAY, 5, boxed(cord_value_bool(&A, 1)), boxed(cord_value_bool(&A, 0)), boxed(D(2.5)),
                boxed(S("s\xe2\x82\xac")), boxed(cord_value_bigint_i64(&A, 5)));
  if (IS("err")) return error(CORD_ERROR_RANGE, "m", NULL);
  if (IS("err2")) return error(CORD_ERROR_TYPE, "t", S("c"));
#undef IS
  return NULL;
}

/* The string in v, or "" for another type. */
static inline const char *str(const cord_value_t *v) {
  return v && v->type == CORD_VALUE_STRING ? v->u.string.ptr : "";
}

#endif
