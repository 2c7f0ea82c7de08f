/* cord_bench.c: the suite's Cord parent: one workload, measured once, against any bench child, printed as one JSON line. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc_counter.h"
#include "bench_util.h"
#include "cord.h"

/*
 * Usage: cord-bench CASE [ARGS...] [--kind raw|json|typed] -- CHILD [CHILD-ARGS...]
 *
 * CHILD is a bench child (bench/README.md) started with cord_spawn(); the
 * cases are those of bench/README.md:
 *   rtt N SIZE      N echo requests of SIZE bytes, one at a time: latency
 *   window N SIZE W N echo requests, W outstanding at a time: requests/s
 *   p2c N SIZE      N one-way messages, then `count`: messages/s
 *   c2p N SIZE      the request `send N SIZE`: messages/s
 *   sink N SIZE     N one-way messages to a child that only reads (the raw
 *                   baseline's `sink`), until its one-way "done": the
 *                   parent SDK's own sending rate
 *   spawn N [MiB]   N spawns until READY, after touching MiB of memory
 *   idle K          K idle children: the parent's memory per child
 *   many C R        C children, R rounds of one echo request to each
 * Every case counts the parent's allocations in its steady state.
 */

#define WARMUP 200
#define TYPE_NAME "bench.v1.Blob"

static int kind = CORD_PAYLOAD_RAW;
static const char *const *child_argv;
static uint8_t *payload;

static void spawn(cord_proc_t *c) {
  if (cord_spawn(c, child_argv[0], child_argv + 1, NULL) < 0)
    bench_die("%s", cord_spawn_error());
}

/* Waits for the next event of one of these types; any other event is
 * passed over, except those that mean the child is gone. */
static void wait_for(cord_proc_t *c, cord_event_t *ev, cord_event_type_t type) {
  for (;;) {
    int r = cord_wait(c, ev, 60000);
    if (r != 1)
      bench_die("waiting for %s: %s", cord_event_name(type), r == -ETIMEDOUT ? "timed out" : "the child ended");
    if (ev->type == type)
      return;
    if (ev->type == CORD_EV_ERROR || ev->type == CORD_EV_DISCONNECT)
      bench_die("waiting for %s: %s %s", cord_event_name(type), cord_event_name(ev->type),
                ev->detail ? ev->detail : "");
  }
}

static void finish(cord_proc_t *c) {
  cord_event_t ev;
  cord_disconnect(c);
  while (cord_wait(c, &ev, 10000) == 1)
    ;
  cord_proc_close(c);
}

/* A message of the chosen kind: any bytes for raw and typed, a JSON
 * string ("xx...x") for json. */
static cord_msg_t message(size_t size) {
  cord_msg_t m = {.payload = kind, .data = payload, .len = size};
  if (kind == CORD_PAYLOAD_TYPED)
    m.type_name = TYPE_NAME;
  if (kind == CORD_PAYLOAD_JSON && size >= 2) {
    payload[0] = '"';
    payload[size - 1] = '"';
  }
  return m;
}

/* One request, and its reply, which must echo it. */
static void ask(cord_proc_t *c, const cord_msg_t *m, cord_event_t *ev) {
  uint64_t id;
  if (cord_request(c, m, &id) < 0)
    bench_die("request refused");
  wait_for(c, ev, CORD_EV_REPLY);
  if (ev->id != id || ev->error || ev->status)
    bench_die("request %llu failed: %d %u", (unsigned long long)id, ev->error, ev->status);
}

static uint64_t command(cord_proc_t *c, const char *text) {
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = text, .len = strlen(text)};
  cord_event_t ev;
  ask(c, &m, &ev);
  return ev.len ? strtoull(ev.data, NULL, 10) : 0;
}

static void rtt(size_t n, size_t size) {
  cord_proc_t c;
  cord_event_t ev;
  cord_msg_t m = message(size);
  uint64_t *lat = calloc(n, sizeof *lat);
  long allocs;
  spawn(&c);
  wait_for(&c, &ev, CORD_EV_READY);
  for (int i = 0; i < WARMUP; i++)
    ask(&c, &m, &ev);
  alloc_armed = 1;
  for (size_t i = 0; i < n; i++) {
    uint64_t t0 = bench_now_ns();
    ask(&c, &m, &ev);
    lat[i] = bench_now_ns() - t0;
    if (ev.len != size)
      bench_die("the echo has %zu bytes, not %zu", ev.len, size);
  }
  alloc_armed = 0;
  allocs = alloc_calls;
  bench_begin("rtt");
  bench_latencies(lat, n);
  bench_field("allocs_per_msg", (double)allocs / (double)n);
  bench_end();
  free(lat);
  finish(&c);
}

