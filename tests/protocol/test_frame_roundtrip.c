/* test_frame_roundtrip.c: every frame kind goes protobuf-c -> nanopb -> protobuf-c and comes back byte-identical. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cord.pb-c.h"
#include "cord_child_codec.h"

/* Packs a protobuf-c Frame with its 4-byte big-endian prefix into a new buffer. */
static uint8_t *pack_frame(const Cord__V1__Frame *f, size_t *len) {
  size_t n = cord__v1__frame__get_packed_size(f);
  uint8_t *b = malloc(n + 4);
  cr_assert_not_null(b);
  b[0] = (uint8_t)(n >> 24);
  b[1] = (uint8_t)(n >> 16);
  b[2] = (uint8_t)(n >> 8);
  b[3] = (uint8_t)n;
  cr_assert_eq(cord__v1__frame__pack(f, b + 4), n);
  *len = n + 4;
  return b;
}

/* Sends the frame through the whole loop and checks every stage. */
static void roundtrip(const Cord__V1__Frame *f, const char *what) {
  size_t len, len2;
  uint8_t *wire = pack_frame(f, &len);
  cord__frame_t nf;
  uint8_t *again = malloc(len + 16);
  Cord__V1__Frame *back;

  cr_assert(cord__frame_decode(&nf, wire + 4, len - 4), "%s: nanopb could not decode", what);
  cr_assert_eq(nf.body, (uint8_t)f->body_case, "%s: nanopb saw body %u, want %u", what, nf.body,
               f->body_case);
  len2 = cord__frame_encode(&nf, again, len + 16);
  cr_assert_eq(len2, len, "%s: nanopb re-encoded %zu bytes, want %zu", what, len2, len);
  cr_assert_arr_eq(again, wire, len, "%s: nanopb re-encoding differs", what);

  back = cord__v1__frame__unpack(NULL, len2 - 4, again + 4);
  cr_assert_not_null(back, "%s: protobuf-c could not decode nanopb's bytes", what);
  free(again);
  again = pack_frame(back, &len2);
  cr_assert_eq(len2, len, "%s", what);
  cr_assert_arr_eq(again, wire, len, "%s: protobuf-c re-encoding differs", what);
  cord__v1__frame__free_unpacked(back, NULL);
  free(again);
  free(wire);
}

Test(frame_roundtrip, hello) {
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  h.magic = 0x44524F43;
  h.min_version = 1;
  h.max_version = 3;
  h.max_frame = 1u << 26;
  h.max_fds = 16;
  h.capabilities = CORD__V1__CAPABILITY__CAPABILITY_CANCEL | (1ull << 40);
  h.pid = 123456;
  h.impl_name = "cord-roundtrip";
  h.impl_version = "9.8.7";
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  roundtrip(&f, "hello");

  cord__frame_t nf;
  size_t len;
  uint8_t *wire = pack_frame(&f, &len);
  cr_assert(cord__frame_decode(&nf, wire + 4, len - 4));
  cr_expect_eq(nf.f.body.hello.magic, 0x44524F43u);
  cr_expect_eq(nf.f.body.hello.max_version, 3u);
  cr_expect_eq(nf.f.body.hello.max_frame, 1u << 26);
  cr_expect_eq(nf.f.body.hello.capabilities, 1ull | (1ull << 40));
  cr_expect_eq(nf.f.body.hello.pid, 123456u);
  cr_expect_eq(nf.s[0].len, strlen("cord-roundtrip"));
  cr_expect_arr_eq(nf.s[0].ptr, "cord-roundtrip", nf.s[0].len);
  cr_expect_arr_eq(nf.s[1].ptr, "9.8.7", 5);
  /* Zero copy: the span lies inside the wire buffer itself. */
  cr_expect(nf.s[0].ptr > wire && nf.s[0].ptr < wire + len);
  free(wire);
}

static void message_case(Cord__V1__Message *m, const char *what) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = m;
  roundtrip(&f, what);
}

Test(frame_roundtrip, message_json) {
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
  m.json = "{\"a\":[1,2,{\"b\":null}],\"s\":\"\u2028\"}";
  message_case(&m, "message json");
}

Test(frame_roundtrip, message_raw_request) {
  static uint8_t bytes[300];
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (uint8_t)(i * 7);
  m.id = UINT64_MAX;
  m.fds = 3;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
  m.raw.data = bytes;
  m.raw.len = sizeof bytes;
  message_case(&m, "message raw request");
}

