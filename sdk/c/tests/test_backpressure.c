/* test_backpressure.c: sends never block, report the high-water mark as Node's send() does, drain, and stop at a hard bound. */
#include <sys/socket.h>

#include "helpers.h"

static char kib[1024];

static cord_msg_t one_kib(void) {
  memset(kib, 'a', sizeof kib);
  kib[0] = '"';
  kib[sizeof kib - 1] = '"';
  return (cord_msg_t){.payload = CORD_PAYLOAD_JSON, .data = kib, .len = sizeof kib};
}

Test(backpressure, high_water_then_hard_bound_against_a_child_that_never_reads, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"sleep", NULL};
  cord_options_t o = {0};
  cord_msg_t m = one_kib();
  size_t sent = 0, first_high = 0;
  int r;
  o.queue_limit = 1 << 20;
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_READY);
  while ((r = cord_send(&c, &m)) >= 0) {
    if (r == 1 && !first_high)
      first_high = sent + m.len;
    sent += m.len;
    cr_assert_lt(sent, (size_t)64 << 20, "the queue grew without bound");
  }
  cr_expect_eq(r, -ENOBUFS, "%s", cord_strerror(r));
  /* Node's threshold: below 128 KiB queued, send() says true. */
  cr_expect_geq(first_high, (size_t)128 << 10);
  /* Bounded by the queue limit plus what the kernel took. */
  cr_expect_leq(sent, ((size_t)1 << 20) + ((size_t)8 << 20));
  cord_proc_close(&c);
}

Test(backpressure, drain_event_after_the_queue_empties, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"echo", NULL};
  cord_options_t o = {0};
  cord_msg_t m = one_kib();
  int r = 0, n = 0;
  o.high_water = 4096;
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_READY);
  while ((r = cord_send(&c, &m)) == 0)
    n++;
  cr_assert_eq(r, 1);
  cr_expect_eq(n, 3, "four 1 KiB frames reach 4096 bytes");
  wait_for(&c, &ev, CORD_EV_DRAIN);
  cr_expect_eq(cord_send(&c, &m), 0, "below the mark again");
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}

Test(backpressure, both_directions_at_full_speed_do_not_deadlock, .timeout = 120) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"echo", NULL};
  cord_msg_t m = one_kib();
  const int total = 20000; /* 20 MB each way, far more than socket buffers */
  int sent = 0, echoed = 0;
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  while (echoed < total) {
    while (sent < total) {
      int r = cord_send(&c, &m);
      cr_assert_geq(r, 0, "%s", cord_strerror(r));
      sent++;
      if (r == 1)
        break; /* above the mark: let the step read and write */
    }
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1, "stuck at %d sent, %d echoed", sent, echoed);
    if (ev.type == CORD_EV_MESSAGE) {
      cr_assert_eq(ev.len, m.len);
      echoed++;
    }
  }
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}

Test(backpressure, drain_comes_from_the_step_that_empties_the_queue, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = {0};
  cord_msg_t m = one_kib();
  int sv[2], r, drained = 0;
  /* A peer that sends nothing: no arrival wakes the parent, so the DRAIN
   * must come from the step whose write took the queue below the mark,
   * not from a later one after a poll that has nothing to wait for. */
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  o.serialization = CORD_SERIALIZATION_JSON;
  o.high_water = 4096;
  cr_assert_eq(cord_attach(&c, sv[0], &o), 0);
  while ((r = cord_send(&c, &m)) == 0)
    ;
  cr_assert_eq(r, 1);
  while ((r = cord_step(&c, &ev)) == 1)
    drained += ev.type == CORD_EV_DRAIN;
  cr_assert_eq(r, -EAGAIN);
  cr_expect_eq(drained, 1, "the queue went out in that step; its DRAIN came with it");
  close(sv[1]);
  cord_proc_close(&c);
}