static void window(size_t n, size_t size, size_t w) {
  cord_proc_t c;
  cord_event_t ev;
  cord_msg_t m = message(size);
  size_t sent = 0, done = 0;
  uint64_t t0;
  spawn(&c);
  wait_for(&c, &ev, CORD_EV_READY);
  alloc_armed = 1;
  t0 = bench_now_ns();
  while (done < n) {
    while (sent < n && sent - done < w) {
      if (cord_request(&c, &m, NULL) < 0)
        bench_die("request refused");
      sent++;
    }
    wait_for(&c, &ev, CORD_EV_REPLY);
    if (ev.error || ev.status)
      bench_die("a request failed");
    done++;
  }
  t0 = bench_now_ns() - t0;
  alloc_armed = 0;
  bench_begin("window");
  bench_field("per_s", (double)n / ((double)t0 / 1e9));
  bench_field("allocs_per_msg", (double)alloc_calls / (double)n);
  bench_end();
  finish(&c);
}

/* N one-way messages; a full queue is written out before more go in. */
static void send_many(cord_proc_t *c, size_t n, const cord_msg_t *m) {
  for (size_t i = 0; i < n; i++) {
    int r = cord_send(c, m);
    if (r < 0)
      bench_die("send: %d", r);
    if (r == 1 && cord_flush(c, 60000) < 0)
      bench_die("flush failed");
  }
}

static void p2c(size_t n, size_t size, int sink) {
  cord_proc_t c;
  cord_event_t ev;
  cord_msg_t m = message(size);
  uint64_t t0, got;
  spawn(&c);
  wait_for(&c, &ev, CORD_EV_READY);
  if (!sink) { /* a first round of the same size, not timed: pages, caches and buffers warm */
    send_many(&c, n, &m);
    command(&c, "count");
  }
  alloc_armed = 1;
  t0 = bench_now_ns();
  send_many(&c, n, &m);
  if (sink) {
    wait_for(&c, &ev, CORD_EV_MESSAGE);
    got = n;
  } else {
    got = command(&c, "count");
  }
  t0 = bench_now_ns() - t0;
  alloc_armed = 0;
  if (got != n)
    bench_die("the child counted %llu messages of %zu", (unsigned long long)got, n);
  bench_begin(sink ? "sink" : "p2c");
  bench_field("per_s", (double)n / ((double)t0 / 1e9));
  bench_field("bytes_per_s", (double)n * (double)size / ((double)t0 / 1e9));
  bench_field("allocs_per_msg", (double)alloc_calls / (double)n);
  bench_end();
  finish(&c);
}

static void c2p(size_t n, size_t size) {
  cord_proc_t c;
  cord_event_t ev;
  char text[64];
  uint64_t id, t0, got = 0;
  cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = text};
  spawn(&c);
  wait_for(&c, &ev, CORD_EV_READY);
  for (int round = 0; round < 2; round++) { /* the first round, of the same size, warms up */
    size_t k = n;
    m.len = (size_t)snprintf(text, sizeof text, "send %zu %zu", k, size);
    got = 0;
    alloc_armed = round;
    t0 = bench_now_ns();
    if (cord_request(&c, &m, &id) < 0)
      bench_die("request refused");
    for (;;) {
      int r = cord_wait(&c, &ev, 60000);
      if (r != 1)
        bench_die("the child stopped sending");
      if (ev.type == CORD_EV_MESSAGE) {
        if (ev.len != size)
          bench_die("a message of %zu bytes, not %zu", ev.len, size);
        got++;
      } else if (ev.type == CORD_EV_REPLY) {
        break;
      } else if (ev.type == CORD_EV_ERROR || ev.type == CORD_EV_DISCONNECT) {
        bench_die("%s %s", cord_event_name(ev.type), ev.detail ? ev.detail : "");
      }
    }
    t0 = bench_now_ns() - t0;
    alloc_armed = 0;
    if (got != k)
      bench_die("%llu messages came, not %zu", (unsigned long long)got, k);
  }
  bench_begin("c2p");
  bench_field("per_s", (double)n / ((double)t0 / 1e9));
  bench_field("bytes_per_s", (double)n * (double)size / ((double)t0 / 1e9));
  bench_field("allocs_per_msg", (double)alloc_calls / (double)n);
  bench_end();
  finish(&c);
}

static void spawn_ready(size_t n, size_t mib) {
  uint64_t *lat = calloc(n, sizeof *lat);
  char *mem = NULL;
  if (mib) { /* every page touched, so that a fork would have to copy its tables */
    mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
      bench_die("mmap of %zu MiB failed", mib);
    memset(mem, 1, mib << 20);
  }
  for (size_t i = 0; i < n; i++) {
    cord_proc_t c;
    cord_event_t ev;
    uint64_t t0 = bench_now_ns();
    spawn(&c);
    wait_for(&c, &ev, CORD_EV_READY);
    lat[i] = bench_now_ns() - t0;
    finish(&c);
  }
  bench_begin("spawn");
  bench_latencies(lat, n);
  bench_field("parent_mib", (double)mib);
  bench_end();
  if (mem)
    munmap(mem, mib << 20);
  free(lat);
}

