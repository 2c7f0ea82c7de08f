/* test_v8_node.c: every covered type crosses between a real Node.js child on its advanced channel and the C codec, both ways, byte for byte. */
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include "node_peer.h"
#include "v8_cases.h"

static int read_full(int fd, uint8_t *p, size_t n) {
  while (n) {
    struct pollfd pf = {fd, POLLIN, 0};
    cr_assert_eq(poll(&pf, 1, WAIT_MS), 1, "node did not write");
    ssize_t r = read(fd, p, n);
    if (r <= 0)
      return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

/* One frame of the advanced channel: a 4-byte big-endian length, then the payload. */
static uint8_t *read_frame(int fd, size_t *len) {
  uint8_t h[4], *p;
  if (read_full(fd, h, 4))
    return NULL;
  *len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
  cr_assert_leq(*len, 1 << 24);
  p = malloc(*len ? *len : 1);
  cr_assert_eq(read_full(fd, p, *len), 0, "frame cut short");
  return p;
}

static void send_value(int fd, const cord_value_t *v) {
  size_t len;
  cord_v8_error_t e;
  cr_assert_eq(cord_v8_encode(v, NULL, 0, &len, &e), -ENOBUFS, "%s", e.what);
  uint8_t *f = malloc(len + 4);
  cr_assert_eq(cord_v8_encode(v, f + 4, len, &len, &e), 0, "%s", e.what);
  f[0] = (uint8_t)(len >> 24), f[1] = (uint8_t)(len >> 16), f[2] = (uint8_t)(len >> 8), f[3] = (uint8_t)len;
  cr_assert_eq(write(fd, f, len + 4), (ssize_t)(len + 4));
  free(f);
}

Test(v8_node, every_type_both_ways, .timeout = 120) {
  int sock;
  pid_t pid = spawn_node_peer(NODE_V8_PEER_JS, "advanced", -1, &sock);
  cord_arena_init(&A, 0);

  /* Node.js -> C: each value decodes to what C builds, and C's bytes for
   * it are the bytes Node.js wrote. */
  const char *names[128];
  int n = 0, done = -1;
  while (done < 0) {
    size_t len;
    uint8_t *f = read_frame(sock, &len);
    cr_assert_not_null(f, "node closed early");
    const cord_value_t *msg;
    cord_v8_error_t e;
    int r = cord_v8_decode(&A, f, len, 0, &msg, &e);
    cr_assert_eq(r, 0, "decode: %s at %zu", e.what, e.offset);
    if (cord_value_get(msg, "done")) {
      done = cord_value_get(msg, "done")->u.int32;
      free(f);
      break;
    }
    const char *name = str(cord_value_get(msg, "name"));
    const cord_value_t *got = cord_value_get(msg, "value"), *want = expected(name);
    cr_assert_not_null(want, "no C value for \"%s\"", name);
    cr_assert_lt(n, 128);
    names[n++] = name;
    if (got->type == CORD_VALUE_ERROR) { /* its stack is Node.js's own: compare the rest */
      cr_expect_eq(got->kind, want->kind, "%s", name);
      cr_expect_str_eq(str(cord_value_get(got, "message")), str(cord_value_get(want, "message")), "%s", name);
      cr_expect_str_eq(str(cord_value_get(got, "cause")), str(cord_value_get(want, "cause")), "%s", name);
      cr_expect(cord_value_get(got, "stack") != NULL, "%s has a stack", name);
    } else {
      cord_value_t *wrap = obj("name", S(name), "value", want, NULL);
      uint8_t out[4096];
      size_t olen;
      cr_assert_eq(cord_v8_encode(wrap, out, sizeof out, &olen, &e), 0, "%s: %s", name, e.what);
      cr_expect(olen == len && !memcmp(out, f, len), "%s: C's bytes differ from Node.js's", name);
    }
    free(f);
  }
  cr_expect_eq(done, n, "node sent %d values, C read %d", done, n);
  cr_expect_eq(n, 58, "the peer's 58 cases");

  /* C -> Node.js: each value, built in C, is what Node.js expects (util.isDeepStrictEqual). */
  for (int i = 0; i < n; i++)
    send_value(sock, obj("name", S(names[i]), "value", expected(names[i]), NULL));
  for (int i = 0; i < n; i++) {
    size_t len;
    uint8_t *f = read_frame(sock, &len);
    cr_assert_not_null(f, "node closed before answering all");
    const cord_value_t *reply;
    cr_assert_eq(cord_v8_decode(&A, f, len, 0, &reply, NULL), 0);
    const cord_value_t *ok = cord_value_get(reply, "ok");
    cr_expect(ok && ok->type == CORD_VALUE_BOOL && ok->u.boolean, "Node.js got a different %s: %s",
              str(cord_value_get(reply, "name")), str(cord_value_get(reply, "seen")));
    free(f);
  }
  close(sock);
  expect_node_exit_0(pid);
  cord_arena_free(&A);
}
