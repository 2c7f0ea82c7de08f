/* test_frame_limits.c: a child with a 256-byte buffer is never sent a larger frame, before or after its Hello. */
#include "helpers.h"

Test(frame_limits, tiny_child_is_protected, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"hello", "256", "1", "1", "0", NULL};
  static char big[1000], small[200];
  uint64_t big_id, small_id;
  int errors = 0, replies = 0;
  memset(big, 'b', sizeof big);
  memset(small, 's', sizeof small);
  cord_msg_t mb = {.payload = CORD_PAYLOAD_RAW, .data = big, .len = sizeof big};
  cord_msg_t ms = {.payload = CORD_PAYLOAD_RAW, .data = small, .len = sizeof small};

  spawn_fake(&c, args, NULL);
  /* Before the Hello, the limit is unknown: both are queued. */
  cr_assert_eq(cord_request(&c, &mb, &big_id), 0);
  cr_assert_eq(cord_request(&c, &ms, &small_id), 0);
  while (replies < 2) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
    if (ev.type == CORD_EV_ERROR) {
      cr_expect_eq(ev.error, CORD_ETOOBIG, "%s", ev.detail);
      cr_expect(strstr(ev.detail, "accepts 256") != NULL, "%s", ev.detail);
      errors++;
    }
    if (ev.type == CORD_EV_REPLY) {
      replies++;
      if (ev.id == big_id) {
        cr_expect_eq(ev.error, CORD_ETOOBIG, "the big request fails locally");
      } else {
        cr_expect_eq(ev.id, small_id);
        cr_expect_eq(ev.error, 0);
        cr_expect_eq(ev.len, sizeof small);
      }
    }
  }
  cr_expect_eq(errors, 1);
  cr_expect_eq(c.peer.max_frame, 256u);
  /* After the Hello, the refusal is immediate and nothing is queued. */
  cr_expect_eq(cord_send(&c, &mb), CORD_ETOOBIG);
  cr_expect_eq(cord_send(&c, &ms), 0);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.len, sizeof small);
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}

Test(frame_limits, oversized_frame_from_the_child_is_refused_before_reading_it, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"flood", "1", NULL};
  cord_options_t o = {0};
  o.max_frame = 256;
  /* The child's messages are small; make one large by echo instead. */
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  static char big[600];
  memset(big, 'x', sizeof big);
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = big, .len = sizeof big};
  cr_assert_eq(cord_send(&c, &m), 0, "the child accepts 1 MiB");
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EFRAMESIZE);
  cr_expect(strstr(ev.detail, "exceeds max_frame 256") != NULL, "%s", ev.detail);
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cord_proc_close(&c);
}
