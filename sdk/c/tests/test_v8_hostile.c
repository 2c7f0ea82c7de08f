/* test_v8_hostile.c: bytes from a hostile peer: clear errors naming the tag, memory bounded by the input, no recursion, no crash. */
#include <stdlib.h>

#include "helpers.h"

/* A message using most tags, as Node.js wrote it (with a Buffer from its channel). */
static const uint8_t rich[] = {
    0xff, 0x0f, 0x6f, 0x22, 0x01, 0x61, 0x41, 0x03, 0x49, 0x02, 0x63, 0x02, 0xac, 0x20, 0x5f, 0x24, 0x00, 0x03,
    0x22, 0x01, 0x62, 0x3b, 0x49, 0x02, 0x5a, 0x10, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x3a, 0x02, 0x22, 0x01, 0x63,
    0x27, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x52, 0x22, 0x01, 0x78, 0x01, 0x2c, 0x02, 0x22, 0x01, 0x64, 0x5c,
    0x00, 0x0a, 0x02, 0x01, 0x02, 0x22, 0x01, 0x65, 0x61, 0x05, 0x49, 0x02, 0x5e, 0x00, 0x40, 0x01, 0x05, 0x7b,
    0x05};

static int decode(const uint8_t *p, size_t n, size_t limit, cord_v8_error_t *e) {
  cord_arena_t a;
  const cord_value_t *v;
  cord_arena_init(&a, limit);
  int r = cord_v8_decode(&a, p, n, 0, &v, e);
  cord_arena_free(&a);
  return r;
}

Test(v8_hostile, the_rich_message_decodes) {
  cord_v8_error_t e;
  cr_assert_eq(decode(rich, sizeof rich, 0, &e), 0, "%s at %zu", e.what, e.offset);
}

Test(v8_hostile, every_cut_and_every_flipped_byte) {
  cord_v8_error_t e;
  for (size_t k = 0; k < sizeof rich; k++) {
    uint8_t *c = malloc(k ? k : 1);
    memcpy(c, rich, k);
    int r = decode(c, k, 0, &e);
    cr_expect_eq(r, CORD_EPROTOCOL, "cut at %zu: %d (%s)", k, r, e.what);
    cr_expect_leq(e.offset, k);
    free(c);
  }
  uint8_t m[sizeof rich];
  for (size_t k = 2; k < sizeof rich; k++)
    for (int bit = 0; bit < 8; bit++) {
      memcpy(m, rich, sizeof m);
      m[k] ^= (uint8_t)(1u << bit);
      int r = decode(m, sizeof m, CORD_V8_ARENA_BOUND(sizeof m), &e);
      cr_expect(r == 0 || r == CORD_EPROTOCOL || r == CORD_EUNSUPPORTED, "byte %zu bit %d: %d", k, bit, r);
    }
}

static void refused(const uint8_t *p, size_t n, int code, const char *part) {
  cord_v8_error_t e = {0, ""};
  int r = decode(p, n, 1 << 20, &e);
  cr_expect_eq(r, code, "got %d (%s)", r, e.what);
  cr_expect(strstr(e.what, part) != NULL, "\"%s\" lacks \"%s\"", e.what, part);
}

