/* test_typed.c: typed payloads go from the receive buffer into a nanopb struct, and from a nanopb struct into the frame, with no copy between. */
#include <criterion/criterion.h>
#include <pb_encode.h>
#include <string.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

/* The application's type in these tests: cord.v1.Ping stands in for any
 * nanopb message of the program's own schema. */
Test(typed, decode_straight_into_a_struct, .timeout = 10) {
  static const uint8_t value[] = {0x08, 0x2a}; /* Ping { nonce: 42 } */
  static const uint8_t junk[] = {0x08};
  int p = fp_start(&ch, 1024);
  cord_v1_Ping ping = cord_v1_Ping_init_zero;
  fp_msg(p, 1, 0, 0, 5, "cord.v1.Ping", value, sizeof value);
  fp_msg(p, 2, 0, 0, 5, "cord.v1.Ping", junk, sizeof junk);
  fp_json(p, 0, "{}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.payload, CORD_PAYLOAD_TYPED);
  cr_expect_eq(m.type_name.len, 12u);
  cr_expect_arr_eq(m.type_name.ptr, "cord.v1.Ping", 12);
  cr_expect(m.data.ptr > fp_rx && m.data.ptr < fp_rx + 1024, "the value is in the receive buffer");
  cr_expect_eq(cord_chan_decode_typed(&m, "cord.v1.Ping", cord_v1_Ping_fields, &ping), 0);
  cr_expect_eq(ping.nonce, 42u);
  cr_expect_eq(cord_chan_decode_typed(&m, NULL, cord_v1_Ping_fields, &ping), 0, "NULL: any type");
  cr_expect_eq(cord_chan_decode_typed(&m, "cord.v1.Pong", cord_v1_Pong_fields, &ping), CORD_EUNSUPPORTED);
  cr_expect_eq(cord_chan_decode_typed(&m, "cord.v1.Pin", cord_v1_Pong_fields, &ping), CORD_EUNSUPPORTED);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(cord_chan_decode_typed(&m, "cord.v1.Ping", cord_v1_Ping_fields, &ping), -EBADMSG);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(cord_chan_decode_typed(&m, NULL, cord_v1_Ping_fields, &ping), CORD_EUNSUPPORTED,
               "json is not typed");
}

Test(typed, encode_straight_from_a_struct, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cord_v1_Pong pong = {.nonce = 0x1122334455ull};
  Cord__V1__Frame *f;
  Cord__V1__Pong *back;
  cr_assert_eq(cord_chan_send_typed(&ch, "cord.v1.Pong", cord_v1_Pong_fields, &pong), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_assert_eq(f->message->payload_case, CORD__V1__MESSAGE__PAYLOAD_TYPED);
  cr_expect_str_eq(f->message->typed->type, "cord.v1.Pong");
  back = cord__v1__pong__unpack(NULL, f->message->typed->value.len, f->message->typed->value.data);
  cr_assert_not_null(back);
  cr_expect_eq(back->nonce, 0x1122334455ull);
  cord__v1__pong__free_unpacked(back, NULL);
  fp_free(f);
}

Test(typed, reply_with_a_struct_and_a_type_span, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cord_v1_Error err = {.code = 77};
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_TYPED, .type_name = "cord.v1.ErrorXYZ", .type_name_len = 13,
                       .fields = cord_v1_Error_fields, .src = &err, .status = 10000};
  Cord__V1__Frame *f;
  fp_msg(p, 9, 0, 0, 0, NULL, NULL, 0);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_assert_eq(cord_chan_reply(&ch, 9, &o), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 9u);
  cr_expect_eq(f->message->status, 10000u);
  cr_expect_str_eq(f->message->typed->type, "cord.v1.Error", "type_len bounds the name");
  cr_expect_eq(f->message->typed->value.len, 2u);
  fp_free(f);
}

Test(typed, typed_bytes_and_checks, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_TYPED, .type_name = "x.Y", .data = "\x08\x01", .len = 2};
  cord_chan_out_t no_type = {.payload = CORD_PAYLOAD_TYPED, .data = "", .len = 0};
  Cord__V1__Frame *f;
  cr_expect_eq(cord_chan_send(&ch, &no_type), -EINVAL);
  cr_assert_eq(cord_chan_send(&ch, &o), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_str_eq(f->message->typed->type, "x.Y");
  cr_expect_eq(f->message->typed->value.len, 2u);
  fp_free(f);
}

/* Encodes a 300-byte detail: makes a struct too big for a 256-byte frame. */
static bool long_detail(pb_ostream_t *s, const pb_field_t *f, void *const *arg) {
  static uint8_t x[300];
  (void)arg;
  memset(x, 'x', sizeof x);
  return pb_encode_tag_for_field(s, f) && pb_encode_string(s, x, sizeof x);
}

Test(typed, struct_too_big_for_the_frame, .timeout = 10) {
  int p = fp_channel(0, NULL);
  cord_v1_Error big = {.code = 1};
  cord_v1_Error small = {.code = 2};
  Cord__V1__Frame *f;
  big.detail.funcs.encode = long_detail;
  fp_hello_ex(p, 1, 1, 256, 0);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  /* FRAME-2: over the parent's 256 bytes, refused before anything is written. */
  cr_expect_eq(cord_chan_send_typed(&ch, "cord.v1.Error", cord_v1_Error_fields, &big), CORD_ETOOBIG);
  cr_expect_eq(cord_chan_send_typed(&ch, "cord.v1.Error", cord_v1_Error_fields, &small), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->typed->value.len, 2u, "only the small one went");
  fp_free(f);
}
