/* test_fault_injection.c: a whole session survives any split of reads and writes, interrupted calls and a channel that fails after every N bytes, with and without coalesced sends, through a large or the smallest receive buffer. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_parent.h"

/*
 * recvmsg, sendmsg and recv are wrapped at link time. On the child's
 * descriptor only, the wrappers can cut every transfer to `chunk` bytes,
 * fail every other call with EINTR, report EAGAIN once, or fail with EIO
 * once `budget` bytes have passed in their direction.
 */
ssize_t __real_recvmsg(int fd, struct msghdr *h, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *h, int flags);
ssize_t __real_recv(int fd, void *buf, size_t n, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *h, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *h, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags);

static int child_fd = -1;
static long reads; /* calls of recvmsg on the child's descriptor */
static size_t chunk;
static int eintr, eagain, flip;
static long rbudget = -1, wbudget = -1;

static int injected(long budget) {
  if (eintr && (flip ^= 1)) {
    errno = EINTR;
    return 1;
  }
  if (eagain) {
    eagain = 0;
    errno = EAGAIN;
    return 1;
  }
  if (budget == 0) {
    errno = EIO;
    return 1;
  }
  return 0;
}

static size_t cut(size_t n, long budget) {
  if (chunk && n > chunk)
    n = chunk;
  if (budget >= 0 && n > (size_t)budget)
    n = (size_t)budget;
  return n;
}

ssize_t __wrap_recvmsg(int fd, struct msghdr *h, int flags) {
  if (fd != child_fd)
    return __real_recvmsg(fd, h, flags);
  reads++;
  if (injected(rbudget))
    return -1;
  size_t keep = h->msg_iov[0].iov_len;
  h->msg_iov[0].iov_len = cut(keep, rbudget);
  ssize_t r = __real_recvmsg(fd, h, flags);
  h->msg_iov[0].iov_len = keep;
  if (r > 0 && rbudget >= 0)
    rbudget -= r;
  return r;
}

ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags) {
  if (fd == child_fd && rbudget == 0) {
    errno = EIO;
    return -1;
  }
  return __real_recv(fd, buf, n, flags);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *h, int flags) {
  if (fd != child_fd)
    return __real_sendmsg(fd, h, flags);
  if (injected(wbudget))
    return -1;
  struct msghdr c = *h;
  struct iovec v = h->msg_iov[0];
  v.iov_len = cut(v.iov_len, wbudget);
  c.msg_iov = &v;
  ssize_t r = __real_sendmsg(fd, &c, flags);
  if (r > 0 && wbudget >= 0)
    wbudget -= r;
  return r;
}

/* What one session produced: the events, as text, and the child's bytes. */
typedef struct {
  char events[4096];
  uint8_t out[4096];
  size_t nout;
  int end, open;
} run_t;

static cord_chan_t ch;
/* The session's knobs: the receive buffer's size and cord_chan_open()'s
 * flags. Its frames all fit in 256 bytes but one, whose body is exactly
 * 256 bytes: through a 256-byte buffer its prefix must be taken off. */
static size_t rx_len = 512;
static unsigned open_flags;
static char big[251];

/* The parent's whole side, written before the child starts. */
static void script(int p) {
  int pp[2], pq[2];
  fp_hello(p);
  memset(big, 'z', 250);
  fp_msg(p, 0, 0, 0, 7, NULL, big, 250); /* a body of 1 + 2 + 1 + 2 + 250 = 256 bytes */
  fp_json(p, 0, "{\"one\":\"way\"}");
  fp_msg(p, 1, 0, 0, 5, "x.Job", "\x08\x07", 2);
  fp_ping(p, 3);
  fp_msg(p, 2, 0, 0, 7, NULL, "held", 4);
  fp_cancel(p, 2);
  fp_msg(p, 0, 1, 0, 7, NULL, "reply", 5);
  fp_msg(p, 0, 42, 0, 7, NULL, "stray", 5);
  cr_assert_eq(pipe(pp), 0);
  fp_msg_fds(p, 3, 0, 1, &pp[1], 1);
  /* Two frames with descriptors back to back: a read can end inside the
   * first and bring the second's, so both wait in the queue at once. */
  cr_assert_eq(pipe(pq), 0);
  int two[2] = {pq[0], pq[1]};
  fp_msg_fds(p, 0, 0, 2, two, 2);
  fp_msg_fds(p, 0, 0, 1, &pp[0], 1);
  close(pp[0]);
  close(pp[1]);
  close(pq[0]);
  close(pq[1]);
  fp_error(p, 1010, "note");
  fp_goodbye(p);
}

