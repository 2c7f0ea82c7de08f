/* raw_bench.c: the kernel baselines: the suite's workloads over a bare socket pair, with 4-byte length prefixes and nothing else. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

/*
 * Usage: raw-bench CASE ARGS...
 *   rtt N SIZE     ping-pong of one SIZE-byte frame over a socket pair
 *   p2c N SIZE     N frames to a forked child, written in batches of up to
 *                  64 KiB; the child reads in bulk, walks the prefixes and
 *                  answers 4 bytes once it has N
 *   c2p N SIZE     the same in the other direction
 *   spawn N [MiB]  posix_spawn() of this program until its first byte
 *   sink N SIZE    a Cord child for `cord-bench sink`: sends a Hello, reads
 *                  in bulk, and after N messages sends the one-way "done"
 * The one-way cases are what a program that batches its writes and reads
 * in bulk gets from the kernel: the floor for any protocol on top.
 */

#define BATCH 65536
#define RBUF (256 * 1024)

extern char **environ;

/* A child's Hello (the spec's example: version 1, max_frame 64 MiB, 16 fds). */
static const uint8_t hello[] = {0x00, 0x00, 0x00, 0x26, 0x0a, 0x24, 0x0d, 0x43, 0x4f, 0x52, 0x44, 0x10,
                                0x01, 0x18, 0x01, 0x20, 0x80, 0x80, 0x80, 0x20, 0x28, 0x10, 0x30, 0x01,
                                0x38, 0x92, 0x21, 0x42, 0x06, 0x63, 0x6f, 0x72, 0x64, 0x2d, 0x63, 0x4a,
                                0x05, 0x31, 0x2e, 0x30, 0x2e, 0x30};
/* message { raw: "done" } */
static const uint8_t done[] = {0x00, 0x00, 0x00, 0x08, 0x12, 0x06, 0x3a, 0x04, 'd', 'o', 'n', 'e'};

static void put(int fd, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      bench_die("write: %s", strerror(errno));
    p += r;
    n -= (size_t)r;
  }
}

static void get(int fd, void *buf, size_t n) {
  uint8_t *p = buf;
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      bench_die("read: %s", r ? strerror(errno) : "end of file");
    p += r;
    n -= (size_t)r;
  }
}

static void prefix(uint8_t *b, uint32_t n) {
  b[0] = (uint8_t)(n >> 24);
  b[1] = (uint8_t)(n >> 16);
  b[2] = (uint8_t)(n >> 8);
  b[3] = (uint8_t)n;
}

/* Walks the frames of a byte stream read in bulk, counting whole ones;
 * a prefix or a body may straddle reads. */
typedef struct {
  uint8_t hdr[4];
  unsigned nhdr;
  size_t body; /* bytes of the current body still to come */
  size_t frames;
} walker_t;

static void walk(walker_t *w, const uint8_t *p, size_t n) {
  while (n) {
    if (w->body) {
      size_t k = n < w->body ? n : w->body;
      w->body -= k;
      p += k;
      n -= k;
      if (!w->body)
        w->frames++;
      continue;
    }
    w->hdr[w->nhdr++] = *p++;
    n--;
    if (w->nhdr == 4) {
      w->nhdr = 0;
      w->body = (size_t)w->hdr[0] << 24 | (size_t)w->hdr[1] << 16 | (size_t)w->hdr[2] << 8 | w->hdr[3];
      if (!w->body)
        w->frames++;
    }
  }
}

/* Reads in bulk until n frames have passed; returns 0 then, or -1 at end
 * of file first. */
static int count(int fd, size_t n, walker_t *w) {
  static uint8_t buf[RBUF];
  while (w->frames < n) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      return -1;
    if (r < 0)
      bench_die("read: %s", strerror(errno));
    walk(w, buf, (size_t)r);
  }
  return 0;
}

/* Writes n frames of size bytes, as many whole frames per write as fit
 * in BATCH (a larger frame goes alone, prefix and body in one writev). */
static void flood(int fd, size_t n, size_t size, uint8_t *body) {
  static uint8_t batch[BATCH];
  size_t per = BATCH / (size + 4);
  if (!per) {
    uint8_t h[4];
    struct iovec v[2] = {{h, 4}, {body, size}};
    prefix(h, (uint32_t)size);
    for (size_t i = 0; i < n; i++) {
      size_t left = size + 4;
      struct iovec *iv = v;
      int cnt = 2;
      v[0].iov_base = h, v[0].iov_len = 4, v[1].iov_base = body, v[1].iov_len = size;
      while (left) {
        ssize_t r = writev(fd, iv, cnt);
        if (r < 0 && errno == EINTR)
          continue;
        if (r <= 0)
          bench_die("writev: %s", strerror(errno));
        left -= (size_t)r;
        while (cnt && (size_t)r >= iv->iov_len) {
          r -= (ssize_t)iv->iov_len;
          iv++, cnt--;
        }
        if (cnt) {
          iv->iov_base = (uint8_t *)iv->iov_base + r;
          iv->iov_len -= (size_t)r;
        }
      }
    }
    return;
  }
  for (size_t i = 0; i < per; i++) {
    prefix(batch + i * (size + 4), (uint32_t)size);
    memcpy(batch + i * (size + 4) + 4, body, size);
  }
  while (n) {
    size_t k = n < per ? n : per;
    put(fd, batch, k * (size + 4));
    n -= k;
  }
}

