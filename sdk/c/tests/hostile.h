/* hostile.h: what the hostile-peer tests share: an allocator that measures the SDK's memory, a peer process that writes what it is told, and a step loop that measures each call. */
#ifndef CORD_TEST_HOSTILE_H
#define CORD_TEST_HOSTILE_H

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "helpers.h"

/* ---- memory: every block carries its size, so live and peak bytes are known ---- */

static size_t h_live, h_peak, h_limit = SIZE_MAX;

static void *h_account(void *raw, size_t n) {
  if (!raw)
    return NULL;
  *(size_t *)raw = n;
  h_live += n;
  if (h_live > h_peak)
    h_peak = h_live;
  return (char *)raw + 16;
}

static void *h_malloc(size_t n) {
  if (h_live + n > h_limit)
    return NULL; /* past the bound the test sets, so that it fails rather than the machine */
  return h_account(malloc(n + 16), n);
}

static void *h_calloc(size_t count, size_t n) {
  if (n && count > SIZE_MAX / n)
    return NULL;
  void *p = h_malloc(count * n);
  if (p)
    memset(p, 0, count * n);
  return p;
}

static void h_free(void *p) {
  if (!p)
    return;
  char *raw = (char *)p - 16;
  h_live -= *(size_t *)raw;
  free(raw);
}

static void *h_realloc(void *p, size_t n) {
  if (!p)
    return h_malloc(n);
  size_t old = *(size_t *)((char *)p - 16);
  void *q = h_malloc(n);
  if (!q)
    return NULL;
  memcpy(q, p, old < n ? old : n);
  h_free(p);
  return q;
}

/* Measures the SDK's memory from now on, refusing anything past `limit`. */
static inline void hostile_memory(size_t limit) {
  h_limit = limit;
  cr_assert_eq(cord_replace_allocator(h_malloc, h_realloc, h_calloc, h_free), 0);
}

/* ---- the peer ---------------------------------------------------------------------- */

/* The spec's tiny child Hello (section 4): max_frame 256, no descriptors. */
static const uint8_t hostile_hello[] = {0x00, 0x00, 0x00, 0x24, 0x0a, 0x22, 0x0d, 0x43, 0x4f, 0x52, 0x44, 0x10,
                                        0x01, 0x18, 0x01, 0x20, 0x80, 0x02, 0x38, 0x93, 0x21, 0x42, 0x0a, 0x63,
                                        0x6f, 0x72, 0x64, 0x2d, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x4a, 0x05, 0x31,
                                        0x2e, 0x30, 0x2e, 0x30};

static inline void put_all(int fd, const void *b, size_t n) {
  const uint8_t *p = b;
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0)
      _exit(0); /* the parent closed: the attack is over */
    p += k;
    n -= (size_t)k;
  }
}

/* Reads, and throws away, until the parent closes its end. */
static inline void drain_until_closed(int fd) {
  char b[4096];
  while (read(fd, b, sizeof b) > 0)
    ;
}

/* A parent on one end of a socket pair (cord_attach), and a peer process
 * on the other that runs play(fd, arg) and exits. Returns the peer's pid. */
static inline pid_t hostile_pair(cord_proc_t *c, const cord_options_t *o, void (*play)(int fd, void *arg),
                                 void *arg) {
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(sv[0]);
    play(sv[1], arg);
    _exit(0);
  }
  close(sv[1]);
  cr_assert_eq(cord_attach(c, sv[0], o), 0);
  return pid;
}

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- stepping, measured ------------------------------------------------------------------- */

typedef struct {
  int end_error;        /* DISCONNECT's code */
  int errors;           /* ERROR events */
  int first_error;      /* the first ERROR's code */
  double longest_step;  /* seconds */
  unsigned most_frames; /* frames taken from the socket in one step */
  unsigned frames;      /* all frames taken */
} hostile_run_t;

static unsigned h_frames_in;

static void h_trace(void *arg, int outgoing, const void *frame, size_t len) {
  (void)arg;
  (void)frame;
  (void)len;
  if (!outgoing)
    h_frames_in++;
}

/* Options that count the frames the parent takes. */
static inline cord_options_t hostile_options(void) {
  cord_options_t o = {0};
  o.trace = h_trace;
  return o;
}

/* Steps the parent until its channel has ended (DISCONNECT), as a loop
 * would: a poll, then steps until none is left; each step is timed. */
static inline hostile_run_t hostile_run(cord_proc_t *c) {
  hostile_run_t r = {0};
  double give_up = now_s() + 60;
  for (;;) {
    cord_event_t ev;
    unsigned before = h_frames_in;
    double t0 = now_s();
    int k = cord_step(c, &ev);
    double dt = now_s() - t0;
    if (dt > r.longest_step)
      r.longest_step = dt;
    if (h_frames_in - before > r.most_frames)
      r.most_frames = h_frames_in - before;
    r.frames = h_frames_in;
    if (k == 1) {
      for (unsigned i = 0; i < ev.nfds; i++)
        close(ev.fds[i]);
      if (ev.type == CORD_EV_ERROR && r.errors++ == 0)
        r.first_error = ev.error;
      if (ev.type == CORD_EV_DISCONNECT) {
        r.end_error = ev.error;
        return r;
      }
      continue;
    }
    cr_assert_eq(k, -EAGAIN, "step: %s", cord_strerror(k));
    cr_assert_lt(now_s(), give_up, "the channel never ended");
    int fds[4];
    short evs[4];
    struct pollfd pf[4];
    int n = cord_fds(c, fds, evs, 4);
    for (int i = 0; i < n; i++)
      pf[i] = (struct pollfd){fds[i], evs[i], 0};
    poll(pf, (nfds_t)n, cord_timeout(c) < 0 ? 1000 : cord_timeout(c));
  }
}

/* Reaps the peer process. */
static inline void hostile_reap(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
}

#endif
