/* fuzz_v8.c: libFuzzer harness for the advanced-serialization codec: decode any bytes within the arena bound, and re-encode to a fixed point. */
#include "cord.h"
#include "oracle.h"

/*
 * For any input: decoding never crashes, never needs more arena than
 * CORD_V8_ARENA_BOUND(size), and fails only with EPROTOCOL or
 * EUNSUPPORTED. For a decoded value: encoding succeeds (or refuses a
 * value too deep for Node.js to read), the encoding decodes again, and
 * encodes to the same bytes.
 *
 * With CORD_FUZZ_NODE and CORD_FUZZ_V8_ORACLE (v8_oracle.js) in the
 * environment, every input also goes to Node.js's own advanced-channel
 * reader. Where both read it, Node.js must read C's re-encoding as the
 * same value (sharing and cycles included). Where only one does, the
 * other's reason must be one of those sdk/c/README.md gives: C refuses a
 * tag it does not cover, a typed array whose length is no multiple of its
 * element (Node.js truncates it) and an element index among a dense
 * array's properties (V8 takes some), and cannot send back a value too
 * deep for Node.js; Node.js refuses a RegExp source it cannot compile and
 * nesting past its stack. Anything else aborts. CORD_FUZZ_V8_EXPLORE=1
 * prints every input on which the two differ.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  oracle_start(getenv("CORD_FUZZ_NODE"), "--expose-internals", getenv("CORD_FUZZ_V8_ORACLE"));
  return 0;
}

/* What Node.js says of the input, given C's encoding of it (NULL: C refused, with r and why). */
static void ask_node(const uint8_t *data, size_t size, const uint8_t *enc, size_t enc_len, int r, const char *why) {
  char line[1024];
  oracle_put32((uint32_t)size);
  oracle_write(data, size);
  oracle_put32(enc ? (uint32_t)enc_len : 0xffffffffu);
  if (enc)
    oracle_write(enc, enc_len);
  oracle_read_line(line, sizeof line);
  if (getenv("CORD_FUZZ_V8_EXPLORE") && strcmp(line, "equal") && strcmp(line, "both-refuse")) {
    size_t k;
    fprintf(stderr, "fuzz_v8: %.*s   C: %d %s  [", (int)strcspn(line, "\n"), line, r, why);
    for (k = 0; k < size && k < 48; k++)
      fprintf(stderr, "%02x", data[k]);
    fprintf(stderr, "]\n");
  }
  if (!strncmp(line, "differs", 7)) {
    fprintf(stderr, "fuzz_v8: Node.js reads C's re-encoding as another value: %s\n", line);
    abort();
  }
  if (!strncmp(line, "node-accepts", 12) && r != CORD_EUNSUPPORTED && r != CORD_ETOOBIG &&
      !strstr(why, "not a multiple of") && !strstr(why, "among its properties")) {
    fprintf(stderr, "fuzz_v8: Node.js reads what C refuses (%d: %s)\n", r, why);
    abort();
  }
  if (!strncmp(line, "node-refuses", 12) && !strstr(line, "Invalid regular expression") &&
      !strstr(line, "Maximum call stack size exceeded")) {
    fprintf(stderr, "fuzz_v8: C reads what Node.js refuses: %s\n", line);
    abort();
  }
}

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
  if (r && oracle_in >= 0 && size < (1u << 20))
    ask_node(data, size, NULL, 0, r, e.what);
  if (r == 0) {
    b1 = encode(v, &l1, &r);
    if (oracle_in >= 0 && size < (1u << 20))
      ask_node(data, size, b1, l1, r, b1 ? "" : "could not encode what it decoded");
    if (!b1) {
      if (r != CORD_ETOOBIG) { /* only a value too deep for Node.js may not go back */
        fprintf(stderr, "fuzz_v8: a decoded value does not encode (%d)\n", r);
        abort();
      }
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
