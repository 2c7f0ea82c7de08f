/* test_goodbye_eof.c: how a channel ends: Goodbye either way, end of file, a closed peer, Error frames (spec section 10). */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(goodbye_eof, parent_goodbye_then_child_finishes, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  fp_msg(p, 5, 0, 0, 7, NULL, "work", 4);
  fp_goodbye(p);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0, "the parent's direction ended");
  /* REQ-11, PING-5: nothing could answer a request or a Ping now. */
  cr_expect_eq(cord_chan_request(&ch, NULL, NULL), CORD_ECLOSED);
  cr_expect_eq(cord_chan_ping(&ch, 9), CORD_ECLOSED);
  /* END-3: replies may still go, then the Goodbye. Nothing hangs although
   * the parent keeps its end open. */
  cr_expect_eq(cord_chan_reply(&ch, 5, NULL), 0);
  cr_expect_eq(cord_chan_close(&ch), 0, "END-8: status 0");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 5u);
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE);
  cr_expect_eq(f->goodbye->reason, CORD__V1__GOODBYE__REASON__REASON_DONE);
  fp_free(f);
  fp_expect_eof(p);
  cr_expect_eq(cord_chan_close(&ch), 0, "closing twice is harmless");
}

Test(goodbye_eof, child_goodbye_first, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cord_chan_out_t q = {0};
  uint64_t id;
  cr_assert_eq(cord_chan_request(&ch, &q, &id), 0);
  cr_assert_eq(cord_chan_goodbye(&ch), 0);
  cr_expect_eq(cord_chan_send_json(&ch, "{}", 2), CORD_ECLOSED, "END-1: nothing after Goodbye");
  cr_expect_eq(cord_chan_goodbye(&ch), CORD_ECLOSED);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE));
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p); /* and the writing direction is shut down */
  /* END-1: the child keeps reading; the reply to its request still comes. */
  fp_msg(p, 0, id, 0, 7, NULL, "late", 4);
  fp_goodbye(p);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, id);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  cr_expect_eq(cord_chan_close(&ch), 0);
}

Test(goodbye_eof, eof_without_goodbye, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  close(p);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0, "END-4");
  cr_expect_eq(cord_chan_close(&ch), 0);
}

Test(goodbye_eof, closed_parent_is_epipe_not_sigpipe, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  static uint8_t big[100000];
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = big, .len = 1000};
  signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill this test */
  close(p);
  int r = cord_chan_send(&ch, &o);
  cr_expect(r == -EPIPE || r == -ECONNRESET, "END-6: %d", r);
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ECLOSED, "the direction is over");
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  cr_expect_eq(cord_chan_close(&ch), 0);
}

Test(goodbye_eof, fatal_error_frame_from_the_parent, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_error(p, 1008, "you were too slow");
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_ETIMEOUT, "END-11");
  cr_expect_str_eq(cord_chan_detail(&ch), "you were too slow");
  cr_expect_eq(cord_chan_send_json(&ch, "{}", 2), CORD_ECLOSED);
  fp_expect_eof(p); /* no Error goes back about an Error */
  cr_expect_eq(cord_chan_close(&ch), 76);
}

Test(goodbye_eof, non_fatal_error_frames_are_reports, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_error(p, 1010, "no such type");
  fp_error(p, 1999, "");   /* ERR-2: an unknown protocol code is not fatal */
  fp_error(p, 12345, "app");
  fp_json(p, 0, "{}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_ERROR);
  cr_expect_eq(m.status, 1010u);
  cr_expect_arr_eq(m.data.ptr, "no such type", 12);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.status, 1999u);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.status, 12345u);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE, "ERR-3: they change nothing");
  cr_expect_eq(cord_chan_close(&ch), 0);
}
