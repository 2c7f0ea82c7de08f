/* test_truncated.c: end of file inside a frame is TRUNCATED, on a frame boundary it is a clean end (FRAME-12, END-4). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

static void truncated_after(size_t keep) {
  uint8_t b[64];
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Message msg = CORD__V1__MESSAGE__INIT;
  int p = fp_start(&ch, 1024);
  msg.payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
  msg.json = "{\"lost\":true}";
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &msg;
  size_t n = fp_pack(&f, b, sizeof b);
  cr_assert_lt(keep, n);
  fp_raw(p, b, keep);
  shutdown(p, SHUT_WR);
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_ETRUNCATED, "cut after %zu of %zu bytes", keep, n);
  cr_expect_eq(m.type, 0, "nothing delivered from a partial frame");
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_ETRUNCATED, "and it stays so");
  /* TRUNCATED is local: the stream it concerns has ended, no Error goes. */
  fp_expect_eof(p);
  cr_expect_eq(cord_chan_close(&ch), 76);
}

Test(truncated, inside_the_prefix, .timeout = 10) {
  truncated_after(1);
  truncated_after(3);
}

Test(truncated, inside_the_body, .timeout = 10) {
  truncated_after(4);
  truncated_after(10);
}

Test(truncated, eof_on_a_frame_boundary_is_a_clean_end, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_json(p, 0, "{\"a\":1}");
  shutdown(p, SHUT_WR);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0, "END-4: a disconnect, not an error");
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  /* The child may still send: only the parent's direction ended. */
  cr_expect_eq(cord_chan_send_json(&ch, "{\"bye\":1}", 9), 0);
  cr_expect_eq(cord_chan_close(&ch), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE));
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p);
}
