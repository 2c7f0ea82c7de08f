/* bench_parent.c: measures bench children from the C parent SDK: round trip (16 B echo), one way parent to child (64 B, then `count`), one way child to parent (`send N 64`).
 *
 * Usage: go-bench-parent NAME=CHILD-PATH...
 * Each child is started once and measured in rounds; each figure is the
 * median of the rounds. It prints figures and judges nothing, except that
 * a child that breaks the bench child contract (a wrong count, a missing
 * message, a bad exit) fails the run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cord.h"

#define ROUNDS 5
#define ROUND_TRIPS 20000
#define ONE_WAY 200000
#define WAIT_MS 120000

#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      fprintf(stderr, "bench_parent: " __VA_ARGS__);            \
      fputc('\n', stderr);                                      \
      exit(1);                                                  \
    }                                                           \
  } while (0)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* next waits for the next event that is not output or drain. */
static void next(cord_proc_t *c, cord_event_t *ev) {
  for (;;) {
    int r = cord_wait(c, ev, WAIT_MS);
    CHECK(r == 1, "waiting: %s", r == 0 ? "the child is gone" : cord_strerror(r));
    if (ev->type != CORD_EV_OUTPUT && ev->type != CORD_EV_DRAIN)
      return;
  }
}

/* ask sends a raw request and waits for its reply, counting the one-way
 * messages that come before it. */
static unsigned long ask(cord_proc_t *c, const void *data, size_t len, cord_event_t *ev) {
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = data, .len = len};
  uint64_t id;
  int r = cord_request(c, &m, &id);
  CHECK(r >= 0, "cord_request: %s", cord_strerror(r));
  unsigned long messages = 0;
  for (;;) {
    next(c, ev);
    if (ev->type == CORD_EV_MESSAGE && ev->id == 0) {
      messages++;
      continue;
    }
    CHECK(ev->type == CORD_EV_REPLY && ev->id == id && ev->error == 0 && ev->status == 0,
          "expected the reply to %llu, got %s (error %d, status %u)", (unsigned long long)id,
          cord_event_name(ev->type), ev->error, ev->status);
    return messages;
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v) {
  qsort(v, ROUNDS, sizeof *v, by_value);
  return v[ROUNDS / 2];
}

static void measure(const char *name, const char *path) {
  cord_proc_t c;
  cord_event_t ev;
  CHECK(cord_spawn(&c, path, NULL, NULL) == 0, "cord_spawn %s: %s", path, cord_spawn_error());
  next(&c, &ev);
  CHECK(ev.type == CORD_EV_READY, "%s: no handshake (%s)", name, ev.detail ? ev.detail : "");
  double rt[ROUNDS], p2c[ROUNDS], c2p[ROUNDS];
  static const char sixteen[16] = "0123456789abcdef";
  static const char sixty_four[64];
  char send_cmd[64];
  snprintf(send_cmd, sizeof send_cmd, "send %d 64", ONE_WAY);
  ask(&c, sixteen, sizeof sixteen, &ev); /* warm up: page faults, first allocations */

  for (int round = 0; round < ROUNDS; round++) {
    double t0 = now();
    for (int i = 0; i < ROUND_TRIPS; i++) {
      ask(&c, sixteen, sizeof sixteen, &ev);
      CHECK(ev.len == 16 && memcmp(ev.data, sixteen, 16) == 0, "%s: the echo differs", name);
    }
    rt[round] = (now() - t0) / ROUND_TRIPS * 1e6;

    t0 = now();
    cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = sixty_four, .len = sizeof sixty_four};
    for (int i = 0; i < ONE_WAY; i++) {
      int r = cord_send(&c, &m);
      CHECK(r >= 0, "cord_send: %s", cord_strerror(r));
      if (r == 1) /* above the high-water mark: let the child catch up */
        CHECK(cord_flush(&c, WAIT_MS) == 0, "cord_flush");
    }
    ask(&c, "count", 5, &ev);
    char want[32];
    snprintf(want, sizeof want, "%d", ONE_WAY);
    CHECK(ev.len == strlen(want) && memcmp(ev.data, want, ev.len) == 0, "%s: count %.*s, sent %s", name,
          (int)ev.len, (const char *)ev.data, want);
    p2c[round] = ONE_WAY / (now() - t0);

    t0 = now();
    unsigned long got = ask(&c, send_cmd, strlen(send_cmd), &ev);
    CHECK(got == ONE_WAY, "%s: %lu messages before the reply to send, want %d", name, got, ONE_WAY);
    c2p[round] = ONE_WAY / (now() - t0);
  }
  CHECK(cord_disconnect(&c) == 0, "cord_disconnect");
  for (;;) {
    next(&c, &ev);
    if (ev.type == CORD_EV_EXIT)
      CHECK(ev.exit_status == 0, "%s exited with %d", name, ev.exit_status);
    if (ev.type == CORD_EV_CLOSE)
      break;
  }
  cord_proc_close(&c);
  printf("%-8s round trip 16 B: %6.1f us   one way parent->child 64 B: %8.0f msg/s   "
         "one way child->parent 64 B: %8.0f msg/s\n",
         name, median(rt), median(p2c), median(c2p));
  fflush(stdout);
}

int main(int argc, char **argv) {
  CHECK(argc >= 2, "usage: %s NAME=CHILD-PATH...", argv[0]);
  printf("bench children against the C parent SDK (median of %d rounds; %d round trips, %d one-way messages each)\n",
         ROUNDS, ROUND_TRIPS, ONE_WAY);
  for (int i = 1; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    CHECK(eq != NULL, "argument %s is not NAME=PATH", argv[i]);
    *eq = 0;
    measure(argv[i], eq + 1);
  }
  return 0;
}
