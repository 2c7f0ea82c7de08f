/* test_node_json_edges.c: every JSON text Node.js writes crosses the json binding, nothing internal leaks, and max_frame holds for every line. */
#include <stdlib.h>

#include "helpers.h"

static void spawn_node(cord_proc_t *c, uint32_t max_frame) {
  cord_options_t o = {0};
  cord_event_t ev;
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  o.exec_path = CORD_TEST_NODE;
  o.serialization = CORD_SERIALIZATION_JSON;
  o.max_frame = max_frame;
  cr_assert_eq(cord_spawn(c, NODE_CHILD_JS, NULL, &o), 0, "%s", cord_spawn_error());
  wait_for(c, &ev, CORD_EV_MESSAGE); /* its {"ready":...} */
}

static void expect_text(cord_proc_t *c, const char *want) {
  cord_event_t ev;
  wait_for(c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.len, strlen(want), "got [%.*s]", (int)(ev.len > 200 ? 200 : ev.len), (const char *)ev.data);
  cr_expect_arr_eq(ev.data, want, strlen(want));
}

/* A 2,100-level array around "x", as JSON.stringify writes it. */
static char *deep(int levels) {
  char *t = malloc((size_t)levels * 2 + 4), *w = t;
  for (int i = 0; i < levels; i++)
    *w++ = '[';
  w += sprintf(w, "\"x\"");
  for (int i = 0; i < levels; i++)
    *w++ = ']';
  *w = '\0';
  return t;
}

Test(node_json_edges, what_node_writes_can_be_sent, .timeout = 60) {
  cord_proc_t c;
  spawn_node(&c, 0);
  /* What JSON.stringify writes, sent and echoed back by Node.js. */
  cr_assert_eq(cord_send_json(&c, "18446744073709552000"), 0, "%s", cord_proc_detail(&c));
  expect_text(&c, "18446744073709552000");
  cr_assert_eq(cord_send_json(&c, "\"\\ud800\""), 0, "%s", cord_proc_detail(&c));
  expect_text(&c, "\"\\ud800\"");
  char *d = deep(2100);
  cr_assert_eq(cord_send_json(&c, d), 0, "%s", cord_proc_detail(&c));
  expect_text(&c, d);
  free(d);
  cr_assert_eq(cord_send_json(&c, "1E400"), 0, "any RFC 8259 number: %s", cord_proc_detail(&c));
  expect_text(&c, "null"); /* Node reads Infinity, and writes it as null */
  /* A refusal says what and where. */
  cr_expect_eq(cord_send_json(&c, "{\"a\":[1,2,}"), CORD_ENODE);
  cr_expect(strstr(cord_proc_detail(&c), "at byte 10") != NULL, "%s", cord_proc_detail(&c));
  cr_expect_eq(cord_send_json(&c, "{\"cmd\":\"NODE_HANDLE_ACK\"}"), CORD_ENODE);
  cr_expect(strstr(cord_proc_detail(&c), "internal") != NULL, "%s", cord_proc_detail(&c));
  cord_proc_close(&c);
}

Test(node_json_edges, internal_messages_never_leak, .timeout = 60) {
  cord_proc_t c;
  spawn_node(&c, 0);
  cr_assert_eq(cord_send_json(&c, "{\"cmd\":\"internal\"}"), 0);
  /* The first message delivered is the ordinary one that followed them. */
  expect_text(&c, "{\"after\":\"internal\"}");
  cord_proc_close(&c);
}

Test(node_json_edges, max_frame_holds_for_every_line, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  spawn_node(&c, 256);
  cr_assert_eq(cord_send_json(&c, "{\"cmd\":\"long\",\"sizes\":[300,60000,200]}"), 0);
  /* 302 and 60,002 bytes with quotes: both dropped, whether or not they
   * arrived in one read; the 202-byte line is delivered. */
  int dropped = 0;
  for (;;) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
    if (ev.type == CORD_EV_ERROR) {
      cr_expect_eq(ev.error, CORD_EFRAMESIZE, "%s", ev.detail);
      dropped++;
      continue;
    }
    if (ev.type != CORD_EV_MESSAGE)
      continue;
    if (ev.len == 202)
      continue;
    cr_expect_eq(ev.len, strlen("{\"after\":\"long\"}"), "only lines within max_frame are delivered (%zu)", ev.len);
    break;
  }
  cr_expect_eq(dropped, 2);
  cord_proc_close(&c);
}

Test(node_json_edges, send_after_the_end_says_so, .timeout = 60) {
  cord_proc_t c;
  spawn_node(&c, 0);
  cr_assert_eq(cord_disconnect(&c), 0);
  cr_expect_eq(cord_send_json(&c, "1"), CORD_ECLOSED);
  cr_expect(strstr(cord_proc_detail(&c), "request") == NULL, "a one-way send is not a request: %s",
            cord_proc_detail(&c));
  cord_proc_close(&c);
}
