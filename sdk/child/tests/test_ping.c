/* test_ping.c: Pings are answered inside the SDK, in order; Pongs to the child's own Ping come back (spec section 9). */
#include <criterion/criterion.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(ping, answered_without_the_program, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  fp_ping(p, 7);
  fp_ping(p, 0xfedcba9876543210ull);
  fp_json(p, 0, "{}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE, "PING-2: the Pings were not delivered");
  f = fp_expect(p, CORD__V1__FRAME__BODY_PONG);
  cr_expect_eq(f->pong->nonce, 7u);
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_PONG);
  cr_expect_eq(f->pong->nonce, 0xfedcba9876543210ull, "in the order the Pings came");
  fp_free(f);
}

Test(ping, own_ping_and_its_pong, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  cr_assert_eq(cord_chan_ping(&ch, 42), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_PING);
  cr_expect_eq(f->ping->nonce, 42u);
  fp_free(f);
  fp_pong(p, 41); /* PING-3: matches nothing */
  fp_pong(p, 42);
  fp_pong(p, 42); /* already matched */
  fp_json(p, 0, "{}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_PONG);
  cr_expect_eq(m.id, 42u);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE, "unmatched Pongs are ignored");
}

Test(ping, not_answered_after_goodbye, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cr_assert_eq(cord_chan_goodbye(&ch), 0);
  fp_ping(p, 9);
  fp_goodbye(p);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p); /* END-1: nothing after the Goodbye, not even a Pong */
}

Test(ping, unanswered_when_the_parent_ends, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cr_assert_eq(cord_chan_ping(&ch, 5), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_PING));
  fp_goodbye(p);
  /* PING-7: the Pong cannot come now; the Ping is reported CLOSED, once. */
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_PONG);
  cr_expect_eq(m.id, 5u);
  cr_expect_eq(m.status, 1011u);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  cr_expect_eq(m.status, 0u);
}
