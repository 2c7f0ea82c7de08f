/* test_cancel.c: a Cancel of an unanswered request is delivered, any other Cancel is ignored (REQ-6..REQ-8). */
#include <criterion/criterion.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(cancel, unanswered_request_is_cancelled, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  cord_chan_out_t c = {.status = 1009};
  fp_msg(p, 2, 0, 0, 7, NULL, "hold", 4);
  fp_cancel(p, 2);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.id, 2u);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_CANCEL);
  cr_expect_eq(m.id, 2u);
  /* REQ-7: still exactly one reply, here CANCELLED. */
  cr_assert_eq(cord_chan_reply(&ch, 2, &c), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 2u);
  cr_expect_eq(f->message->status, 1009u);
  fp_free(f);
}

Test(cancel, answered_or_unknown_ids_are_ignored, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_msg(p, 2, 0, 0, 0, NULL, NULL, 0);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_assert_eq(cord_chan_reply(&ch, 2, NULL), 0);
  fp_cancel(p, 2);  /* crossed the reply on the wire */
  fp_cancel(p, 77); /* never received */
  fp_cancel(p, 0);
  fp_json(p, 0, "{}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE, "REQ-8: ignored, without an error");
  cr_expect_eq(cord_chan_exit_status(&ch), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE)); /* the reply, and no Error */
}