static void session(run_t *out) {
  int c, p = fp_channel(0, &c), r;
  cord_chan_msg_t m;
  char *e = out->events;
  memset(out, 0, sizeof *out);
  e = out->events;
  script(p);
  child_fd = c;
  out->open = fp_child_open(&ch, rx_len, 512, 4, open_flags);
  if (out->open == 0) {
    cord_chan_out_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
    (void)cord_chan_request(&ch, &q, NULL);
    while ((r = cord_chan_recv(&ch, &m)) > 0) {
      e += sprintf(e, "%d/%lu/%lu/%u/%.*s/%u;", m.type, (unsigned long)m.id, (unsigned long)m.reply_to,
                   m.status, (int)m.data.len, m.data.ptr, m.nfds);
      for (unsigned i = 0; i < m.nfds; i++)
        close(m.fds[i]);
      if (m.type == CORD_CHAN_EV_MESSAGE && m.id) {
        cord_chan_out_t o = {.payload = m.payload, .type_name = (const char *)m.type_name.ptr,
                             .type_name_len = m.type_name.len, .data = m.data.ptr, .len = m.data.len};
        (void)cord_chan_reply(&ch, m.id, &o);
      } else if (m.type == CORD_CHAN_EV_MESSAGE && !m.reply_to && m.data.len < 64) {
        /* Small ones only: written a byte at a time, the session's output
         * must fit in the socket's buffer until the parent reads it. */
        (void)cord_chan_send_json(&ch, (const char *)m.data.ptr, m.data.len);
      }
    }
    out->end = r;
  }
  cord_chan_close(&ch);
  child_fd = -1;
  /* Everything the child wrote, up to its end of file. */
  for (;;) {
    ssize_t n = read(p, out->out + out->nout, sizeof out->out - out->nout);
    if (n <= 0)
      break;
    out->nout += (size_t)n;
  }
  close(p);
  close(c);
}

static void clean(void) {
  chunk = 0;
  eintr = eagain = 0;
  rbudget = wbudget = -1;
}

/* Each test runs in its own process: the knobs start at their defaults. */
static void batched(void) { open_flags = CORD_CHAN_F_BATCH; }
static void small_buffer(void) { rx_len = 256; }
static void both(void) {
  batched();
  small_buffer();
}

static int open_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 256; fd++)
    n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

static run_t ref, got;

/* The events without the CLOSED reports a failure adds at the end. */
static void without_closed(char *out, const char *ev) {
  while (*ev) {
    const char *end = strchr(ev, ';') + 1;
    if (strncmp(ev, "4/", 2)) {
      memcpy(out, ev, (size_t)(end - ev));
      out += end - ev;
    }
    ev = end;
  }
  *out = 0;
}

Test(fault_injection, reference_session, .timeout = 30) {
  clean();
  session(&ref);
  cr_assert_eq(ref.open, 0);
  cr_expect_eq(ref.end, 0);
  /* the large one-way, one-way, request 1, request 2, its cancel, the
   * reply, request 3 with a descriptor, two one-ways with descriptors, the
   * error */
  char want[1024];
  snprintf(want, sizeof want,
           "1/0/0/0/%s/0;1/0/0/0/{\"one\":\"way\"}/0;1/1/0/0/\x08\x07/0;1/2/0/0/held/0;1/0/1/0/reply/0;"
           "1/3/0/0/fd/1;1/0/0/0/fd/2;1/0/0/0/fd/1;5/0/0/1010/note/0;",
           big);
  cr_expect_str_eq(ref.events, want);
  cr_expect_gt(ref.nout, 100u);
}

/* The parent's 14 frames are all in the socket when the child starts: it
 * reads them in bulk, a read per frame carrying descriptors (the kernel
 * ends a read after them) and a few more, not two reads per frame. */
Test(fault_injection, one_read_takes_many_frames, .timeout = 30) {
  clean();
  reads = 0;
  session(&ref);
  cr_assert_eq(ref.end, 0);
  cr_expect_leq(reads, 7, "%ld reads for 14 frames", reads);
}

