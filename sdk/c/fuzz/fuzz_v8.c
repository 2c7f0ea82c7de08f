/* fuzz_v8.c: libFuzzer harness for the advanced-serialization codec: decode any bytes within the arena bound, and re-encode to a fixed point. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cord.h"

/*
 * For any input: decoding never crashes, never needs more arena than
 * CORD_V8_ARENA_BOUND(size), and fails only with EPROTOCOL or
 * EUNSUPPORTED. For a decoded value: encoding succeeds (or refuses a
 * value Node.js could not read: too deep, or a sparse element past the
 * length), the encoding decodes again, and encodes to the same bytes.
 */
static uint8_t *encode(const cord_value_t *v, size_t *len, int *r) {
  uint8_t *out;
  *r = cord_v8_encode(v, NULL, 0, len, NULL);
  if (*r != -ENOBUFS)
    return NULL;
  out = malloc(*len);
  *r = cord_v8_encode(v, out, *len, len, NULL);
  if (*r) {
    free(out);
    return NULL;
  }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cord_arena_t a;
  const cord_value_t *v, *w;
  cord_v8_error_t e;
  size_t l1, l2;
  uint8_t *b1, *b2;
  int r;
  cord_arena_init(&a, CORD_V8_ARENA_BOUND(size));
  r = cord_v8_decode(&a, data, size, 0, &v, &e);
  if (r == -ENOMEM || a.bytes > CORD_V8_ARENA_BOUND(size)) {
    fprintf(stderr, "fuzz_v8: %zu input bytes needed more than the arena bound\n", size);
    abort();
  }
  if (r && r != CORD_EPROTOCOL && r != CORD_EUNSUPPORTED)
    abort();
  if (r == 0) {
    b1 = encode(v, &l1, &r);
    if (!b1) {
      if (r != CORD_ETOOBIG && r != -EINVAL)
        abort();
    } else {
      cord_arena_t a2;
      cord_arena_init(&a2, 0);
      if (cord_v8_decode(&a2, b1, l1, 0, &w, &e)) {
        fprintf(stderr, "fuzz_v8: our own encoding does not decode: %s\n", e.what);
        abort();
      }
      b2 = encode(w, &l2, &r);
      if (!b2 || l1 != l2 || memcmp(b1, b2, l1)) {
        fprintf(stderr, "fuzz_v8: decode-encode is not a fixed point\n");
        abort();
      }
      free(b2);
      cord_arena_free(&a2);
      free(b1);
    }
  }
  cord_arena_free(&a);
  return 0;
}
