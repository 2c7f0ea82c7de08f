/* test_request_reply.c: requests in both directions, exactly one reply each, unknown replies discarded (spec section 6). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(request_reply, parent_request_gets_one_reply, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  cord_chan_out_t ok = {.payload = CORD_PAYLOAD_RAW, .data = "ok", .len = 2};
  fp_msg(p, 7, 0, 0, 6, NULL, "{\"job\":1}", 9);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE);
  cr_expect_eq(m.id, 7u);
  cr_expect_eq(m.reply_to, 0u);
  cr_expect_eq(m.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(m.data.len, 9u);
  cr_expect_arr_eq(m.data.ptr, "{\"job\":1}", 9);
  cr_expect(m.data.ptr > fp_rx && m.data.ptr < fp_rx + 1024, "handed over in place, not copied");
  cr_assert_eq(cord_chan_reply(&ch, 7, &ok), 0);
  cr_expect_eq(cord_chan_reply(&ch, 7, &ok), CORD_ESTATE, "REQ-2: exactly one reply");
  cr_expect_eq(cord_chan_reply(&ch, 8, &ok), CORD_ESTATE, "a request never received");
  cr_expect_eq(cord_chan_reply(&ch, 0, &ok), CORD_ESTATE);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 7u);
  cr_expect_eq(f->message->id, 0u);
  cr_expect_eq(f->message->status, 0u);
  cr_expect_eq(f->message->payload_case, CORD__V1__MESSAGE__PAYLOAD_RAW);
  cr_expect_eq(f->message->raw.len, 2u);
  fp_free(f);
}

Test(request_reply, reply_status_codes, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  cord_chan_out_t bad = {.status = 5};
  for (int id = 1; id <= 3; id++)
    fp_msg(p, (uint64_t)id, 0, 0, 0, NULL, NULL, 0);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  /* ERR-2: no POSIX, SDK or reserved code goes on the wire. */
  cr_expect_eq(cord_chan_reply(&ch, 1, &bad), -EINVAL);
  bad.status = 2003;
  cr_expect_eq(cord_chan_reply(&ch, 1, &bad), -EINVAL);
  bad.status = 9999;
  cr_expect_eq(cord_chan_reply(&ch, 1, &bad), -EINVAL);
  bad.status = 1012;
  cr_expect_eq(cord_chan_reply(&ch, 1, &bad), 0);
  bad.status = 10001;
  cr_expect_eq(cord_chan_reply(&ch, 2, &bad), 0);
  cr_expect_eq(cord_chan_reply(&ch, 3, NULL), 0, "NULL: an empty success");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->status, 1012u);
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->status, 10001u);
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->status, 0u);
  cr_expect_eq(f->message->reply_to, 3u);
  cr_expect_eq(f->message->payload_case, CORD__V1__MESSAGE__PAYLOAD__NOT_SET);
  fp_free(f);
}

Test(request_reply, child_requests_are_numbered_and_matched, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  cord_chan_out_t q = {.payload = CORD_PAYLOAD_JSON, .data = "{\"q\":1}", .len = 7};
  uint64_t id1 = 0, id2 = 0;
  cr_assert_eq(cord_chan_request(&ch, &q, &id1), 0);
  cr_assert_eq(cord_chan_request(&ch, &q, &id2), 0);
  cr_expect_eq(id1, 1u, "REQ-1: 1, 2, 3 ...");
  cr_expect_eq(id2, 2u);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->id, 1u);
  fp_free(f);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE));
  /* Replies in any order [REQ-3]. */
  fp_msg(p, 0, 2, 10007, 7, NULL, "two", 3);
  fp_msg(p, 0, 1, 0, 7, NULL, "one", 3);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, 2u);
  cr_expect_eq(m.status, 10007u);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, 1u);
  cr_expect_arr_eq(m.data.ptr, "one", 3);
  /* A third request gets 3: ids are never reused. */
  cr_assert_eq(cord_chan_request(&ch, &q, &id1), 0);
  cr_expect_eq(id1, 3u);
}

