/* test_hostile.c: a hostile child cannot exhaust or stall the parent: each attack found against it, bounded in memory, time per step and descriptors. */
#include <fcntl.h>
#include <limits.h>

#include "hostile.h"

/* The bound of spec SEC-2 made a number: what one channel may hold. */
#define BOUND(max_frame) (2 * (size_t)(max_frame) + ((size_t)1 << 20))

/* ---- decode amplification: a frame of repeated empty members ------------------------- */

static void repeated_members(int fd, void *arg) {
  size_t len = *(size_t *)arg;
  static uint8_t chunk[1 << 16];
  uint8_t prefix[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  for (size_t i = 0; i < sizeof chunk; i += 2)
    chunk[i] = 0x12, chunk[i + 1] = 0x00; /* message {} again and again */
  put_all(fd, hostile_hello, sizeof hostile_hello);
  put_all(fd, prefix, 4);
  for (size_t sent = 0; sent < len; sent += sizeof chunk)
    put_all(fd, chunk, len - sent < sizeof chunk ? len - sent : sizeof chunk);
}

Test(hostile, decode_amplification, .timeout = 120) {
  /* 64 MiB, the default max_frame: decoding it once cost 4 GB. */
  size_t len = (size_t)64 << 20;
  hostile_memory(BOUND(len));
  cord_proc_t c;
  cord_options_t o = hostile_options();
  pid_t peer = hostile_pair(&c, &o, repeated_members, &len);
  hostile_run_t r = hostile_run(&c);
  cr_expect_eq(r.end_error, CORD_EPROTOCOL, "a body with a second member is fatal (FRAME-14): %s",
               cord_strerror(r.end_error));
  cr_log_info("decode amplification: peak %zu bytes for a %zu-byte frame (bound %zu), longest step %.3f s", h_peak,
              len, BOUND(len), r.longest_step);
  cr_expect_leq(h_peak, BOUND(len));
  cord_proc_close(&c);
  hostile_reap(peer);
  cr_expect_eq(h_live, 0u);
}

/* ---- work per step: frames that make no event --------------------------------------- */

static void eventless_flood(int fd, void *arg) {
  (void)arg;
  static uint8_t burst[4096 * 6];
  /* Pings, empty frames, replies to requests never made, Cancels of
   * nothing: none of them is an event. */
  static const uint8_t kinds[][8] = {{0, 0, 0, 4, 0x22, 0x02, 0x08, 0x07},
                                     {0, 0, 0, 0},
                                     {0, 0, 0, 4, 0x12, 0x02, 0x10, 0x63},
                                     {0, 0, 0, 4, 0x1a, 0x02, 0x08, 0x63}};
  static const size_t sizes[] = {8, 4, 8, 8};
  size_t n = 0;
  for (size_t i = 0; n + 8 <= sizeof burst; i++) {
    memcpy(burst + n, kinds[i % 4], sizes[i % 4]);
    n += sizes[i % 4];
  }
  put_all(fd, hostile_hello, sizeof hostile_hello);
  for (int i = 0; i < 400; i++) /* about 3 million frames, never reading */
    put_all(fd, burst, n);
}

Test(hostile, work_per_step, .timeout = 300) {
  hostile_memory(BOUND(1 << 20));
  cord_proc_t c;
  cord_options_t o = hostile_options();
  o.max_frame = 1 << 20;
  o.queue_limit = 1 << 16;
  pid_t peer = hostile_pair(&c, &o, eventless_flood, NULL);
  hostile_run_t r = hostile_run(&c);
  cr_log_info("event-less flood: %u frames, at most %u in one step, longest step %.4f s, peak %zu bytes", r.frames,
              r.most_frames, r.longest_step, h_peak);
  cr_expect_gt(r.frames, 100000u);
  cr_expect_leq(r.most_frames, 64u + 1, "one step took %u frames", r.most_frames);
  /* Pongs to a peer that does not read wait in a bounded queue, the rest
   * coalesced (PING-6); replies to nothing are reported, not queued. */
  cr_expect_leq(h_peak, BOUND(1 << 20));
  cord_proc_close(&c);
  hostile_reap(peer);
  cr_expect_eq(h_live, 0u);
}

/* ---- descriptors: many, inside one unfinished frame -------------------------------- */

static void fd_flood(int fd, void *arg) {
  (void)arg;
  int fds[64];
  for (int i = 0; i < 64; i++)
    fds[i] = 0;
  put_all(fd, hostile_hello, sizeof hostile_hello);
  const uint8_t prefix[4] = {0, 0, 0, 100};
  put_all(fd, prefix, 4);
  for (int i = 0; i < 100; i++) {
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof fds)];
    } cm;
    uint8_t byte = 0x12;
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(h), fds, sizeof fds);
    if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
      _exit(0);
  }
}