/* Every split of the stream, from single bytes to more than any frame. */
static void any_split(void) {
  clean();
  session(&ref);
  for (size_t k = 1; k <= 300; k += k < 16 ? 1 : 37) {
    clean();
    chunk = k;
    session(&got);
    cr_assert_str_eq(got.events, ref.events, "reads and writes of %zu bytes", k);
    cr_assert_eq(got.nout, ref.nout, "chunk %zu", k);
    cr_assert_arr_eq(got.out, ref.out, ref.nout, "chunk %zu", k);
    cr_assert_eq(got.end, 0);
  }
}

Test(fault_injection, any_split_of_reads_and_writes, .timeout = 60) { any_split(); }
Test(fault_injection, any_split_batched, .init = batched, .timeout = 60) { any_split(); }
Test(fault_injection, any_split_small_buffer, .init = small_buffer, .timeout = 60) { any_split(); }
Test(fault_injection, any_split_batched_small_buffer, .init = both, .timeout = 60) { any_split(); }

/* The coalesced session writes the same bytes as the plain one. */
Test(fault_injection, batched_bytes_are_the_plain_bytes, .timeout = 30) {
  run_t plain;
  clean();
  session(&plain);
  open_flags = CORD_CHAN_F_BATCH;
  session(&got);
  cr_assert_str_eq(got.events, plain.events);
  cr_assert_eq(got.nout, plain.nout);
  cr_assert_arr_eq(got.out, plain.out, plain.nout);
}

Test(fault_injection, interrupted_and_would_block_calls, .timeout = 30) {
  clean();
  session(&ref);
  clean();
  eintr = 1;
  chunk = 3;
  session(&got);
  cr_assert_str_eq(got.events, ref.events, "EINTR is retried");
  cr_assert_arr_eq(got.out, ref.out, ref.nout);
  clean();
  eagain = 1; /* the first call of the child: its Hello's write */
  session(&got);
  cr_assert_str_eq(got.events, ref.events, "EAGAIN on a blocking call is waited out");
  cr_assert_arr_eq(got.out, ref.out, ref.nout);
}

static void reads_fail(void) {
  int before;
  clean();
  session(&ref);
  before = open_fds();
  for (long n = 0; n < 1000; n++) {
    clean();
    rbudget = n;
    session(&got);
    if (got.open == 0 && got.end == 0 && !strcmp(got.events, ref.events))
      break; /* n covers the whole session: nothing failed */
    cr_assert(got.open == -EIO || got.end == -EIO, "budget %ld: open %d, end %d", n, got.open, got.end);
    char seen[4096];
    without_closed(seen, got.events);
    cr_assert_eq(strncmp(seen, ref.events, strlen(seen)), 0,
                 "budget %ld: what was delivered is a prefix of the session: [%s]", n, got.events);
    /* REQ-9: the child's own request had exactly one outcome. */
    if (got.open == 0)
      cr_assert_eq(!!strstr(got.events, "1/0/1/0/reply") + !!strstr(got.events, "4/0/1/1011//0;"), 1,
                   "budget %ld: [%s]", n, got.events);
    cr_assert_eq(open_fds(), before, "budget %ld leaked a descriptor", n);
  }
}

Test(fault_injection, reads_fail_after_every_n_bytes, .timeout = 120) { reads_fail(); }
Test(fault_injection, reads_fail_small_buffer, .init = small_buffer, .timeout = 120) { reads_fail(); }

static void writes_fail(void) {
  int before;
  clean();
  session(&ref);
  before = open_fds();
  for (long n = 0; n <= (long)ref.nout; n++) {
    clean();
    wbudget = n;
    session(&got);
    cr_assert_leq(got.nout, (size_t)n, "budget %ld: more written than allowed", n);
    cr_assert_arr_eq(got.out, ref.out, got.nout, "budget %ld: the bytes written are the session's", n);
    if (n > 0 && got.open == 0)
      cr_assert_eq(got.end, 0, "budget %ld: a failed write does not end the reading", n);
    cr_assert_eq(open_fds(), before, "budget %ld leaked a descriptor", n);
  }
}

Test(fault_injection, writes_fail_after_every_n_bytes, .timeout = 120) { writes_fail(); }
Test(fault_injection, writes_fail_batched, .init = batched, .timeout = 120) { writes_fail(); }
