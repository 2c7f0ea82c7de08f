/* test_nonblocking.c: cord_chan_step() for a program's own poll loop: it never waits, and says "would block" distinctly. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(nonblocking, nothing_there_is_eagain, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  struct pollfd pf = {.fd = cord_chan_fd(&ch), .events = POLLIN};
  m.type = 99;
  cr_expect_eq(cord_chan_step(&ch, &m), -EAGAIN);
  cr_expect_eq(m.type, 0, "nothing handed over");
  cr_expect_eq(fcntl(cord_chan_fd(&ch), F_GETFL) & O_NONBLOCK, 0, "the descriptor itself stays blocking");
  cr_expect_eq(poll(&pf, 1, 0), 0);
  fp_json(p, 0, "{\"n\":1}");
  cr_expect_eq(poll(&pf, 1, 0), 1, "cord_chan_fd() is the one to poll");
  cr_assert_eq(cord_chan_step(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE);
}

Test(nonblocking, a_frame_byte_by_byte, .timeout = 10) {
  uint8_t b[64];
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Message msg = CORD__V1__MESSAGE__INIT;
  int p = fp_start(&ch, 1024);
  size_t n;
  msg.id = 3;
  msg.payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
  msg.json = "{\"slow\":true}";
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &msg;
  n = fp_pack(&f, b, sizeof b);
  for (size_t i = 0; i < n; i++) {
    fp_raw(p, b + i, 1);
    int r = cord_chan_step(&ch, &m);
    if (i + 1 < n)
      cr_assert_eq(r, -EAGAIN, "byte %zu of %zu", i, n); /* FRAME-11 */
    else
      cr_assert_eq(r, 1);
  }
  cr_expect_eq(m.id, 3u);
  cr_expect_arr_eq(m.data.ptr, "{\"slow\":true}", 13);
}

Test(nonblocking, pings_are_answered_by_step, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  fp_ping(p, 11);
  cr_expect_eq(cord_chan_step(&ch, &m), -EAGAIN, "the Ping was handled inside");
  f = fp_expect(p, CORD__V1__FRAME__BODY_PONG);
  cr_expect_eq(f->pong->nonce, 11u);
  fp_free(f);
}

Test(nonblocking, end_and_nonblocking_descriptor, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  /* A program may make the descriptor non-blocking; recv still waits. */
  fcntl(cord_chan_fd(&ch), F_SETFL, O_NONBLOCK);
  fp_json(p, 0, "[1]");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  shutdown(p, SHUT_WR);
  cr_expect_eq(cord_chan_step(&ch, &m), 0, "the end, not EAGAIN");
  cr_expect_eq(cord_chan_step(&ch, &m), 0);
}

Test(nonblocking, node_lines_by_step, .timeout = 10) {
  int p = fp_channel(1, NULL);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0);
  cr_expect_eq(cord_chan_step(&ch, &m), -EAGAIN);
  fp_raw(p, "{\"a\"", 4);
  cr_expect_eq(cord_chan_step(&ch, &m), -EAGAIN);
  fp_raw(p, ":1}\n", 4);
  cr_assert_eq(cord_chan_step(&ch, &m), 1);
  cr_expect_eq(m.data.len, 7u);
}
