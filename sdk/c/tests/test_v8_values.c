/* test_v8_values.c: building and reading advanced-serialization values, and their bytes, which are the bytes V8 writes. */
#include <math.h>
#include <stdlib.h>

#include "helpers.h"

/* Hex as Node.js 20's v8.serialize() (or its advanced channel, for views) wrote it. */
static size_t unhex(const char *h, uint8_t *out) {
  size_t n = 0;
  unsigned x;
  int k;
  while (sscanf(h, " %2x%n", &x, &k) == 1)
    out[n++] = (uint8_t)x, h += k;
  return n;
}

static void encodes_as(const cord_value_t *v, const char *hex) {
  uint8_t want[4096], got[4096];
  size_t n = unhex(hex, want), len = 0;
  cord_v8_error_t e = {0, ""};
  int r = cord_v8_encode(v, got, sizeof got, &len, &e);
  cr_assert_eq(r, 0, "encode: %s", e.what);
  cr_expect_eq(len, n, "length %zu, V8 wrote %zu (%s)", len, n, hex);
  cr_expect_arr_eq(got, want, n < len ? n : len, "bytes differ from V8's %s", hex);
}

static const cord_value_t *decodes(cord_arena_t *a, const char *hex) {
  uint8_t in[4096];
  size_t n = unhex(hex, in);
  const cord_value_t *v;
  cord_v8_error_t e = {0, ""};
  int r = cord_v8_decode(a, in, n, 0, &v, &e);
  cr_assert_eq(r, 0, "decode %s: %s at %zu", hex, e.what, e.offset);
  /* and back: the same bytes */
  encodes_as(v, hex);
  return v;
}