static void idle(size_t k) {
  cord_proc_t *c = calloc(k, sizeof *c);
  cord_event_t ev;
  size_t rss0, rss1;
  struct mallinfo2 m0, m1;
  long calls;
  /* One child first, so that what the first spawn sets up once (the
   * spawn's own buffers, the C library's) is not counted per child. */
  spawn(&c[0]);
  wait_for(&c[0], &ev, CORD_EV_READY);
  rss0 = bench_rss();
  m0 = mallinfo2();
  alloc_calls = 0;
  alloc_armed = 1;
  for (size_t i = 1; i < k; i++) {
    spawn(&c[i]);
    wait_for(&c[i], &ev, CORD_EV_READY);
  }
  alloc_armed = 0;
  calls = alloc_calls;
  rss1 = bench_rss();
  m1 = mallinfo2();
  bench_begin("idle");
  bench_field("rss_per_child", (double)(rss1 - rss0) / (double)(k - 1));
  bench_field("heap_per_child", ((double)m1.uordblks - (double)m0.uordblks) / (double)(k - 1));
  bench_field("allocs_per_child", (double)calls / (double)(k - 1));
  bench_end();
  for (size_t i = 0; i < k; i++)
    finish(&c[i]);
  free(c);
}

static void many(size_t n, size_t rounds) {
  cord_proc_t *c = calloc(n, sizeof *c), *ready[64];
  cord_loop_t loop;
  cord_event_t ev;
  cord_msg_t m = message(16);
  uint64_t t0 = 0;
  if (cord_loop_init(&loop) < 0)
    bench_die("cord_loop_init failed");
  for (size_t i = 0; i < n; i++) {
    spawn(&c[i]);
    wait_for(&c[i], &ev, CORD_EV_READY);
    if (cord_loop_add(&loop, &c[i]) < 0)
      bench_die("cord_loop_add failed");
  }
  for (size_t r = 0; r <= rounds; r++) { /* round 0 warms up */
    size_t replies = 0;
    if (r == 1) {
      alloc_armed = 1;
      t0 = bench_now_ns();
    }
    for (size_t i = 0; i < n; i++)
      if (cord_request(&c[i], &m, NULL) < 0)
        bench_die("request refused");
    while (replies < n) {
      int k = cord_loop_wait(&loop, ready, 64, 60000);
      if (k <= 0)
        bench_die("the children stopped answering");
      for (int j = 0; j < k; j++)
        while (cord_step(ready[j], &ev) == 1)
          if (ev.type == CORD_EV_REPLY)
            replies++;
    }
  }
  t0 = bench_now_ns() - t0;
  alloc_armed = 0;
  bench_begin("many");
  bench_field("children", (double)n);
  bench_field("ns_per_msg", (double)t0 / (double)(n * rounds));
  bench_field("allocs_per_msg", (double)alloc_calls / (double)(n * rounds));
  bench_end();
  for (size_t i = 0; i < n; i++)
    finish(&c[i]);
  cord_loop_close(&loop);
  free(c);
}

static size_t arg(char **argv, int argc, int i, size_t dflt) {
  return i < argc ? strtoull(argv[i], NULL, 10) : dflt;
}

int main(int argc, char **argv) {
  int dash = 0, nargs;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--")) {
      dash = i;
      break;
    }
    if (!strcmp(argv[i], "--kind") && i + 1 < argc) {
      const char *k = argv[i + 1];
      kind = !strcmp(k, "json") ? CORD_PAYLOAD_JSON : !strcmp(k, "typed") ? CORD_PAYLOAD_TYPED : CORD_PAYLOAD_RAW;
      memmove(argv + i, argv + i + 2, (size_t)(argc - i - 2) * sizeof *argv);
      argc -= 2;
      i--;
    }
  }
  if (argc < 2 || !dash || dash + 1 >= argc) {
    fprintf(stderr, "usage: cord-bench CASE [ARGS...] [--kind raw|json|typed] -- CHILD [ARGS...]\n");
    return 2;
  }
  child_argv = (const char *const *)argv + dash + 1;
  nargs = dash;
  payload = malloc(2u << 20);
  memset(payload, 'x', 2u << 20);
  const char *c = argv[1];
  if (!strcmp(c, "rtt"))
    rtt(arg(argv, nargs, 2, 10000), arg(argv, nargs, 3, 16));
  else if (!strcmp(c, "window"))
    window(arg(argv, nargs, 2, 100000), arg(argv, nargs, 3, 16), arg(argv, nargs, 4, 64));
  else if (!strcmp(c, "p2c") || !strcmp(c, "sink"))
    p2c(arg(argv, nargs, 2, 200000), arg(argv, nargs, 3, 64), c[0] == 's');
  else if (!strcmp(c, "c2p"))
    c2p(arg(argv, nargs, 2, 200000), arg(argv, nargs, 3, 64));
  else if (!strcmp(c, "spawn"))
    spawn_ready(arg(argv, nargs, 2, 20), arg(argv, nargs, 3, 0));
  else if (!strcmp(c, "idle"))
    idle(arg(argv, nargs, 2, 50));
  else if (!strcmp(c, "many"))
    many(arg(argv, nargs, 2, 10), arg(argv, nargs, 3, 100));
  else
    bench_die("unknown case %s", c);
  free(payload);
  return 0;
}
