/* test_hostile_streams.c: length prefixes at their extremes, and a peer that ends in the middle of the handshake, of a frame, or of a descriptor pass. */
#include <fcntl.h>

#include "hostile.h"

typedef struct {
  const uint8_t *bytes;
  size_t n;
  int fd_with_byte; /* a descriptor passed with the byte at `at`, or -1 */
  size_t at;
  int close_after;  /* end the stream after the bytes, instead of reading on */
} script_t;

static void play(int fd, void *arg) {
  const script_t *s = arg;
  if (s->fd_with_byte >= 0) {
    put_all(fd, s->bytes, s->at);
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov = {(void *)(s->bytes + s->at), 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &s->fd_with_byte, sizeof(int));
    if (sendmsg(fd, &mh, MSG_NOSIGNAL) != 1)
      _exit(0);
    put_all(fd, s->bytes + s->at + 1, s->n - s->at - 1);
  } else {
    put_all(fd, s->bytes, s->n);
  }
  if (!s->close_after)
    drain_until_closed(fd);
}

/* Runs the parent (max_frame 1024) against `bytes` after the tiny Hello
 * (none when `hello` is 0) and returns how the channel ended. */
static hostile_run_t against(int hello, const uint8_t *bytes, size_t n, int fd, int close_after) {
  static uint8_t buf[4096];
  size_t k = 0;
  if (hello) {
    memcpy(buf, hostile_hello, sizeof hostile_hello);
    k = sizeof hostile_hello;
  }
  memcpy(buf + k, bytes, n);
  script_t s = {buf, k + n, fd, k, close_after};
  int before = count_fds();
  cord_proc_t c;
  cord_options_t o = hostile_options();
  o.max_frame = 1024;
  pid_t peer = hostile_pair(&c, &o, play, &s);
  hostile_run_t r = hostile_run(&c);
  cord_proc_close(&c);
  hostile_reap(peer);
  cr_expect_eq(count_fds(), before, "no descriptor left behind");
  return r;
}

Test(hostile_streams, prefix_zero_is_an_empty_frame_and_is_skipped, .timeout = 30) {
  /* An empty body (FRAME-8), then a message, then end of file: the message
   * is delivered and the channel ends cleanly. */
  static const uint8_t b[] = {0, 0, 0, 0, 0, 0, 0, 5, 0x12, 0x03, 0x3a, 0x01, 0x78};
  hostile_run_t r = against(1, b, sizeof b, -1, 1);
  cr_expect_eq(r.end_error, 0, "%s", cord_strerror(r.end_error));
  cr_expect_eq(r.errors, 0);
}

Test(hostile_streams, prefixes_past_max_frame, .timeout = 60) {
  static const uint8_t prefixes[][4] = {{0x7f, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xff}, {0x80, 0, 0, 0},
                                        {0, 0, 0x04, 0x01}};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    hostile_run_t r = against(1, prefixes[i], 4, -1, 0);
    cr_expect_eq(r.end_error, CORD_EFRAMESIZE, "prefix %zu: %s", i, cord_strerror(r.end_error));
  }
}

Test(hostile_streams, prefix_of_exactly_max_frame_is_taken, .timeout = 30) {
  /* A frame whose body is exactly max_frame (1024): a message with raw
   * bytes of 1019 (12 fd 07, 3a fb 07, then the bytes... 1 + 2 + 1 + 2 + 1018). */
  static uint8_t b[4 + 1024];
  b[2] = 0x04, b[3] = 0x00;
  b[4] = 0x12, b[5] = 0xfd, b[6] = 0x07;          /* message, 1021 bytes */
  b[7] = 0x3a, b[8] = 0xfa, b[9] = 0x07;          /* raw, 1018 bytes */
  memset(b + 10, 'r', 1018);
  hostile_run_t r = against(1, b, sizeof b, -1, 1);
  cr_expect_eq(r.end_error, 0, "%s", cord_strerror(r.end_error));
  cr_expect_eq(r.frames, 2u, "the Hello and the frame of max_frame bytes");
}

Test(hostile_streams, first_prefix_past_256_is_not_cord, .timeout = 30) {
  static const uint8_t b[] = {0, 0, 0x01, 0x01};
  hostile_run_t r = against(0, b, sizeof b, -1, 0);
  cr_expect_eq(r.end_error, CORD_ENOTCORD, "%s", cord_strerror(r.end_error));
}

Test(hostile_streams, end_in_the_middle_of_the_handshake, .timeout = 30) {
  hostile_run_t r = against(0, hostile_hello, 20, -1, 1);
  cr_expect_eq(r.end_error, CORD_ETRUNCATED, "%s", cord_strerror(r.end_error));
}

Test(hostile_streams, end_in_the_middle_of_a_frame, .timeout = 30) {
  static const uint8_t b[] = {0, 0, 0, 10, 0x12, 0x08, 0x3a};
  hostile_run_t r = against(1, b, sizeof b, -1, 1);
  cr_expect_eq(r.end_error, CORD_ETRUNCATED, "%s", cord_strerror(r.end_error));
}

Test(hostile_streams, end_in_the_middle_of_a_descriptor_pass, .timeout = 30) {
  /* A message announcing one descriptor, the descriptor with its first
   * byte, and the end before its last byte: nothing delivered, the
   * descriptor closed. */
  static const uint8_t b[] = {0, 0, 0, 8, 0x12, 0x06, 0x20, 0x01};
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  cr_assert_geq(fd, 0);
  hostile_run_t r = against(1, b, sizeof b, fd, 1);
  close(fd);
  cr_expect_eq(r.end_error, CORD_ETRUNCATED, "%s", cord_strerror(r.end_error));
}