Test(v8_values, scalars_and_strings) {
  cord_arena_t a;
  cord_arena_init(&a, 0);
  encodes_as(cord_value_new(&a, CORD_VALUE_UNDEFINED), "ff 0f 5f");
  encodes_as(cord_value_new(&a, CORD_VALUE_NULL), "ff 0f 30");
  encodes_as(cord_value_bool(&a, 1), "ff 0f 54");
  encodes_as(cord_value_int32(&a, -1), "ff 0f 49 01");
  encodes_as(cord_value_int32(&a, 1 << 30), "ff 0f 49 80 80 80 80 08");
  encodes_as(cord_value_int32(&a, INT32_MAX), "ff 0f 49 fe ff ff ff 0f");
  encodes_as(cord_value_double(&a, 1.5), "ff 0f 4e 00 00 00 00 00 00 f8 3f");
  encodes_as(cord_value_double(&a, 2147483648.0), "ff 0f 4e 00 00 00 00 00 00 e0 41");
  encodes_as(cord_value_double(&a, -0.0), "ff 0f 4e 00 00 00 00 00 00 00 80");
  encodes_as(cord_value_string(&a, "", 0), "ff 0f 22 00");
  encodes_as(cord_value_string(&a, "\xc3\xa9", 2), "ff 0f 22 01 e9");            /* Latin-1 */
  encodes_as(cord_value_string(&a, "\xe2\x82\xac", 3), "ff 0f 63 02 ac 20");      /* UTF-16 */
  encodes_as(cord_value_string(&a, "a\xe2\x82\xac", 4), "ff 0f 63 04 61 00 ac 20");
  encodes_as(cord_value_string(&a, "\xed\xa0\x80", 3), "ff 0f 63 02 00 d8");      /* lone surrogate */
  encodes_as(cord_value_date(&a, 0), "ff 0f 44 00 00 00 00 00 00 00 00");
  encodes_as(cord_value_bigint_i64(&a, 0), "ff 0f 5a 00");
  encodes_as(cord_value_bigint_i64(&a, -5), "ff 0f 5a 11 05 00 00 00 00 00 00 00");
  uint8_t two64[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
  encodes_as(cord_value_bytes(&a, CORD_VALUE_BIGINT, 0, two64, 9),
             "ff 0f 5a 20 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00");
  encodes_as(cord_value_regexp(&a, "a", 1, 0xbf), "ff 0f 52 22 01 61 bf 01");
  encodes_as(cord_value_regexp(&a, "a", 1, CORD_REGEXP_UNICODE_SETS), "ff 0f 52 22 01 61 80 02");

  /* UTF-8 (tag S), which V8 reads but does not write: decoded, and bad bytes become U+FFFD as in V8. */
  const cord_value_t *v;
  uint8_t s8[] = {0xff, 0x0f, 'S', 6, 'a', 0xff, 0xe2, 0x82, 0xac, 0xc3};
  cr_assert_eq(cord_v8_decode(&a, s8, sizeof s8, 0, &v, NULL), 0);
  cr_expect_eq(v->type, CORD_VALUE_STRING);
  cr_expect_str_eq(v->u.string.ptr, "a\xef\xbf\xbd\xe2\x82\xac\xef\xbf\xbd");
  /* A surrogate pair in UTF-16 is one 4-byte character in UTF-8. */
  v = decodes(&a, "ff 0f 63 04 3d d8 00 de");
  cr_expect_str_eq(v->u.string.ptr, "\xf0\x9f\x98\x80");
  /* Not WTF-8: refused by the builder. */
  cr_expect_null(cord_value_string(&a, "\xff", 1));
  cr_expect_null(cord_value_string(&a, "\xed\xa0\xbd\xed\xb8\x80", 6), "a pair spelled as two surrogates");
  cord_arena_free(&a);
}

Test(v8_values, containers_as_v8_writes_them) {
  cord_arena_t a;
  cord_arena_init(&a, 0);
  /* {1:2}: an index key is a number */
  cord_value_t *o = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_put(&a, o, "1", cord_value_int32(&a, 2));
  encodes_as(o, "ff 0f 6f 49 02 49 04 7b 01");
  o = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_put(&a, o, "2147483648", cord_value_int32(&a, 1));
  encodes_as(o, "ff 0f 6f 4e 00 00 00 00 00 00 e0 41 49 02 7b 01");
  o = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_put(&a, o, "-1", cord_value_int32(&a, 1));
  encodes_as(o, "ff 0f 6f 22 02 2d 31 49 02 7b 01");
  /* [1,2] and [1,2] with a.x = 3 */
  cord_value_t *arr = cord_value_new(&a, CORD_VALUE_ARRAY);
  cord_value_push(&a, arr, cord_value_int32(&a, 1));
  cord_value_push(&a, arr, cord_value_int32(&a, 2));
  encodes_as(arr, "ff 0f 41 02 49 02 49 04 24 00 02");
  cord_value_put(&a, arr, "x", cord_value_int32(&a, 3));
  encodes_as(arr, "ff 0f 41 02 49 02 49 04 22 01 78 49 06 24 01 02");
  /* [1,,3] is sparse in V8; so is a[1e6] = 1 */
  cord_value_t *sp = cord_value_array(&a, 3, 1);
  cord_value_set_index(&a, sp, 0, cord_value_int32(&a, 1));
  cord_value_set_index(&a, sp, 2, cord_value_int32(&a, 3));
  encodes_as(sp, "ff 0f 61 03 49 00 49 02 49 04 49 06 40 02 03");
  cr_expect_null(cord_value_index(sp, 1));
  cr_expect_eq(cord_value_index(sp, 2)->u.int32, 3);
  sp = cord_value_array(&a, 1000001, 1);
  cord_value_set_index(&a, sp, 1000000, cord_value_int32(&a, 1));
  encodes_as(sp, "ff 0f 61 c1 84 3d 49 80 89 7a 49 02 40 01 c1 84 3d");
  /* Map, Set */
  cord_value_t *m = cord_value_new(&a, CORD_VALUE_MAP);
  cord_value_push(&a, m, cord_value_int32(&a, 1));
  cord_value_push(&a, m, cord_value_int32(&a, 2));
  encodes_as(m, "ff 0f 3b 49 02 49 04 3a 02");
  cord_value_t *s = cord_value_new(&a, CORD_VALUE_SET);
  cord_value_push(&a, s, cord_value_string(&a, "a", 1));
  encodes_as(s, "ff 0f 27 22 01 61 2c 01");
  /* binary: ArrayBuffer, and Node.js's host objects on its channel */
  encodes_as(cord_value_bytes(&a, CORD_VALUE_ARRAYBUFFER, 0, "\0\0", 2), "ff 0f 42 02 00 00");
  encodes_as(cord_value_bytes(&a, CORD_VALUE_VIEW, CORD_VIEW_BUFFER, "\1", 1), "ff 0f 5c 00 0a 01 01");
  encodes_as(cord_value_bytes(&a, CORD_VALUE_VIEW, CORD_VIEW_UINT16, "\1\0", 2), "ff 0f 5c 00 04 02 01 00");
  /* boxed primitives: [new Boolean(true), new Number(1), new String('x'), Object(5n)] */
  cord_value_t *bx = cord_value_new(&a, CORD_VALUE_ARRAY), *b;
  const cord_value_t *in[4] = {cord_value_bool(&a, 1), cord_value_double(&a, 1), cord_value_string(&a, "x", 1),
                               cord_value_bigint_i64(&a, 5)};
  for (int i = 0; i < 4; i++) {
    b = cord_value_new(&a, CORD_VALUE_BOXED);
    b->u.boxed = in[i];
    cord_value_push(&a, bx, b);
  }
  encodes_as(bx, "ff 0f 41 04 79 6e 00 00 00 00 00 00 f0 3f 73 22 01 78 7a 10 05 00 00 00 00 00 00 00 24 00 04");
  /* new RangeError('m') with a stack */
  cord_value_t *err = cord_value_new(&a, CORD_VALUE_ERROR);
  err->kind = CORD_ERROR_RANGE;
  cord_value_put(&a, err, "message", cord_value_string(&a, "m", 1));
  cord_value_put(&a, err, "stack", cord_value_string(&a, "RangeError: m", 13));
  encodes_as(err, "ff 0f 72 52 6d 22 01 6d 73 22 0d 52 61 6e 67 65 45 72 72 6f 72 3a 20 6d 2e");
  cord_arena_free(&a);
}

Test(v8_values, shared_objects_and_cycles) {
  cord_arena_t a;
  cord_arena_init(&a, 0);
  /* const o = {}; [o, o] */
  cord_value_t *o = cord_value_new(&a, CORD_VALUE_OBJECT), *arr = cord_value_new(&a, CORD_VALUE_ARRAY);
  cord_value_push(&a, arr, o);
  cord_value_push(&a, arr, o);
  encodes_as(arr, "ff 0f 41 02 6f 7b 00 5e 01 24 00 02");
  /* const o = {}; o.o = o */
  cord_value_t *c = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_put(&a, c, "o", c);
  encodes_as(c, "ff 0f 6f 22 01 6f 5e 00 7b 01");
  const cord_value_t *v = decodes(&a, "ff 0f 6f 22 01 6f 5e 00 7b 01");
  cr_expect_eq(cord_value_get(v, "o"), v, "the cycle is the same node");
  v = decodes(&a, "ff 0f 41 02 6f 7b 00 5e 01 24 00 02");
  cr_expect_eq(cord_value_index(v, 0), cord_value_index(v, 1));
  /* CORD_V8_NO_REFS: a tree or nothing */
  uint8_t in[] = {0xff, 0x0f, 0x6f, 0x22, 0x01, 0x6f, 0x5e, 0x00, 0x7b, 0x01};
  cord_v8_error_t e;
  cr_expect_eq(cord_v8_decode(&a, in, sizeof in, CORD_V8_NO_REFS, &v, &e), CORD_EUNSUPPORTED);
  cr_expect(strstr(e.what, "'^'") != NULL, "%s", e.what);
  cord_arena_free(&a);
}

Test(v8_values, reading_what_node_sent) {
  cord_arena_t a;
  cord_arena_init(&a, 0);
  /* {"seq":1} as seen on the wire, and an object with every kind of member */
  const cord_value_t *v = decodes(&a, "ff 0f 6f 22 03 73 65 71 49 02 7b 01");
  cr_assert_eq(v->type, CORD_VALUE_OBJECT);
  cr_expect_eq(cord_value_get(v, "seq")->u.int32, 1);
  v = decodes(&a, "ff 0f 72 52 6d 22 01 6d 73 22 0d 52 61 6e 67 65 45 72 72 6f 72 3a 20 6d 2e");
  cr_expect_eq(v->type, CORD_VALUE_ERROR);
  cr_expect_eq(v->kind, CORD_ERROR_RANGE);
  cr_expect_str_eq(cord_value_get(v, "message")->u.string.ptr, "m");
  v = decodes(&a, "ff 0f 5c 00 08 08 00 00 00 00 00 00 f8 3f");
  cr_expect_eq(v->type, CORD_VALUE_VIEW);
  cr_expect_eq(v->kind, CORD_VIEW_FLOAT64);
  cr_expect_eq(((const double *)v->u.bytes.ptr)[0], 1.5, "aligned to 8: readable as doubles");
  /* a host object that is no view: a plain copy that follows it */
  uint8_t host[] = {0xff, 0x0f, 0x5c, 0x01, 0x6f, 0x22, 0x01, 0x61, 0x5f, 0x7b, 0x01};
  cr_assert_eq(cord_v8_decode(&a, host, sizeof host, 0, &v, NULL), 0);
  cr_expect_eq(v->type, CORD_VALUE_OBJECT);
  cr_expect_eq(cord_value_get(v, "a")->type, CORD_VALUE_UNDEFINED);
  /* members in JavaScript's order: element indices first, ascending, whatever the wire's */
  uint8_t order[] = {0xff, 0x0f, 0x6f, 0x22, 0x01, 0x61, 0x49, 0x02, 0x49, 0x04, 0x49, 0x06, 0x49, 0x02, 0x49, 0x02, 0x7b, 0x03};
  cr_assert_eq(cord_v8_decode(&a, order, sizeof order, 0, &v, NULL), 0);
  cr_expect_str_eq(v->u.object.members[0].key, "1");
  cr_expect_str_eq(v->u.object.members[1].key, "2");
  cr_expect_str_eq(v->u.object.members[2].key, "a");
  /* padding, U (uint32) and ? (object count) are read, as V8 does */
  uint8_t pads[] = {0xff, 0x0f, 0x00, 0x00, 0x3f, 0x01, 0x55, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00};
  cr_assert_eq(cord_v8_decode(&a, pads, sizeof pads, 0, &v, NULL), 0);
  cr_expect_eq(v->type, CORD_VALUE_DOUBLE);
  cr_expect_eq(v->u.number, 2147483648.0);
  cord_arena_free(&a);
}

Test(v8_values, encoder_refusals) {
  cord_arena_t a;
  cord_arena_init(&a, 0);
  cord_v8_error_t e;
  size_t len;
  uint8_t buf[256];
  cord_value_t *o = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_put(&a, o, "k", cord_value_int32(&a, 1));
  cord_value_put(&a, o, "k", cord_value_int32(&a, 2));
  cr_expect_eq(cord_v8_encode(o, buf, sizeof buf, &len, &e), -EINVAL);
  cr_expect(strstr(e.what, "\"k\" twice") != NULL, "%s", e.what);
  /* a key given as "1" and as 1 is the same key */
  o = cord_value_new(&a, CORD_VALUE_OBJECT);
  for (int i = 0; i < 40; i++) {
    char k[8];
    snprintf(k, sizeof k, "%d", i % 39);
    cord_value_put(&a, o, k, cord_value_int32(&a, i));
  }
  cr_expect_eq(cord_v8_encode(o, buf, sizeof buf, &len, &e), -EINVAL, "40 keys, one twice");
  /* a string that is not UTF-8, smuggled past the builder */
  cord_value_t *s = cord_value_string(&a, "ok", 2);
  s->u.string.ptr = "\xc0\xaf";
  cr_expect_eq(cord_v8_encode(s, buf, sizeof buf, &len, &e), -EINVAL);
  /* the buffer is too small: ENOBUFS, with the length needed */
  cord_value_t *big = cord_value_bytes(&a, CORD_VALUE_ARRAYBUFFER, 0, buf, 200);
  cr_expect_eq(cord_v8_encode(big, buf, 10, &len, &e), -ENOBUFS);
  cr_expect_eq(len, 2 + 1 + 2 + 200);
  cr_expect_eq(cord_v8_encode(big, NULL, 0, &len, NULL), -ENOBUFS);
  cr_expect_eq(len, 205);
  /* too deep for Node.js to read: refused, not sent */
  cord_value_t *deep = cord_value_new(&a, CORD_VALUE_ARRAY), *cur = deep;
  for (int i = 0; i < CORD_V8_MAX_DEPTH; i++) {
    cord_value_t *n = cord_value_new(&a, CORD_VALUE_ARRAY);
    cord_value_push(&a, cur, n);
    cur = n;
  }
  cr_expect_eq(cord_v8_encode(deep, NULL, 0, &len, &e), CORD_ETOOBIG, "%s", e.what);
  cr_expect_eq(cord_v8_encode(deep->u.array.items[0], NULL, 0, &len, &e), -ENOBUFS, "one level less is fine");
  /* a view whose length is no multiple of its element; a boxed object */
  cr_expect_eq(cord_v8_encode(cord_value_bytes(&a, CORD_VALUE_VIEW, CORD_VIEW_FLOAT64, buf, 3), NULL, 0, &len, &e),
               -EINVAL);
  cord_value_t *bx = cord_value_new(&a, CORD_VALUE_BOXED);
  bx->u.boxed = o;
  cr_expect_eq(cord_v8_encode(bx, NULL, 0, &len, &e), -EINVAL);
  /* an element index among a dense array's properties */
  cord_value_t *arr = cord_value_array(&a, 2, 0);
  cord_value_set_index(&a, arr, 0, cord_value_int32(&a, 0));
  cord_value_put(&a, arr, "1", cord_value_int32(&a, 1));
  cr_expect_eq(cord_v8_encode(arr, NULL, 0, &len, &e), -EINVAL);
  cord_arena_free(&a);
}

Test(v8_values, arena_limit_and_reuse) {
  cord_arena_t a;
  cord_arena_init(&a, 8192);
  int n = 0;
  while (cord_value_int32(&a, n))
    n++;
  cr_expect_gt(n, 100);
  cr_expect_leq(a.bytes, 8192, "the arena holds %zu", a.bytes);
  cord_arena_reset(&a);
  cr_expect_not_null(cord_value_int32(&a, 1), "reset gives the memory back");
  cord_arena_free(&a);
  cr_expect_eq(a.bytes, 0);
}

/* A number key names its property as JavaScript prints the number: the
 * fewest digits that read back as it, which need not be its correct
 * rounding to that many (a case fuzz_v8 found). The names are Node.js
 * 20's String(x). */
Test(v8_values, number_keys_are_named_as_javascript_prints_them) {
  static const struct {
    double x;
    const char *name;
  } keys[] = {{1.5, "1.5"},         {-7.291122019556398e-304, "-7.291122019556398e-304"},
              {1e21, "1e+21"},      {1e-7, "1e-7"},
              {123e-20, "1.23e-18"}, {5e-324, "5e-324"},
              {0.1 + 0.2, "0.30000000000000004"}, {9007199254740994.0, "9007199254740994"},
              {1.0 / 3, "0.3333333333333333"}};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    uint8_t in[32] = {0xff, 0x0f, 'o', 'N'};
    const cord_value_t *v;
    cord_arena_t a;
    cord_arena_init(&a, 0);
    memcpy(in + 4, &keys[i].x, 8);
    memcpy(in + 12, "I\x02{\x01", 4);
    cr_assert_eq(cord_v8_decode(&a, in, 16, 0, &v, NULL), 0);
    cr_assert_eq(v->u.object.count, 1);
    cr_expect_str_eq(v->u.object.members[0].key, keys[i].name);
    cord_arena_free(&a);
  }
}