Test(hostile, descriptor_flood, .timeout = 60) {
  int before = count_fds();
  cord_proc_t c;
  cord_options_t o = hostile_options();
  pid_t peer = hostile_pair(&c, &o, fd_flood, NULL);
  hostile_run_t r = hostile_run(&c);
  cr_expect_eq(r.end_error, CORD_EFDMISMATCH, "%s", cord_strerror(r.end_error));
  cord_proc_close(&c);
  hostile_reap(peer);
  cr_expect_eq(count_fds(), before, "every descriptor received was closed");
}

/* ---- codes past every range ------------------------------------------------------------ */

static void big_codes(int fd, void *arg) {
  (void)arg;
  /* error { code: 4294967295 }, { code: 2147483648 }, { code: 4294966296 },
   * then a message to show the channel goes on, then end of file. */
  static const uint8_t frames[] = {
      0, 0, 0, 8,  0x3a, 0x06, 0x08, 0xff, 0xff, 0xff, 0xff, 0x0f,
      0, 0, 0, 8,  0x3a, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x08,
      0, 0, 0, 8,  0x3a, 0x06, 0x08, 0x98, 0xf8, 0xff, 0xff, 0x0f,
      0, 0, 0, 5,  0x12, 0x03, 0x3a, 0x01, 0x78};
  put_all(fd, hostile_hello, sizeof hostile_hello);
  put_all(fd, frames, sizeof frames);
  shutdown(fd, SHUT_WR);
  drain_until_closed(fd);
}

Test(hostile, error_codes_past_every_range, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = hostile_options();
  pid_t peer = hostile_pair(&c, &o, big_codes, NULL);
  static const uint32_t codes[] = {4294967295u, 2147483648u, 4294966296u};
  for (int i = 0; i < 3; i++) {
    wait_for(&c, &ev, CORD_EV_ERROR);
    cr_expect_eq(ev.status, codes[i]);
    cr_expect_eq(ev.error, INT_MIN, "a code past INT_MAX has no negative int");
    cr_expect(!cord_err_is_fatal(ev.error));
    cr_expect_str_eq(cord_strerror(ev.error), "error code outside every range");
  }
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.len, 1u, "the channel went on (ERR-2)");
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0);
  cord_proc_close(&c);
  hostile_reap(peer);
}

/* ---- a length announced, a little sent ------------------------------------------------- */

static void announce_and_stall(int fd, void *arg) {
  (void)arg;
  /* One write: the Hello, a prefix of just under 64 MiB, and 2 bytes of
   * the body, which the parent reads together. */
  uint8_t b[sizeof hostile_hello + 6];
  memcpy(b, hostile_hello, sizeof hostile_hello);
  memcpy(b + sizeof hostile_hello, "\x03\xff\xff\xff\x12\x00", 6);
  put_all(fd, b, sizeof b);
  drain_until_closed(fd);
}

Test(hostile, announced_length_reserves_nothing, .timeout = 30) {
  hostile_memory(BOUND(64 << 20));
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = hostile_options();
  pid_t peer = hostile_pair(&c, &o, announce_and_stall, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  /* READY came from the read that also brought the stalled frame's first
   * bytes; one more step looks at them. */
  int r = cord_step(&c, &ev);
  cr_expect_eq(r, -EAGAIN, "step: %d, %s %s", r, r == 1 ? cord_event_name(ev.type) : cord_strerror(r),
               r == 1 && ev.detail ? ev.detail : "");
  cr_log_info("a stalled 64 MiB frame: %zu bytes held", h_peak);
  cr_expect_lt(h_peak, (size_t)64 << 10, "%zu bytes held for 6 bytes received", h_peak);
  cord_proc_close(&c);
  hostile_reap(peer);
}

/* ---- JSON with a NUL inside ------------------------------------------------------------- */

static void json_with_nul(int fd, void *arg) {
  (void)arg;
  static const uint8_t frame[] = {0, 0, 0, 7, 0x12, 0x05, 0x32, 0x03, 'a', 0x00, 'b'};
  put_all(fd, hostile_hello, sizeof hostile_hello);
  put_all(fd, frame, sizeof frame);
  drain_until_closed(fd);
}

Test(hostile, json_payload_keeps_its_length, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = hostile_options();
  pid_t peer = hostile_pair(&c, &o, json_with_nul, NULL);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(ev.len, 3u, "the payload is the bytes on the wire, not up to a NUL");
  cr_expect_arr_eq(ev.data, "a\0b", 3);
  cord_proc_close(&c);
  hostile_reap(peer);
}
