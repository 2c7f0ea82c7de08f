/* test_cancel.c: cancellation both ways: the request stays open until its one reply, and a late cancel is harmless. */
#include "helpers.h"

Test(cancel, parent_cancels_and_still_gets_exactly_one_reply, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"hold", NULL};
  uint64_t id, other;
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_assert_eq(cord_request(&c, NULL, &id), 0);
  cr_assert_eq(cord_request(&c, NULL, &other), 0);
  cr_assert_eq(cord_cancel(&c, id), 0);
  wait_for(&c, &ev, CORD_EV_REPLY);
  cr_expect_eq(ev.id, id);
  cr_expect_eq(ev.error, 0);
  cr_expect_eq(ev.status, 1009u, "CANCELLED");
  /* Answered: no longer outstanding, so it cannot be cancelled again. */
  cr_expect_eq(cord_cancel(&c, id), CORD_ESTATE);
  cr_expect_eq(cord_cancel(&c, 12345), CORD_ESTATE, "never sent");
  /* The other one is still open: closing the channel fails it. */
  cr_assert_eq(cord_disconnect(&c), 0);
  wait_for(&c, &ev, CORD_EV_REPLY);
  cr_expect_eq(ev.id, other);
  cr_expect_eq(ev.error, CORD_ECLOSED);
  cr_expect_eq(run_to_close(&c), 0);
  cord_proc_close(&c);
}

Test(cancel, child_cancels_and_parent_answers_once, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"cancel", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.id, 1u, "the child's request");
  wait_for(&c, &ev, CORD_EV_CANCEL);
  cr_expect_eq(ev.id, 1u);
  /* Codes of the POSIX, SDK and reserved ranges never go on the wire
   * (ERR-1, ERR-2); the refusal leaves the request unanswered. */
  cr_expect_eq(cord_reply(&c, 1, 5, NULL), -EINVAL);
  cr_expect_eq(cord_reply(&c, 1, 2003, NULL), -EINVAL);
  cr_expect_eq(cord_reply(&c, 1, 9999, NULL), -EINVAL);
  cr_expect_eq(cord_reply(&c, 1, 0x80000000u, NULL), -EINVAL);
  /* The parent still owes its one reply (REQ-7). */
  cr_assert_eq(cord_reply(&c, 1, 1009, NULL), 0);
  cr_expect_eq(cord_reply(&c, 1, 0, NULL), CORD_ESTATE, "a second reply is refused");
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_arr_eq(ev.data, "{\"status\":1009}", ev.len);
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}