static pid_t fork_child(int *parent_end, int *child_end) {
  int sv[2];
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
    bench_die("socketpair: %s", strerror(errno));
  if ((pid = fork()) < 0)
    bench_die("fork: %s", strerror(errno));
  if (pid == 0)
    close(sv[0]);
  else
    close(sv[1]);
  *parent_end = sv[0];
  *child_end = sv[1];
  return pid;
}

static void reap(pid_t pid, int fd) {
  int st;
  close(fd);
  if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
    bench_die("the child failed");
}

static void rtt(size_t n, size_t size) {
  int p, c;
  uint8_t *buf = calloc(1, size + 4);
  uint64_t *lat = calloc(n, sizeof *lat);
  pid_t pid = fork_child(&p, &c);
  if (pid == 0) { /* echo each frame back, as the bench child does */
    for (;;) {
      ssize_t r = read(c, buf, 4);
      if (r == 0)
        _exit(0);
      if (r != 4) { /* the prefix came in pieces */
        if (r < 0)
          _exit(1);
        get(c, buf + r, 4 - (size_t)r);
      }
      get(c, buf + 4, size);
      put(c, buf, size + 4);
    }
  }
  prefix(buf, (uint32_t)size);
  for (size_t i = 0; i < n + 200; i++) { /* 200 to warm up */
    uint64_t t0 = bench_now_ns();
    put(p, buf, size + 4);
    get(p, buf, size + 4);
    if (i >= 200)
      lat[i - 200] = bench_now_ns() - t0;
  }
  reap(pid, p);
  bench_begin("rtt");
  bench_latencies(lat, n);
  bench_end();
  free(lat);
  free(buf);
}

static void oneway(size_t n, size_t size, int to_child) {
  int p, c;
  uint8_t *body = malloc(size ? size : 1), ack[4] = {0};
  uint64_t t0 = 0;
  memset(body, 'x', size);
  pid_t pid = fork_child(&p, &c);
  int fd = pid ? p : c;
  int sending = pid ? to_child : !to_child;
  for (int round = 0; round < 2; round++) { /* the first round warms up */
    size_t k = round ? n : (n < 1000 ? n : 1000);
    walker_t w = {0};
    if (pid && !to_child)
      put(fd, ack, 4); /* go */
    if (!pid && !to_child)
      get(fd, ack, 4);
    t0 = bench_now_ns();
    if (sending) {
      flood(fd, k, size, body);
      get(fd, ack, 4); /* the receiver has them all */
    } else {
      if (count(fd, k, &w) < 0)
        bench_die("end of file after %zu frames of %zu", w.frames, k);
      put(fd, ack, 4);
    }
    t0 = bench_now_ns() - t0;
  }
  if (!pid)
    _exit(0);
  reap(pid, p);
  bench_begin(to_child ? "p2c" : "c2p");
  bench_field("per_s", (double)n / ((double)t0 / 1e9));
  bench_field("bytes_per_s", (double)n * (double)size / ((double)t0 / 1e9));
  bench_end();
  free(body);
}

static void spawn_first_byte(const char *self, size_t n, size_t mib) {
  uint64_t *lat = calloc(n, sizeof *lat);
  char *mem = NULL;
  if (mib) {
    mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
      bench_die("mmap of %zu MiB failed", mib);
    memset(mem, 1, mib << 20);
  }
  for (size_t i = 0; i < n; i++) {
    int sv[2];
    pid_t pid;
    uint8_t b;
    posix_spawn_file_actions_t fa;
    char *args[] = {(char *)self, "first-byte", NULL};
    uint64_t t0 = bench_now_ns();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
      bench_die("socketpair: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
    if (posix_spawn(&pid, self, &fa, NULL, args, environ))
      bench_die("posix_spawn failed");
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    get(sv[0], &b, 1);
    lat[i] = bench_now_ns() - t0;
    reap(pid, sv[0]);
  }
  bench_begin("spawn");
  bench_latencies(lat, n);
  bench_field("parent_mib", (double)mib);
  bench_end();
  if (mem)
    munmap(mem, mib << 20);
  free(lat);
}

/* The Cord child of `cord-bench sink`: its channel is CORD_CHANNEL_FD. */
static int sink(size_t n) {
  const char *v = getenv("CORD_CHANNEL_FD");
  int fd = v ? atoi(v) : -1;
  walker_t w = {0};
  if (fd < 0)
    bench_die("sink: no CORD_CHANNEL_FD");
  put(fd, hello, sizeof hello);
  if (count(fd, n + 1, &w) < 0) /* the parent's Hello, then its messages */
    bench_die("sink: end of file after %zu frames", w.frames);
  put(fd, done, sizeof done);
  (void)count(fd, (size_t)-1 / 2, &w); /* until the parent's end of file */
  return 0;
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "";
  size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 0, size = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
  if (!strcmp(c, "first-byte")) {
    uint8_t b = 1;
    put(3, &b, 1);
    while (read(3, &b, 1) > 0) /* until the parent closes its end */
      ;
    return 0;
  }
  if (!strcmp(c, "rtt"))
    rtt(n, size);
  else if (!strcmp(c, "p2c") || !strcmp(c, "c2p"))
    oneway(n, size, c[0] == 'p');
  else if (!strcmp(c, "spawn"))
    spawn_first_byte("/proc/self/exe", n, size);
  else if (!strcmp(c, "sink"))
    return sink(n);
  else {
    fprintf(stderr, "usage: raw-bench rtt|p2c|c2p N SIZE | spawn N [MiB] | sink N SIZE\n");
    return 2;
  }
  return 0;
}