Test(request_reply, unknown_reply_is_discarded_and_reported, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  cord_chan_out_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
  cr_assert_eq(cord_chan_request(&ch, &q, NULL), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE));
  fp_msg(p, 0, 99, 0, 7, NULL, "stray", 5); /* never sent */
  fp_msg(p, 0, 1, 0, 7, NULL, "real", 4);
  fp_msg(p, 0, 1, 0, 7, NULL, "again", 5); /* already answered */
  fp_json(p, 0, "{\"after\":1}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, 1u, "REQ-5: the unknown reply was not delivered");
  cr_expect_arr_eq(m.data.ptr, "real", 4);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, 0u, "the duplicate was not delivered either");
  cr_expect_arr_eq(m.data.ptr, "{\"after\":1}", 11);
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1007u);
  cr_expect_str_eq(f->error->detail, "unknown request 99", "the detail names the id");
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_str_eq(f->error->detail, "unknown request 1");
  fp_free(f);
  cr_expect_eq(cord_chan_exit_status(&ch), 0, "not fatal");
}

Test(request_reply, own_request_table_is_bounded, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cord_chan_out_t q = {0};
  for (int i = 0; i < CORD_CHILD_OUT_REQS; i++)
    cr_assert_eq(cord_chan_request(&ch, &q, NULL), 0);
  cr_expect_eq(cord_chan_request(&ch, &q, NULL), -ENOBUFS);
  (void)p;
}

Test(request_reply, too_many_parent_requests_are_answered_failed, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  for (int id = 1; id <= CORD_CHILD_IN_REQS + 1; id++)
    fp_msg(p, (uint64_t)id, 0, 0, 7, NULL, "x", 1);
  fp_json(p, 0, "{}");
  for (int id = 1; id <= CORD_CHILD_IN_REQS; id++) {
    cr_assert_eq(cord_chan_recv(&ch, &m), 1);
    cr_expect_eq(m.id, (uint64_t)id);
  }
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.id, 0u, "the request beyond the table was not delivered");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, (uint64_t)CORD_CHILD_IN_REQS + 1);
  cr_expect_eq(f->message->status, 1012u, "answered FAILED, exactly once");
  fp_free(f);
  cr_expect_eq(cord_chan_reply(&ch, CORD_CHILD_IN_REQS + 1, NULL), CORD_ESTATE);
}

Test(request_reply, duplicate_unanswered_id_is_fatal, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  Cord__V1__Frame *f;
  fp_msg(p, 4, 0, 0, 0, NULL, NULL, 0);
  fp_msg(p, 4, 0, 0, 0, NULL, NULL, 0);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_EPROTOCOL, "REQ-4");
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1000u);
  fp_free(f);
}

Test(request_reply, answered_id_may_come_again, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_msg(p, 4, 0, 0, 0, NULL, NULL, 0);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_assert_eq(cord_chan_reply(&ch, 4, NULL), 0);
  fp_msg(p, 4, 0, 0, 0, NULL, NULL, 0);
  cr_expect_eq(cord_chan_recv(&ch, &m), 1, "REQ-4 is about unanswered ids only");
}

Test(request_reply, outstanding_requests_are_closed_at_the_end, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cord_chan_out_t q = {0};
  uint64_t a, b;
  cr_assert_eq(cord_chan_request(&ch, &q, &a), 0);
  cr_assert_eq(cord_chan_request(&ch, &q, &b), 0);
  fp_msg(p, 0, a, 0, 0, NULL, NULL, 0);
  fp_goodbye(p);
  shutdown(p, SHUT_WR);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, a);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_CLOSED, "REQ-9");
  cr_expect_eq(m.reply_to, b);
  cr_expect_eq(m.status, 1011u);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0, "exactly once, then the end");
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
}

Test(request_reply, requests_after_a_failure_are_closed_too, .timeout = 10) {
  static const uint8_t junk[] = {0, 0, 0, 1, 0xff};
  int p = fp_start(&ch, 1024);
  cord_chan_out_t q = {0};
  cr_assert_eq(cord_chan_request(&ch, &q, NULL), 0);
  fp_raw(p, junk, sizeof junk);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_CLOSED, "END-11: fails its outstanding requests with CLOSED");
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_EPROTOCOL);
}
