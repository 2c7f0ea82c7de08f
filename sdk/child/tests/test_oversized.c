/* test_oversized.c: a length over max_frame is refused from its prefix alone, without a read for the body (FRAME-5). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

/* After the handshake, sends a prefix of len, alone or with some body
 * bytes; expects FRAME_TOO_LARGE and its Error frame. The length is judged
 * from the prefix alone: with nothing behind it the child fails at once
 * rather than wait for a body, and with body bytes behind it those that
 * came in the same read are dropped and the channel is read no more: the
 * parent's next write finds it shut. */
static void oversized_ex(uint32_t len, const char *detail, size_t body) {
  uint8_t b[4 + 64];
  Cord__V1__Frame *f;
  int p = fp_start(&ch, 1024);
  b[0] = (uint8_t)(len >> 24);
  b[1] = (uint8_t)(len >> 16);
  b[2] = (uint8_t)(len >> 8);
  b[3] = (uint8_t)len;
  memset(b + 4, 0x55, 64);
  fp_raw(p, b, 4 + body);
  cr_assert_eq(cord_chan_recv(&ch, &m), CORD_EFRAMESIZE);
  cr_expect_str_eq(cord_chan_detail(&ch), detail);
  cr_expect_eq(m.type, CORD_CHAN_EV_NONE, "nothing of the frame is delivered");
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1001u);
  cr_expect_str_eq(f->error->detail, detail, "FRAME-5: the detail gives L and the limit");
  fp_free(f);
  fp_expect_eof(p);
  cr_expect_eq(send(p, b, 1, MSG_NOSIGNAL), -1, "the child reads nothing more");
  cr_expect_eq(cord_chan_close(&ch), 76);
}

static void oversized(uint32_t len, const char *detail) {
  oversized_ex(len, detail, 0);
  oversized_ex(len, detail, 64);
}

Test(oversized, one_over_the_limit, .timeout = 10) {
  oversized(1025, "frame of 1025 bytes exceeds max_frame 1024");
}

Test(oversized, spec_example, .timeout = 10) {
  oversized(1048576, "frame of 1048576 bytes exceeds max_frame 1024");
}

Test(oversized, top_bit_length, .timeout = 10) {
  /* FRAME-3: never valid, and larger than any max_frame. */
  oversized(0x80000000u, "frame of 2147483648 bytes exceeds max_frame 1024");
  oversized(0xffffffffu, "frame of 4294967295 bytes exceeds max_frame 1024");
}

Test(oversized, exactly_the_limit_is_fine, .timeout = 10) {
  static uint8_t raw[1024];
  int p = fp_start(&ch, 1024);
  /* A raw message whose frame body is exactly 1024 bytes: 1 + 2 + (1 + 2 + 1018). */
  memset(raw, 7, sizeof raw);
  fp_msg(p, 0, 0, 0, 7, NULL, raw, 1018);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.data.len, 1018u);
  cr_expect(m.data.ptr >= fp_rx && m.data.ptr + m.data.len <= fp_rx + 1024, "in place, in bounds");
}
