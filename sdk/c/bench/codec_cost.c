/* codec_cost.c: what the Node.js binding's codecs cost: the JSON checker, the NODE-7 scan, and V8 decode and encode, in MB/s and bytes of arena per input byte. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cord.h"
#include "node_codec.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A JSON line like the ones a worker pool sends, about n bytes long. */
static char *json_text(size_t n, size_t *len) {
  char *t = malloc(n + 256);
  size_t k = (size_t)sprintf(t, "{\"cmd\":\"job\",\"items\":[");
  while (k < n)
    k += (size_t)sprintf(t + k, "{\"id\":%zu,\"name\":\"caf\xc3\xa9 \\u00e9 %zu\",\"ok\":true,\"x\":1.5e3},", k, k);
  k += (size_t)sprintf(t + k, "null]}");
  *len = k;
  return t;
}

int main(int argc, char **argv) {
  size_t size = argc > 1 ? (size_t)atol(argv[1]) : (size_t)1 << 20, len, rounds = 0, i;
  char *t = json_text(size, &len);
  double t0, secs;
  cord__node_msg_t m;

  for (t0 = now(), rounds = 0; (secs = now() - t0) < 0.5; rounds++)
    if (cord__json_check(t, len, NULL, 0, NULL))
      return fprintf(stderr, "the text is not JSON\n"), 1;
  printf("json check: %.0f MB/s (%zu-byte text)\n", (double)len * (double)rounds / secs / 1e6, len);
  for (t0 = now(), rounds = 0; (secs = now() - t0) < 0.5; rounds++)
    cord__node_scan(t, len, &m);
  printf("NODE-7 scan: %.0f MB/s\n", (double)len * (double)rounds / secs / 1e6);
  /* Small lines, where the cost per call shows. */
  const char *small = "{\"seq\":12345,\"cmd\":\"NODE_X\"}";
  for (t0 = now(), rounds = 0; (secs = now() - t0) < 0.5; rounds++)
    for (i = 0; i < 1000; i++)
      if (cord__json_check(small, strlen(small), NULL, 0, NULL) || cord__node_scan(small, strlen(small), &m) != CORD__NODE_OTHER)
        return 1;
  printf("json check + scan of a %zu-byte line: %.0f ns\n", strlen(small), secs / (double)rounds / 1000 * 1e9);

  /* The same data as a V8 value: an object of an array of objects. */
  cord_arena_t a;
  cord_arena_init(&a, 0);
  cord_value_t *root = cord_value_new(&a, CORD_VALUE_OBJECT), *items = cord_value_new(&a, CORD_VALUE_ARRAY);
  cord_value_put(&a, root, "cmd", cord_value_string(&a, "job", 3));
  for (i = 0; i < size / 64; i++) {
    cord_value_t *o = cord_value_new(&a, CORD_VALUE_OBJECT);
    cord_value_put(&a, o, "id", cord_value_int32(&a, (int32_t)i));
    cord_value_put(&a, o, "name", cord_value_string(&a, "caf\xc3\xa9 \xc3\xa9 1234", 13));
    cord_value_put(&a, o, "ok", cord_value_bool(&a, 1));
    cord_value_put(&a, o, "x", cord_value_double(&a, 1.5e3));
    cord_value_push(&a, items, o);
  }
  cord_value_put(&a, root, "items", items);
  size_t vlen;
  cord_v8_encode(root, NULL, 0, &vlen, NULL);
  uint8_t *buf = malloc(vlen);
  for (t0 = now(), rounds = 0; (secs = now() - t0) < 0.5; rounds++)
    if (cord_v8_encode(root, buf, vlen, &vlen, NULL))
      return 1;
  printf("v8 encode: %.0f MB/s (%zu bytes, %zu objects)\n", (double)vlen * (double)rounds / secs / 1e6, vlen, i);
  cord_arena_t b;
  cord_arena_init(&b, CORD_V8_ARENA_BOUND(vlen));
  const cord_value_t *v;
  for (t0 = now(), rounds = 0; (secs = now() - t0) < 0.5; rounds++) {
    cord_arena_reset(&b);
    if (cord_v8_decode(&b, buf, vlen, 0, &v, NULL))
      return 1;
  }
  printf("v8 decode: %.0f MB/s, arena %.1f bytes per input byte\n", (double)vlen * (double)rounds / secs / 1e6,
         (double)b.bytes / (double)vlen);
  cord_arena_free(&b);
  cord_arena_free(&a);
  free(buf);
  free(t);
  return 0;
}
