/* node_throughput.c: messages per second between this C parent and a real Node.js child, on the json and the advanced serialization. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cord.h"

/*
 * Usage: node_throughput NODE SCRIPT [N]
 *
 * SCRIPT is node_echo.js. For each serialization, prints:
 *   ping-pong   N/10 round trips of {seq: n}, one at a time
 *   C -> node   N one-way {seq: n} sent at once (backpressure honoured),
 *               until the child says it counted them
 *   node -> C   N one-way {seq: n} the child sends in one burst
 *   16 MiB      one round trip of a 16 MiB string (json) or Buffer
 *               (advanced)
 * The machine's load changes these figures; they are for comparing the
 * two serializations in one run, not for judging.
 */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static cord_arena_t A;

/* {key: n} in the child's serialization. */
static int send_num(cord_proc_t *c, const char *key, int n) {
  if (c->serialization == CORD_SERIALIZATION_JSON) {
    char t[64];
    snprintf(t, sizeof t, "{\"%s\":%d}", key, n);
    return cord_send_json(c, t);
  }
  cord_arena_reset(&A);
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, key, cord_value_int32(&A, n));
  return cord_send_value(c, o, NULL, 0);
}

/* Waits for the next MESSAGE; exits on anything that ends the child. */
static void next_message(cord_proc_t *c, cord_event_t *ev) {
  for (;;) {
    int r = cord_wait(c, ev, 60000);
    if (r != 1 || ev->type == CORD_EV_CLOSE || ev->type == CORD_EV_ERROR) {
      fprintf(stderr, "node_throughput: %s\n", r == 1 ? (ev->detail ? ev->detail : cord_event_name(ev->type))
                                                      : cord_strerror(r));
      exit(1);
    }
    if (ev->type == CORD_EV_MESSAGE)
      return;
  }
}

/* Sends, waiting for DRAIN while the queue is above its mark. */
static void send_flow(cord_proc_t *c, const char *key, int n) {
  cord_event_t ev;
  int r = send_num(c, key, n);
  if (r < 0) {
    fprintf(stderr, "node_throughput: send: %s\n", cord_proc_detail(c));
    exit(1);
  }
  while (r == 1) {
    if (cord_wait(c, &ev, 60000) != 1) {
      fprintf(stderr, "node_throughput: no DRAIN\n");
      exit(1);
    }
    if (ev.type == CORD_EV_DRAIN)
      r = 0;
  }
}

static void run(const char *node, const char *script, cord_serialization_t mode, int n) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = {0};
  const char *name = mode == CORD_SERIALIZATION_JSON ? "json" : "advanced";
  o.exec_path = node;
  o.serialization = mode;
  if (cord_spawn(&c, script, NULL, &o) < 0) {
    fprintf(stderr, "node_throughput: %s\n", cord_spawn_error());
    exit(1);
  }

  double t0 = now_s();
  for (int i = 1; i <= n / 10; i++) {
    send_num(&c, "seq", i);
    next_message(&c, &ev);
  }
  double pp = (n / 10) / (now_s() - t0);

  send_num(&c, "count", n);
  t0 = now_s();
  for (int i = 1; i <= n; i++)
    send_flow(&c, "seq", i);
  next_message(&c, &ev); /* {counted: n} */
  double out = n / (now_s() - t0);

  t0 = now_s();
  send_num(&c, "burst", n);
  for (int i = 0; i < n; i++)
    next_message(&c, &ev);
  double in = n / (now_s() - t0);

  size_t big = (size_t)16 << 20;
  char *s = malloc(big + 3);
  memset(s + 1, 'q', big);
  t0 = now_s();
  if (mode == CORD_SERIALIZATION_JSON) {
    s[0] = '"', s[big + 1] = '"', s[big + 2] = '\0';
    cord_send_json(&c, s);
  } else {
    cord_arena_reset(&A);
    cord_send_value(&c, cord_value_bytes(&A, CORD_VALUE_VIEW, CORD_VIEW_BUFFER, s + 1, big), NULL, 0);
  }
  next_message(&c, &ev);
  double large = now_s() - t0;
  free(s);

  printf("%-9s ping-pong %7.0f round trips/s   C -> node %7.0f msg/s   node -> C %7.0f msg/s   16 MiB round trip "
         "%6.0f ms\n",
         name, pp, out, in, large * 1e3);
  cord_disconnect(&c);
  while (cord_wait(&c, &ev, 60000) == 1 && ev.type != CORD_EV_CLOSE)
    ;
  cord_proc_close(&c);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: node_throughput NODE SCRIPT [N]\n");
    return 2;
  }
  int n = argc > 3 ? atoi(argv[3]) : 100000;
  cord_arena_init(&A, 0);
  run(argv[1], argv[2], CORD_SERIALIZATION_JSON, n);
  run(argv[1], argv[2], CORD_SERIALIZATION_ADVANCED, n);
  cord_arena_free(&A);
  return 0;
}
