/* test_request_reply.c: one-way messages, requests with replies, pings and an orderly end, against a conforming child. */
#include <unistd.h>

#include "helpers.h"

Test(request_reply, echo_roundtrip, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"echo", NULL};
  uint64_t id1, id2, nonce;
  cord_msg_t raw = {.payload = CORD_PAYLOAD_RAW, .data = "\x00\x01\x02", .len = 3};
  cord_msg_t typed = {.payload = CORD_PAYLOAD_TYPED, .type_name = "example.v1.Job", .data = "\x08\x2a", .len = 2};

  spawn_fake(&c, args, NULL);
  cr_assert_gt(c.pid, 0);
  cr_assert_eq(c.connected, 1);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_expect_str_eq(c.peer.impl_name, "fake-child");
  cr_expect_eq(c.peer.version, 1u);
  cr_expect_eq(c.peer.max_frame, 1u << 20);

  /* A one-way JSON message comes back as a one-way message. */
  cr_assert_eq(cord_send_json(&c, "{\"hello\":[1,2,3]}"), 0);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.id, 0u);
  cr_expect_eq(ev.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(ev.len, strlen("{\"hello\":[1,2,3]}"));
  cr_expect_arr_eq(ev.data, "{\"hello\":[1,2,3]}", ev.len);

  /* Two requests; each gets exactly its own reply. */
  cr_assert_eq(cord_request(&c, &raw, &id1), 0);
  cr_assert_eq(cord_request(&c, &typed, &id2), 0);
  cr_expect_neq(id1, id2);
  wait_for(&c, &ev, CORD_EV_REPLY);
  cr_expect_eq(ev.id, id1);
  cr_expect_eq(ev.error, 0);
  cr_expect_eq(ev.payload, CORD_PAYLOAD_RAW);
  cr_expect_eq(ev.len, 3u);
  cr_expect_arr_eq(ev.data, "\x00\x01\x02", 3);
  wait_for(&c, &ev, CORD_EV_REPLY);
  cr_expect_eq(ev.id, id2);
  cr_expect_eq(ev.payload, CORD_PAYLOAD_TYPED);
  cr_expect_str_eq(ev.type_name, "example.v1.Job");
  cr_expect_arr_eq(ev.data, "\x08\x2a", 2);

  /* Ping. */
  cr_assert_eq(cord_ping(&c, &nonce), 0);
  wait_for(&c, &ev, CORD_EV_PONG);
  cr_expect_eq(ev.id, nonce);

  /* Disconnect: the child says goodbye and exits 0; events in Node's order. */
  cr_assert_eq(cord_disconnect(&c), 0);
  cr_expect_eq(c.connected, 0);
  cr_expect_eq(cord_send_json(&c, "1"), CORD_ECLOSED);
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 0);
  cr_expect_eq(ev.term_signal, 0);
  wait_for(&c, &ev, CORD_EV_CLOSE);
  cr_expect_eq(cord_wait(&c, &ev, 10), 0, "nothing after CLOSE");
  cord_proc_close(&c);
}