Test(v8_hostile, lengths_are_checked_before_they_are_trusted) {
  uint8_t s[] = {0xff, 0x0f, 0x22, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
  refused(s, sizeof s, CORD_EPROTOCOL, "a string of length 4294967295, with 1 bytes left");
  uint8_t arr[] = {0xff, 0x0f, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x5f};
  refused(arr, sizeof arr, CORD_EPROTOCOL, "a dense array of length 4294967295, with 1 bytes left");
  uint8_t ab[] = {0xff, 0x0f, 0x42, 0x80, 0x80, 0x04, 0};
  refused(ab, sizeof ab, CORD_EPROTOCOL, "an ArrayBuffer of length 65536");
  uint8_t big[] = {0xff, 0x0f, 0x5a, 0xfe, 0xff, 0xff, 0xff, 0x07, 1};
  refused(big, sizeof big, CORD_EPROTOCOL, "a BigInt of");
  uint8_t view[] = {0xff, 0x0f, 0x5c, 0x00, 0x08, 0x10, 1, 2};
  refused(view, sizeof view, CORD_EPROTOCOL, "Float64Array of length 16, with 2 bytes left");
  uint8_t odd[] = {0xff, 0x0f, 0x5c, 0x00, 0x08, 0x03, 1, 2, 3};
  refused(odd, sizeof odd, CORD_EPROTOCOL, "not a multiple of 8");
  /* Nested arrays each claiming every byte left cost nothing until their elements come. */
  uint8_t nested[64];
  size_t n = 2;
  nested[0] = 0xff, nested[1] = 0x0f;
  for (; n < sizeof nested; n += 2)
    nested[n] = 0x41, nested[n + 1] = (uint8_t)(sizeof nested - n - 2);
  refused(nested, n, CORD_EPROTOCOL, "ends where a tag");
}

Test(v8_hostile, tags_not_covered_are_named) {
  uint8_t sab[] = {0xff, 0x0f, 'u', 0};
  refused(sab, sizeof sab, CORD_EUNSUPPORTED, "V8 tag 0x75 'u' (SharedArrayBuffer) is not supported");
  uint8_t wasm[] = {0xff, 0x0f, 'w', 0};
  refused(wasm, sizeof wasm, CORD_EUNSUPPORTED, "WebAssembly.Module");
  uint8_t rab[] = {0xff, 0x0f, '~', 0, 0};
  refused(rab, sizeof rab, CORD_EUNSUPPORTED, "resizable ArrayBuffer");
  uint8_t v8view[] = {0xff, 0x0f, 'B', 1, 0, 'V', 'B', 0, 1, 0};
  refused(v8view, sizeof v8view, CORD_EUNSUPPORTED, "'V'");
  uint8_t unknown[] = {0xff, 0x0f, 0x01};
  refused(unknown, sizeof unknown, CORD_EPROTOCOL, "0x01 is not a V8 tag");
  uint8_t newer[] = {0xff, 0x10, 0x5f};
  refused(newer, sizeof newer, CORD_EPROTOCOL, "version 16");
  uint8_t older[] = {0xff, 0x0d, 0x5f};
  refused(older, sizeof older, CORD_EUNSUPPORTED, "version 13");
  uint8_t nohead[] = {0x5f};
  refused(nohead, sizeof nohead, CORD_EPROTOCOL, "no V8 header");
  uint8_t bigsign[] = {0xff, 0x0f, 0x5a, 0x01};
  refused(bigsign, sizeof bigsign, CORD_EPROTOCOL, "a sign and no digits");
  uint8_t hostcopy[] = {0xff, 0x0f, 0x5c, 0x01, 0x49, 0x02};
  refused(hostcopy, sizeof hostcopy, CORD_EPROTOCOL, "copy is a int32, not an object");
  uint8_t dup[] = {0xff, 0x0f, 0x6f, 0x22, 0x01, 0x31, 0x5f, 0x49, 0x02, 0x5f, 0x7b, 0x02};
  refused(dup, sizeof dup, CORD_EPROTOCOL, "the key \"1\" twice");
  uint8_t count[] = {0xff, 0x0f, 0x6f, 0x7b, 0x01};
  refused(count, sizeof count, CORD_EPROTOCOL, "0 properties says it has 1");
  uint8_t ref[] = {0xff, 0x0f, 0x5e, 0x00};
  refused(ref, sizeof ref, CORD_EPROTOCOL, "object 0, which does not exist");
  uint8_t incomplete[] = {0xff, 0x0f, 0x5c, 0x01, 0x5e, 0x00};
  refused(incomplete, sizeof incomplete, CORD_EPROTOCOL, "object 0, which is not complete");
  uint8_t oddmap[] = {0xff, 0x0f, 0x3b, 0x5f, 0x3a, 0x01};
  refused(oddmap, sizeof oddmap, CORD_EPROTOCOL, "between a key and its value");
  uint8_t hole[] = {0xff, 0x0f, 0x2d};
  refused(hole, sizeof hole, CORD_EPROTOCOL, "the hole");
  uint8_t key[] = {0xff, 0x0f, 0x6f, 0x6f, 0x7b, 0x00, 0x5f, 0x7b, 0x01};
  refused(key, sizeof key, CORD_EPROTOCOL, "key must be a string or a number");
}

/* Where V8 is lenient, the decoder is too (found by differential fuzzing
 * against Node.js's own reader): it reads what Node.js reads, the same way. */
Test(v8_hostile, read_as_node_reads) {
  cord_arena_t a;
  const cord_value_t *v;
  cord_arena_init(&a, 0);
  /* bytes after the value are ignored */
  uint8_t trailing[] = {0xff, 0x0f, 0x5f, 0x5f, 0x01};
  cr_expect_eq(cord_v8_decode(&a, trailing, sizeof trailing, 0, &v, NULL), 0);
  /* a varint takes at most 5 bytes (2 for an Error's field tags), and what does not fit is dropped */
  uint8_t vint[] = {0xff, 0x0f, 0x49, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  cr_assert_eq(cord_v8_decode(&a, vint, sizeof vint, 0, &v, NULL), 0);
  cr_expect_eq(v->u.int32, INT32_MIN);
  uint8_t errtag[] = {0xff, 0x0f, 0x72, 0xae, 0x12}; /* 0x092e as 8 bits: 0x2e, the end */
  cr_assert_eq(cord_v8_decode(&a, errtag, sizeof errtag, 0, &v, NULL), 0);
  cr_expect_eq(v->type, CORD_VALUE_ERROR);
  /* but a varint whose last byte promises more must have a byte after it (found by fuzz_v8) */
  uint8_t cut[] = {0xff, 0x0f, 0x55, 0xe0, 0xff, 0xff, 0xff, 0xb9};
  cr_expect_eq(cord_v8_decode(&a, cut, sizeof cut, 0, &v, NULL), CORD_EPROTOCOL);
  /* a sparse array's element past its length makes it longer */
  uint8_t grow[] = {0xff, 0x0f, 0x61, 0x03, 0x49, 0x0e, 0x49, 0x02, 0x40, 0x01, 0x03};
  cr_assert_eq(cord_v8_decode(&a, grow, sizeof grow, 0, &v, NULL), 0);
  cr_expect_eq(v->aux, 8);
  cr_expect_eq(cord_value_index(v, 7)->u.int32, 1);
  /* a number key names the property JavaScript prints for it */
  uint8_t key[] = {0xff, 0x0f, 0x6f, 0x4e, 0,    0,    0,    0,    0,    0,    0xf8, 0x3f, 0x5f,
                   0x4e, 0x50, 0xef, 0xe2, 0xd6, 0xe4, 0x1a, 0x4b, 0x44, 0x5f, 0x7b, 0x02};
  cr_assert_eq(cord_v8_decode(&a, key, sizeof key, 0, &v, NULL), 0);
  cr_expect_str_eq(v->u.object.members[0].key, "1.5");
  cr_expect_str_eq(v->u.object.members[1].key, "1e+21");
  /* RegExp flags u and v together: V8 11.3 takes them */
  uint8_t uv[] = {0xff, 0x0f, 0x52, 0x22, 0x01, 0x61, 0x90, 0x02};
  cr_expect_eq(cord_v8_decode(&a, uv, sizeof uv, 0, &v, NULL), 0);
  cord_arena_free(&a);
}

/* A million levels: the decoder's stack is its own, on the heap, not C's. */
Test(v8_hostile, deep_nesting_without_recursion) {
  size_t levels = 1000000, n = 2;
  uint8_t *p = malloc(levels * 6 + 8);
  p[0] = 0xff, p[1] = 0x0f;
  for (size_t i = 0; i < levels; i++)
    memcpy(p + n, "o\"\001a", 4), n += 4;
  p[n++] = 0x5f;
  for (size_t i = 0; i < levels; i++)
    p[n++] = 0x7b, p[n++] = 0x01;
  cord_v8_error_t e;
  cr_expect_eq(decode(p, n, 0, &e), 0, "%s at %zu", e.what, e.offset);
  free(p);
}

/* The arena's bound holds for the worst input: one Boolean object per byte. */
Test(v8_hostile, memory_is_a_small_multiple_of_the_input) {
  size_t count = 100000, n = 0;
  uint8_t *p = malloc(count + 32);
  p[n++] = 0xff, p[n++] = 0x0f, p[n++] = 0x41;
  p[n++] = (uint8_t)(0x80 | (count & 0x7f)), p[n++] = (uint8_t)(0x80 | ((count >> 7) & 0x7f)),
  p[n++] = (uint8_t)(count >> 14);
  memset(p + n, 'y', count), n += count; /* new Boolean(true), 100,000 times over */
  p[n++] = 0x24, p[n++] = 0x00;
  p[n++] = (uint8_t)(0x80 | (count & 0x7f)), p[n++] = (uint8_t)(0x80 | ((count >> 7) & 0x7f)),
  p[n++] = (uint8_t)(count >> 14);
  cord_v8_error_t e;
  cord_arena_t a;
  const cord_value_t *v;
  cord_arena_init(&a, CORD_V8_ARENA_BOUND(n));
  cr_expect_eq(cord_v8_decode(&a, p, n, 0, &v, &e), 0, "%s", e.what);
  cr_expect_leq(a.bytes, CORD_V8_ARENA_BOUND(n));
  cr_log_info("%zu input bytes of Boolean objects: %zu arena bytes (%.1f per byte)", n, a.bytes,
              (double)a.bytes / (double)n);
  cord_arena_free(&a);
  /* A limit too small is a clean ENOMEM. */
  cord_arena_init(&a, 8 * n);
  cr_expect_eq(cord_v8_decode(&a, p, n, 0, &v, &e), -ENOMEM);
  cr_expect_null(v);
  cord_arena_free(&a);
  free(p);
}

/* Every allocation failing in turn (through cord_replace_allocator()):
 * the answer is -ENOMEM, and nothing is lost or leaked. */
static long budget, outstanding;
static void *fail_malloc(size_t n) {
  void *p = budget-- > 0 ? malloc(n) : NULL;
  outstanding += p != NULL;
  return p;
}
static void *fail_calloc(size_t c, size_t n) {
  void *p = budget-- > 0 ? calloc(c, n) : NULL;
  outstanding += p != NULL;
  return p;
}
static void *fail_realloc(void *o, size_t n) {
  void *p = budget-- > 0 ? realloc(o, n) : NULL;
  outstanding += p != NULL && o == NULL;
  return p;
}
static void count_free(void *p) {
  outstanding -= p != NULL;
  free(p);
}

Test(v8_hostile, every_allocation_failing_in_turn) {
  cr_assert_eq(cord_replace_allocator(fail_malloc, fail_realloc, fail_calloc, count_free), 0);
  int done = 0;
  for (long k = 0; !done && k < 100000; k++) {
    cord_arena_t a;
    const cord_value_t *v;
    uint8_t out[512];
    size_t len;
    budget = k;
    outstanding = 0;
    cord_arena_init(&a, 0);
    int r = cord_v8_decode(&a, rich, sizeof rich, 0, &v, NULL);
    cr_assert(r == 0 || r == -ENOMEM, "allocation %ld failing: %d", k, r);
    if (r == 0) {
      r = cord_v8_encode(v, out, sizeof out, &len, NULL);
      cr_assert(r == 0 || r == -ENOMEM, "allocation %ld failing: encode %d", k, r);
      done = r == 0;
    }
    cord_arena_free(&a);
    cr_assert_eq(outstanding, 0, "allocation %ld failing: %ld blocks left", k, outstanding);
  }
  cr_expect(done, "never succeeded");
}
