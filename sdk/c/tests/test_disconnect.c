/* test_disconnect.c: the channel ending from either side, with or without Goodbye, and what happens to open requests. */
#include <poll.h>

#include "helpers.h"

Test(disconnect, child_says_goodbye_first, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"goodbye", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0);
  cr_expect_eq(c.connected, 0);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 0, "the child waited for the parent's end, then exited 0");
  wait_for(&c, &ev, CORD_EV_CLOSE);
  cord_proc_close(&c);
}

Test(disconnect, child_exits_without_goodbye, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"exit", "3", NULL};
  cord_event_type_t order[3];
  int n = 0;
  spawn_fake(&c, args, NULL);
  while (n < 3) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
    if (ev.type == CORD_EV_DISCONNECT || ev.type == CORD_EV_EXIT || ev.type == CORD_EV_CLOSE)
      order[n++] = ev.type;
    if (ev.type == CORD_EV_DISCONNECT)
      cr_expect_eq(ev.error, 0, "end of file on a frame boundary is not an error (END-4)");
    if (ev.type == CORD_EV_EXIT)
      cr_expect_eq(ev.exit_status, 3);
  }
  /* Node's order for a child that exits: disconnect, exit, close. */
  cr_expect_eq(order[0], CORD_EV_DISCONNECT);
  cr_expect_eq(order[1], CORD_EV_EXIT);
  cr_expect_eq(order[2], CORD_EV_CLOSE);
  cord_proc_close(&c);
}

Test(disconnect, open_requests_and_pings_fail_closed_exactly_once, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"sleep", NULL};
  uint64_t ids[3], nonces[2];
  int seen[3] = {0}, pinged[2] = {0}, replies = 0, pongs = 0;
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = "x", .len = 1};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(cord_request(&c, &m, &ids[i]), 0);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(cord_ping(&c, &nonces[i]), 0);
  cr_assert_eq(cord_kill(&c, SIGKILL), 0);
  /* REQ-9 and PING-7: nothing can answer them once the child is gone. */
  for (;;) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
    if (ev.type == CORD_EV_REPLY || ev.type == CORD_EV_PONG) {
      int *count = ev.type == CORD_EV_REPLY ? seen : pinged;
      const uint64_t *keys = ev.type == CORD_EV_REPLY ? ids : nonces;
      *(ev.type == CORD_EV_REPLY ? &replies : &pongs) += 1;
      cr_expect_eq(ev.error, CORD_ECLOSED);
      for (int i = 0; i < (ev.type == CORD_EV_REPLY ? 3 : 2); i++)
        if (ev.id == keys[i])
          count[i]++;
    }
    if (ev.type == CORD_EV_CLOSE)
      break;
  }
  cr_expect_eq(replies, 3);
  cr_expect_eq(pongs, 2);
  for (int i = 0; i < 3; i++)
    cr_expect_eq(seen[i], 1, "request %d", i);
  for (int i = 0; i < 2; i++)
    cr_expect_eq(pinged[i], 1, "ping %d", i);
  cord_proc_close(&c);
}

Test(disconnect, twice_is_an_error, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"echo", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_expect_eq(cord_disconnect(&c), 0);
  cr_expect_eq(cord_disconnect(&c), CORD_ECLOSED);
  cr_expect_eq(cord_request(&c, NULL, NULL), CORD_ECLOSED);
  cr_expect_eq(run_to_close(&c), 0);
  cord_proc_close(&c);
}

Test(disconnect, replies_still_arrive_after_disconnect, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"echo", NULL};
  uint64_t id;
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "42", .len = 2};
  spawn_fake(&c, args, NULL);
  cr_assert_eq(cord_request(&c, &m, &id), 0);
  cr_assert_eq(cord_disconnect(&c), 0);
  /* Goodbye ends one direction only (END-1): the reply still comes. */
  wait_for(&c, &ev, CORD_EV_REPLY);
  cr_expect_eq(ev.id, id);
  cr_expect_eq(ev.error, 0);
  cr_expect_arr_eq(ev.data, "42", 2);
  cr_expect_eq(run_to_close(&c), 0);
  cord_proc_close(&c);
}

Test(disconnect, no_request_after_the_childs_goodbye, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"ask-goodbye", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_assert_eq(ev.id, 1u);
  /* Read until the child's Goodbye has been taken: from then on a Pong
   * could not come (PING-5). The child sent it right after its request,
   * so it may already be read: the events are taken before each poll, as
   * cord_step()'s contract asks. */
  for (;;) {
    int fds[4];
    short evs[4];
    struct pollfd pf[4];
    while (cord_step(&c, &ev) == 1)
      cr_assert_neq(ev.type, CORD_EV_DISCONNECT, "our side ended before the reply");
    if (cord_ping(&c, NULL) == CORD_ECLOSED)
      break;
    int n = cord_fds(&c, fds, evs, 4);
    for (int i = 0; i < n; i++)
      pf[i] = (struct pollfd){fds[i], evs[i], 0};
    cr_assert_gt(poll(pf, (nfds_t)n, WAIT_MS), 0, "the Goodbye never arrived");
  }
  /* REQ-11: nothing could answer a request now; it is refused locally. */
  cr_expect_eq(cord_request(&c, NULL, NULL), CORD_ECLOSED);
  /* The child's own request is still owed its reply, which ends our side. */
  cr_assert_eq(cord_reply(&c, 1, 0, NULL), 0);
  cr_expect_eq(c.connected, 0);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 0, "the child saw its reply");
  cord_proc_close(&c);
}
