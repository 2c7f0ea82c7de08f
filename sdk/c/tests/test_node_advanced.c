/* test_node_advanced.c: a C parent forks an unmodified Node.js module with serialization 'advanced', and every covered type crosses both ways. */
#include <stdlib.h>

#include "helpers.h"
#include "v8_cases.h"

static void spawn_advanced(cord_proc_t *c, const char *script) {
  cord_options_t o = {0};
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  o.exec_path = CORD_TEST_NODE;
  o.serialization = CORD_SERIALIZATION_ADVANCED;
  cr_assert_eq(cord_spawn(c, script, NULL, &o), 0, "%s", cord_spawn_error());
}

Test(node_advanced, every_type_both_ways, .timeout = 120) {
  cord_proc_t c;
  cord_event_t ev;
  const char *names[128];
  int n = 0, done = -1, answered = 0;

  cord_arena_init(&A, 0);
  spawn_advanced(&c, NODE_V8_PEER_JS);
  /* Node.js -> C: each message is a value the SDK decoded, equal to what
   * C builds: C's encoding of it is the bytes Node.js wrote. */
  while (done < 0) {
    wait_for(&c, &ev, CORD_EV_MESSAGE);
    cr_assert_eq(ev.payload, CORD_PAYLOAD_V8);
    cr_assert_not_null(ev.value);
    const cord_value_t *d = cord_value_get(ev.value, "done");
    if (d) {
      done = d->u.int32;
      break;
    }
    const char *name = str(cord_value_get(ev.value, "name"));
    const cord_value_t *got = cord_value_get(ev.value, "value"), *want = expected(name);
    cr_assert_not_null(want, "no C value for \"%s\"", name);
    cr_assert_lt(n, 128);
    names[n++] = strdup(name);
    cord_v8_error_t e;
    if (got->type == CORD_VALUE_ERROR) { /* its stack is Node.js's own: compare the rest */
      cr_expect_eq(got->kind, want->kind, "%s", name);
      cr_expect_str_eq(str(cord_value_get(got, "message")), str(cord_value_get(want, "message")), "%s", name);
      cr_expect_str_eq(str(cord_value_get(got, "cause")), str(cord_value_get(want, "cause")), "%s", name);
    } else {
      uint8_t out[4096];
      size_t olen;
      cr_assert_eq(cord_v8_encode(obj("name", S(name), "value", want, NULL), out, sizeof out, &olen, &e), 0, "%s: %s",
                   name, e.what);
      cr_expect(olen == ev.len && !memcmp(out, ev.data, olen), "%s: C's bytes differ from Node.js's", name);
    }
  }
  cr_expect_eq(done, n, "node sent %d values, C read %d", done, n);
  cr_expect_eq(n, 58, "the peer's 58 cases");

  /* C -> Node.js: each value goes with cord_send_value(), and Node.js
   * finds it equal to its own (util.isDeepStrictEqual on what its
   * channel's v8 deserializer made of it). */
  for (int i = 0; i < n; i++) {
    int r = cord_send_value(&c, obj("name", S(names[i]), "value", expected(names[i]), NULL), NULL, 0);
    cr_assert(r == 0 || r == 1, "%s: %s (%s)", names[i], cord_strerror(r), cord_proc_detail(&c));
  }
  while (answered < n) {
    wait_for(&c, &ev, CORD_EV_MESSAGE);
    const cord_value_t *ok = cord_value_get(ev.value, "ok");
    cr_expect(ok && ok->type == CORD_VALUE_BOOL && ok->u.boolean, "Node.js got a different %s: %s",
              str(cord_value_get(ev.value, "name")), str(cord_value_get(ev.value, "seen")));
    answered++;
  }
  /* The peer disconnects once it has checked every value. */
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0, "%s", ev.detail);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 0);
  cord_proc_close(&c);
  for (int i = 0; i < n; i++)
    free((void *)names[i]);
  cord_arena_free(&A);
}
