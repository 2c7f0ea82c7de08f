/* test_many_children.c: one parent, one loop, 1,000 concurrent children, each answering its own request. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "helpers.h"

#ifndef N
#define N 1000
#endif

Test(many_children, a_thousand_children_on_one_loop, .timeout = 240) {
  static cord_proc_t kids[N];
  static int replied[N], closed[N];
  const char *args[] = {"echo", NULL};
  cord_loop_t loop;
  cord_proc_t *ready[128];
  struct rlimit rl;
  int nclosed = 0, nreplied = 0;

  /* Three descriptors per child: the channel, the pidfd, and headroom. */
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < 4 * N) {
    rl.rlim_cur = rl.rlim_max < 4 * N ? rl.rlim_max : 4 * N;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  if (rl.rlim_cur < 3 * N)
    cr_skip_test("RLIMIT_NOFILE hard limit %lu is too low", (unsigned long)rl.rlim_max);

  cr_assert_eq(cord_loop_init(&loop), 0);
  for (int i = 0; i < N; i++) {
    spawn_fake(&kids[i], args, NULL);
    kids[i].data = (void *)(intptr_t)i;
    cr_assert_eq(cord_loop_add(&loop, &kids[i]), 0);
  }
  while (nclosed < N) {
    int n = cord_loop_wait(&loop, ready, 128, WAIT_MS);
    cr_assert_gt(n, 0, "the loop went quiet with %d children open", N - nclosed);
    for (int k = 0; k < n; k++) {
      cord_proc_t *c = ready[k];
      int i = (int)(intptr_t)c->data;
      cord_event_t ev;
      while (cord_step(c, &ev) == 1) {
        char text[32];
        switch (ev.type) {
        case CORD_EV_READY:
          snprintf(text, sizeof text, "%d", i);
          cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = text, .len = strlen(text)};
          cr_assert_eq(cord_request(c, &m, NULL), 0);
          break;
        case CORD_EV_REPLY:
          snprintf(text, sizeof text, "%d", i);
          cr_assert_eq(ev.error, 0, "child %d: %s", i, cord_strerror(ev.error));
          cr_assert_eq(ev.len, strlen(text));
          cr_assert_arr_eq(ev.data, text, ev.len, "child %d got another child's reply", i);
          replied[i]++;
          nreplied++;
          cr_assert_eq(cord_disconnect(c), 0);
          break;
        case CORD_EV_EXIT:
          cr_assert_eq(ev.exit_status, 0, "child %d", i);
          break;
        case CORD_EV_CLOSE:
          closed[i]++;
          nclosed++;
          break;
        default:
          cr_assert_neq(ev.type, CORD_EV_ERROR, "child %d: %s", i, ev.detail);
        }
      }
    }
  }
  cr_expect_eq(nreplied, N);
  for (int i = 0; i < N; i++) {
    cr_expect_eq(replied[i], 1, "child %d", i);
    cr_expect_eq(closed[i], 1, "child %d", i);
    cord_proc_close(&kids[i]);
  }
  cord_loop_close(&loop);
}

Test(many_children, loop_returns_undrained_children_again, .timeout = 30) {
  cord_proc_t c;
  cord_loop_t loop;
  cord_proc_t *ready[4];
  cord_event_t ev;
  const char *args[] = {"flood", "50", NULL};
  cr_assert_eq(cord_loop_init(&loop), 0);
  spawn_fake(&c, args, NULL);
  cr_assert_eq(cord_loop_add(&loop, &c), 0);
  int got = 0;
  while (got < 50) {
    int n = cord_loop_wait(&loop, ready, 4, WAIT_MS);
    cr_assert_eq(n, 1);
    /* Take a single event each time: the rest must not be forgotten. */
    if (cord_step(ready[0], &ev) == 1 && ev.type == CORD_EV_MESSAGE)
      got++;
  }
  cord_proc_close(&c);
  cord_loop_close(&loop);
}

Test(many_children, loop_fires_timers, .timeout = 30) {
  cord_proc_t c;
  cord_loop_t loop;
  cord_proc_t *ready[4];
  cord_event_t ev;
  const char *args[] = {"nohello", NULL};
  cord_options_t o = {0};
  o.hello_timeout_ms = 100;
  cr_assert_eq(cord_loop_init(&loop), 0);
  spawn_fake(&c, args, &o);
  cr_assert_eq(cord_loop_add(&loop, &c), 0);
  for (;;) {
    int n = cord_loop_wait(&loop, ready, 4, WAIT_MS);
    cr_assert_eq(n, 1, "the handshake timer never woke the loop");
    if (cord_step(&c, &ev) == 1 && ev.type == CORD_EV_ERROR)
      break;
    while (cord_step(&c, &ev) == 1)
      ;
  }
  cr_expect_eq(ev.error, CORD_ETIMEOUT);
  cord_proc_close(&c);
  cord_loop_close(&loop);
}
