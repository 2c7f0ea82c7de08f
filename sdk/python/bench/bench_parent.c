/* bench_parent.c: measures bench children with the C parent SDK: round trip (16 B echo), one way to the child (N then `count`), one way from it (`send N 64`). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cord.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_parent: %s failed (%d)\n", what, rc);
  exit(1);
}

/* Waits for the reply to `id`; counts the one-way messages that come first. */
static cord_event_t reply_to(cord_proc_t *c, uint64_t id, long *messages) {
  cord_event_t ev;
  for (;;) {
    int rc = cord_wait(c, &ev, 120000);
    if (rc != 1)
      die("wait", rc);
    if (ev.type == CORD_EV_MESSAGE && messages)
      (*messages)++;
    if (ev.type == CORD_EV_REPLY && ev.id == id) {
      if (ev.error || ev.status)
        die("request", ev.error ? ev.error : (int)ev.status);
      return ev;
    }
  }
}

static uint64_t request_raw(cord_proc_t *c, const char *text, size_t len) {
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = text, .len = len};
  uint64_t id;
  int rc = cord_request(c, &m, &id);
  if (rc < 0)
    die("cord_request", rc);
  return id;
}

static void bench(const char *name, const char *exec_path, const char *program, long n) {
  cord_options_t o = {0};
  o.exec_path = exec_path;
  cord_proc_t c;
  if (cord_spawn(&c, program, NULL, &o) < 0) {
    fprintf(stderr, "bench_parent: %s\n", cord_spawn_error());
    exit(1);
  }
  /* Round trip: one 16-byte echo request at a time. */
  const char payload[16] = "0123456789abcdef";
  reply_to(&c, request_raw(&c, payload, sizeof payload), NULL); /* warm up */
  double t0 = now();
  for (long i = 0; i < n; i++)
    reply_to(&c, request_raw(&c, payload, sizeof payload), NULL);
  double rtt = (now() - t0) / (double)n;

  /* One way, parent to child: n raw messages of 64 bytes, then `count`. */
  static char sixty_four[64];
  memset(sixty_four, 'p', sizeof sixty_four);
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = sixty_four, .len = sizeof sixty_four};
  long ways = n * 10;
  t0 = now();
  for (long i = 0; i < ways; i++) {
    int rc;
    while ((rc = cord_send(&c, &m)) < 0) {
      if (rc != -ENOBUFS)
        die("cord_send", rc);
      cord_flush(&c, 120000);
    }
  }
  cord_event_t ev = reply_to(&c, request_raw(&c, "count", 5), NULL);
  double down = now() - t0;
  char got[32] = {0};
  memcpy(got, ev.data, ev.len < sizeof got - 1 ? ev.len : sizeof got - 1);
  if (atol(got) != ways) {
    fprintf(stderr, "bench_parent: %s counted %s of %ld\n", name, got, ways);
    exit(1);
  }

  /* One way, child to parent: `send n 64`. */
  char cmd[64];
  int len = snprintf(cmd, sizeof cmd, "send %ld 64", ways);
  long messages = 0;
  t0 = now();
  reply_to(&c, request_raw(&c, cmd, (size_t)len), &messages);
  double up = now() - t0;
  if (messages != ways) {
    fprintf(stderr, "bench_parent: %s sent %ld of %ld\n", name, messages, ways);
    exit(1);
  }
  printf("%-8s round trip 16 B: %7.1f us   one way to child 64 B: %9.0f msg/s   one way from child 64 B: %9.0f msg/s\n",
         name, rtt * 1e6, (double)ways / down, (double)ways / up);
  fflush(stdout);
  cord_stop(&c);
  int rc;
  while ((rc = cord_wait(&c, &ev, 120000)) == 1)
    if (ev.type == CORD_EV_EXIT && ev.exit_status != 0)
      die("child exit", ev.exit_status);
  cord_proc_close(&c);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_parent PYTHON PYTHON-BENCH-CHILD C-BENCH-CHILD\n");
    return 2;
  }
  long n = getenv("BENCH_N") ? atol(getenv("BENCH_N")) : 20000;
  bench("C", NULL, argv[3], n);
  bench("Python", argv[1], argv[2], n);
  return 0;
}