Test(frame_roundtrip, message_typed_reply) {
  static uint8_t value[] = {0x08, 0x2a, 0x12, 0x03, 'a', 'b', 'c'};
  Cord__V1__Typed t = CORD__V1__TYPED__INIT;
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  t.type = "example.v1.Result";
  t.value.data = value;
  t.value.len = sizeof value;
  m.reply_to = 77;
  m.status = 10001;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_TYPED;
  m.typed = &t;
  message_case(&m, "message typed reply");

  /* The typed value is handed over in place, ready for the app's decoder. */
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  cord__frame_t nf;
  size_t len;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &m;
  uint8_t *wire = pack_frame(&f, &len);
  cr_assert(cord__frame_decode(&nf, wire + 4, len - 4));
  cr_expect_eq(nf.kind, cord_v1_Message_typed_tag);
  cr_expect_eq(nf.s[0].len, strlen("example.v1.Result"));
  cr_expect_eq(nf.s[1].len, sizeof value);
  cr_expect_arr_eq(nf.s[1].ptr, value, sizeof value);
  cr_expect_eq(nf.f.body.message.reply_to, 77u);
  cr_expect_eq(nf.f.body.message.status, 10001u);
  free(wire);
}

Test(frame_roundtrip, message_empty) {
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  message_case(&m, "message empty");
}

Test(frame_roundtrip, cancel_ping_pong) {
  Cord__V1__Cancel c = CORD__V1__CANCEL__INIT;
  Cord__V1__Ping p = CORD__V1__PING__INIT;
  Cord__V1__Pong q = CORD__V1__PONG__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  c.id = 1ull << 63;
  f.body_case = CORD__V1__FRAME__BODY_CANCEL;
  f.cancel = &c;
  roundtrip(&f, "cancel");
  p.nonce = 0x0123456789abcdefull;
  f.body_case = CORD__V1__FRAME__BODY_PING;
  f.ping = &p;
  roundtrip(&f, "ping");
  q.nonce = 0;
  f.body_case = CORD__V1__FRAME__BODY_PONG;
  f.pong = &q;
  roundtrip(&f, "pong");
}

Test(frame_roundtrip, goodbye_error) {
  Cord__V1__Goodbye g = CORD__V1__GOODBYE__INIT;
  Cord__V1__Error e = CORD__V1__ERROR__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  g.reason = CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN;
  g.detail = "stopping";
  f.body_case = CORD__V1__FRAME__BODY_GOODBYE;
  f.goodbye = &g;
  roundtrip(&f, "goodbye");
  e.code = 1003;
  e.detail = "48 65 6c 6c |Hell|";
  f.body_case = CORD__V1__FRAME__BODY_ERROR;
  f.error = &e;
  roundtrip(&f, "error");
}

Test(frame_roundtrip, nanopb_rejects_garbage) {
  static const uint8_t bad[][6] = {
      {0x12, 0x05, 0x08, 0x01, 0x00, 0x00}, /* a message whose length runs past the end */
      {0x0f, 0x00, 0x00, 0x00, 0x00, 0x00}, /* wire type 7 does not exist */
      {0x22, 0x02, 0x08, 0x80, 0x80, 0x80}, /* a varint cut short */
      /* json (a string field) sent as a varint: nanopb hands the callback a
       * copy on its own stack, which must not become a span */
      {0x12, 0x04, 0x08, 0x01, 0x30, 0x05},
  };
  cord__frame_t nf;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_expect_not(cord__frame_decode(&nf, bad[i], sizeof bad[i]), "garbage %zu decoded", i);
    cr_expect_null(cord__v1__frame__unpack(NULL, sizeof bad[i], bad[i]), "protobuf-c took %zu", i);
  }
}

Test(frame_roundtrip, encode_refuses_small_buffer) {
  cord__frame_t nf;
  uint8_t buf[8];
  memset(&nf, 0, sizeof nf);
  nf.f.which_body = cord_v1_Frame_error_tag;
  nf.f.body.error.code = 1000;
  nf.s[0].ptr = (const uint8_t *)"a detail longer than eight bytes";
  nf.s[0].len = 32;
  cr_expect_eq(cord__frame_encode(&nf, buf, sizeof buf), 0u);
}
