/* test_loop_timers.c: a loop hands out every child whose timer is due, wherever it sits in the timer heap. */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "helpers.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Three channels whose peers never speak: each one's handshake timer is
 * its only deadline. Added in this order, the heap's array holds
 * [50 ms, 10 s, 80 ms]: the due 80 ms timer sits after one that is not
 * due, where a scan that stops at the first timer not due never looks. */
Test(loop_timers, every_due_timer_fires, .timeout = 60) {
  static const uint32_t ms[3] = {50, 10000, 80};
  cord_proc_t c[3];
  int peer[3];
  cord_loop_t loop;
  cr_assert_eq(cord_loop_init(&loop), 0);
  for (int i = 0; i < 3; i++) {
    int sv[2];
    cord_options_t o = {0};
    o.hello_timeout_ms = ms[i];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    cr_assert_eq(cord_attach(&c[i], sv[0], &o), 0);
    peer[i] = sv[1];
    cr_assert_eq(cord_loop_add(&loop, &c[i]), 0);
  }
  /* The first child is handed out again and again and never stepped, so
   * its expired timer stays at the root of the heap; the third must still
   * come out once its own is due. Each child is handed out once at the
   * start, as it joins. */
  double give_up = now_s() + 20;
  int fired = 0;
  for (int round = 0; !fired; round++) {
    cord_proc_t *ready[3];
    int n = cord_loop_wait(&loop, ready, 3, 1000);
    cr_assert_geq(n, 0);
    for (int i = 0; i < n; i++) {
      cord_event_t ev;
      int r;
      if (ready[i] == &c[0])
        continue;
      cr_assert(round == 0 || ready[i] != &c[1], "the 10 s timer is not due");
      while ((r = cord_step(ready[i], &ev)) == 1 && ev.type != CORD_EV_ERROR)
        ;
      if (r == 1 && ready[i] == &c[2]) {
        cr_expect_eq(ev.error, CORD_ETIMEOUT);
        fired = 1;
      }
    }
    cr_assert_lt(now_s(), give_up, "the due timer of the third child never fired");
  }
  for (int i = 0; i < 3; i++) {
    cord_proc_close(&c[i]);
    close(peer[i]);
  }
  cord_loop_close(&loop);
}
