/* test_node_json.c: the json binding against a real Node.js child: echo, refusals of what Node cannot take, a handle, exit. */
#include <stdlib.h>

#include "helpers.h"

static void spawn_node(cord_proc_t *c) {
  cord_options_t o = {0};
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  o.exec_path = CORD_TEST_NODE;
  o.serialization = CORD_SERIALIZATION_JSON;
  int r = cord_spawn(c, NODE_CHILD_JS, NULL, &o);
  cr_assert_eq(r, 0, "%s", cord_spawn_error());
}

static void expect_json(cord_proc_t *c, const char *want) {
  cord_event_t ev;
  wait_for(c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(ev.len, strlen(want), "got [%.*s]", (int)ev.len, (const char *)ev.data);
  cr_expect_arr_eq(ev.data, want, strlen(want));
}

Test(node_json, echo_and_refusals, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  spawn_node(&c);
  wait_for(&c, &ev, CORD_EV_READY);
  /* Node deleted NODE_CHANNEL_FD; U+2028 arrives raw, inside one line. */
  expect_json(&c, "{\"ready\":true,\"sep\":\"a\xe2\x80\xa8" "b\",\"env\":true}");

  cr_assert_eq(cord_send_json(&c, "{\"x\":[1,2,{\"y\":null}]}"), 0);
  expect_json(&c, "{\"x\":[1,2,{\"y\":null}]}");
  cr_assert_eq(cord_send_json(&c, "\"a string\""), 0);
  expect_json(&c, "\"a string\"");

  /* What Node would choke on, or cannot carry, is refused here (NODE-4, -7, -9). */
  cr_expect_eq(cord_send_json(&c, ""), CORD_ENODE);
  cr_expect_eq(cord_send_json(&c, "{\"a\":\n1}"), CORD_ENODE);
  cr_expect_eq(cord_send_json(&c, "{not json}"), CORD_ENODE);
  cr_expect_eq(cord_send_json(&c, "{\"cmd\":\"NODE_HANDLE_ACK\"}"), CORD_ENODE);
  cr_expect_eq(cord_send_json(&c, "{\"cmd\":\"NODE_\"}"), 0, "NODE_ alone is an ordinary message");
  expect_json(&c, "{\"cmd\":\"NODE_\"}");
  cord_msg_t raw = {.payload = CORD_PAYLOAD_RAW, .data = "x", .len = 1};
  cr_expect_eq(cord_send(&c, &raw), CORD_ENODE);
  cr_expect_eq(cord_request(&c, NULL, NULL), CORD_ENODE);
  cr_expect_eq(cord_ping(&c, NULL), CORD_ENODE);
  int fd = 0;
  cord_msg_t withfd = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .fds = &fd, .nfds = 1};
  cr_expect_eq(cord_send(&c, &withfd), CORD_ENODE);

  /* A handle from Node is answered, and arrives with its message; later
   * messages then flow (test_node_handles.c has the rest). */
  cr_assert_eq(cord_send_json(&c, "{\"cmd\":\"handle\"}"), 0);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.nfds, 1);
  for (unsigned i = 0; i < ev.nfds; i++)
    close(ev.fds[i]);
  expect_json(&c, "{\"after\":\"handle\"}");

  /* A large message crosses whole. */
  size_t n = 1 << 20;
  char *big = malloc(n + 3);
  big[0] = '"';
  memset(big + 1, 'q', n);
  big[n + 1] = '"';
  big[n + 2] = '\0';
  /* Whether the queue is still above the high-water mark when the call
   * returns depends on how fast Node reads meanwhile, as with Node's own
   * send(); test_backpressure.c checks the mark with a child that does
   * not read. */
  int r = cord_send_json(&c, big);
  cr_assert(r == 0 || r == 1, "send: %s", cord_strerror(r));
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.len, n + 2);
  cr_expect_arr_eq(ev.data, big, n + 2);
  free(big);

  cr_assert_eq(cord_send_json(&c, "{\"cmd\":\"exit\",\"code\":5}"), 0);
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 5);
  wait_for(&c, &ev, CORD_EV_CLOSE);
  cord_proc_close(&c);
}

Test(node_json, disconnect_ends_a_listening_node_child, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  spawn_node(&c);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  /* A Node child with a 'message' listener exits once the parent's end
   * closes: that is Node's disconnect. */
  cr_assert_eq(cord_disconnect(&c), 0);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 0);
  cord_proc_close(&c);
}
