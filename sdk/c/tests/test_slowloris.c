/* test_slowloris.c: a child that writes a large frame one byte at a time does not slow its healthy neighbour on the same loop. */
#include <stdlib.h>

#include "hostile.h"

static void one_byte_at_a_time(int fd, void *arg) {
  (void)arg;
  put_all(fd, hostile_hello, sizeof hostile_hello);
  const uint8_t prefix[4] = {0x00, 0x40, 0x00, 0x00}; /* 4 MiB, sent byte by byte for ever */
  put_all(fd, prefix, 4);
  uint8_t b = 0x12;
  for (;;)
    put_all(fd, &b, 1);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

Test(slowloris, healthy_neighbour_keeps_its_pace, .timeout = 120) {
  enum { N = 500 };
  static double lat[N];
  cord_loop_t loop;
  cord_proc_t slow, good;
  cord_options_t o = {0};
  const char *args[] = {"echo", NULL};
  cr_assert_eq(cord_loop_init(&loop), 0);
  pid_t peer = hostile_pair(&slow, &o, one_byte_at_a_time, NULL);
  spawn_fake(&good, args, NULL);
  cr_assert_eq(cord_loop_add(&loop, &slow), 0);
  cr_assert_eq(cord_loop_add(&loop, &good), 0);

  int done = 0, in_flight = 0;
  unsigned slow_steps = 0;
  double sent_at = 0;
  while (done < N) {
    cord_proc_t *ready[2];
    cord_event_t ev;
    if (!in_flight && good.peer.max_frame) {
      cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = "ping", .len = 4};
      cr_assert_eq(cord_request(&good, &m, NULL), 0);
      sent_at = now_s();
      in_flight = 1;
    }
    int n = cord_loop_wait(&loop, ready, 2, WAIT_MS);
    cr_assert_gt(n, 0, "the loop stalled");
    for (int i = 0; i < n; i++) {
      int r;
      while ((r = cord_step(ready[i], &ev)) == 1) {
        cr_assert_neq(ev.type, CORD_EV_DISCONNECT, "%s ended: %s", ready[i] == &slow ? "slow" : "good",
                      ev.detail);
        if (ready[i] == &good && ev.type == CORD_EV_REPLY) {
          cr_assert_eq(ev.error, 0);
          lat[done++] = now_s() - sent_at;
          in_flight = 0;
        }
      }
      if (ready[i] == &slow)
        slow_steps++;
    }
  }
  qsort(lat, N, sizeof lat[0], by_value);
  cr_log_info("beside a child writing one byte at a time (stepped %u times): round trips p50 %.0f us, p99 %.0f us, "
              "max %.0f us",
              slow_steps, lat[N / 2] * 1e6, lat[N * 99 / 100] * 1e6, lat[N - 1] * 1e6);
  cr_expect_gt(slow_steps, 0u, "the slow child was served too");
  cord_proc_close(&good);
  cord_proc_close(&slow);
  hostile_reap(peer);
  cord_loop_close(&loop);
}
