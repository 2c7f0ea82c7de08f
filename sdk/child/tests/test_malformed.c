/* test_malformed.c: every malformed or out-of-place frame the spec names gets the spec's answer. */
#include <criterion/criterion.h>
#include <string.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

/* Expects the channel to fail with code and an Error frame saying so. */
static void fails(int p, int code) {
  Cord__V1__Frame *f;
  cr_assert_eq(cord_chan_recv(&ch, &m), code);
  cr_expect_eq(m.type, 0, "nothing delivered");
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, (uint32_t)-code);
  fp_free(f);
  fp_expect_eof(p);
  cr_expect_eq(cord_chan_close(&ch), 76);
}

Test(malformed, bad_protobuf, .timeout = 10) {
  static const uint8_t b[] = {0, 0, 0, 4, 0x12, 0x05, 0x08, 0x01}; /* a Message running past the end */
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  fails(p, CORD_EPROTOCOL); /* FRAME-6 */
}

Test(malformed, bad_wire_type, .timeout = 10) {
  static const uint8_t b[] = {0, 0, 0, 2, 0x13, 0x00}; /* field 2 with wire type 3 */
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  fails(p, CORD_EPROTOCOL);
}

Test(malformed, id_and_reply_to, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_msg(p, 3, 4, 0, 6, NULL, "{}", 2);
  fails(p, CORD_EPROTOCOL); /* MSG-5 */
}

Test(malformed, status_without_reply_to, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_msg(p, 3, 0, 1012, 6, NULL, "{}", 2);
  fails(p, CORD_EPROTOCOL); /* MSG-5 */
}

Test(malformed, unknown_frame_kind_is_skipped, .timeout = 10) {
  /* Field 9 of Frame (a future body) and an empty body: both discarded [FRAME-8]. */
  static const uint8_t b[] = {0, 0, 0, 4, 0x4a, 0x02, 0x08, 0x01, 0, 0, 0, 0};
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  fp_json(p, 0, "{\"next\":1}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE);
  cr_expect_eq(m.data.len, 10u, "the channel goes on with the next frame");
}

Test(malformed, unknown_fields_inside_a_message, .timeout = 10) {
  /* message { id: 5, field 12: "zz", json: "{}" } [FRAME-9] */
  static const uint8_t b[] = {0, 0, 0, 12, 0x12, 10, 0x08, 5, 0x62, 2, 'z', 'z', 0x32, 2, '{', '}'};
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.id, 5u);
  cr_expect_eq(m.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(m.data.len, 2u);
}

Test(malformed, second_body_member_is_fatal, .timeout = 10) {
  /* FRAME-14: a ping, then a message, in one body: no reader may choose. */
  static const uint8_t b[] = {0, 0, 0, 12, 0x22, 0x02, 0x08, 0x07, 0x12, 6, 0x32, 1, 'j', 0x3a, 1, 'r'};
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  fails(p, CORD_EPROTOCOL);
}

Test(malformed, same_body_member_twice_is_fatal, .timeout = 10) {
  /* FRAME-14: message { id: 54 } message { reply_to: 1 }: protobuf-c would
   * keep the second, nanopb and protoc merge the two. */
  static const uint8_t b[] = {0, 0, 0, 8, 0x12, 0x02, 0x08, 54, 0x12, 0x02, 0x10, 1};
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  fails(p, CORD_EPROTOCOL);
}

Test(malformed, second_payload_member_is_fatal, .timeout = 10) {
  /* FRAME-14: typed { type: "t" } then json "j" in one message. */
  static const uint8_t b[] = {0, 0, 0, 10, 0x12, 8, 0x2a, 3, 0x0a, 1, 't', 0x32, 1, 'j'};
  int p = fp_start(&ch, 1024);
  fp_raw(p, b, sizeof b);
  fails(p, CORD_EPROTOCOL);
}

Test(malformed, enum_and_tag_ranges, .timeout = 10) {
  /* FRAME-14: Goodbye.reason is an int32, so -1 (sign-extended, 10 bytes)
   * is a reason and 2415919103 is not. */
  static const uint8_t minus_one[] = {0, 0, 0, 13, 0x32, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0x01};
  int p = fp_start(&ch, 1024);
  fp_raw(p, minus_one, sizeof minus_one);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0, "a Goodbye: the parent's direction ended cleanly");
  cord_chan_close(&ch);
  static const uint8_t too_big[] = {0, 0, 0, 8, 0x32, 0x06, 0x08, 0xff, 0xff, 0xff, 0xff, 0x08};
  p = fp_start(&ch, 1024);
  fp_raw(p, too_big, sizeof too_big);
  fails(p, CORD_EPROTOCOL);
}

Test(malformed, second_hello, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_hello(p);
  fails(p, CORD_EUNEXPECTED); /* HELLO-10 */
}

Test(malformed, message_before_hello, .timeout = 10) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  fp_json(p, 0, "{\"early\":1}");
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_EUNEXPECTED); /* HELLO-6 */
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1005u);
  fp_free(f);
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_EUNEXPECTED, "never delivered");
  cr_expect_eq(cord_chan_close(&ch), 76);
}

Test(malformed, empty_body_before_hello, .timeout = 10) {
  static const uint8_t b[] = {0, 0, 0, 0};
  int p = fp_channel(0, NULL);
  fp_raw(p, b, sizeof b);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_EUNEXPECTED); /* HELLO-6, an empty one included */
}

Test(malformed, ping_before_hello, .timeout = 10) {
  int p = fp_channel(0, NULL);
  fp_ping(p, 1);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_EUNEXPECTED);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_ERROR)); /* and no Pong */
  fp_expect_eof(p);
}

Test(malformed, frame_after_goodbye, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  fp_goodbye(p);
  fp_json(p, 0, "{\"late\":1}");
  fails(p, CORD_EUNEXPECTED); /* END-2 */
}
