/* test_describe.c: cord_frame_describe() prints frames exactly as `protoc --decode` does, squeezed to one line. */
#include <ctype.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cord.pb-c.h"
#include "helpers.h"

static void squeeze(char *s) {
  char *w = s;
  int space = 1;
  for (char *r = s; *r; r++) {
    if (isspace((unsigned char)*r)) {
      if (!space)
        *w++ = ' ';
      space = 1;
    } else {
      *w++ = *r;
      space = 0;
    }
  }
  if (w > s && w[-1] == ' ')
    w--;
  *w = '\0';
}

/* The oracle: protoc, an implementation independent of protobuf-c. */
static void protoc_text(const uint8_t *body, size_t len, char *out, size_t cap) {
  char tmpl[] = "/tmp/cord-describe-XXXXXX";
  int fd = mkstemp(tmpl);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, body, len), (ssize_t)len);
  close(fd);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "'%s' -I'%s' --decode=cord.v1.Frame cord.proto < '%s'", CORD_PROTOC, CORD_PROTO_DIR,
           tmpl);
  FILE *p = popen(cmd, "r");
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  cr_assert_eq(pclose(p), 0);
  unlink(tmpl);
  squeeze(out);
}

static void check(const Cord__V1__Frame *f) {
  uint8_t body[1024];
  char want[4096], got[4096];
  size_t n = cord__v1__frame__get_packed_size(f);
  cr_assert_leq(n, sizeof body);
  cord__v1__frame__pack(f, body);
  protoc_text(body, n, want, sizeof want);
  cr_assert_geq(cord_frame_describe(body, n, got, sizeof got), 0);
  cr_expect_str_eq(got, want);
}

Test(describe, matches_protoc_for_every_frame_kind, .timeout = 60) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  Cord__V1__Typed t = CORD__V1__TYPED__INIT;
  Cord__V1__Cancel x = CORD__V1__CANCEL__INIT;
  Cord__V1__Ping pi = CORD__V1__PING__INIT;
  Cord__V1__Pong po = CORD__V1__PONG__INIT;
  Cord__V1__Goodbye g = CORD__V1__GOODBYE__INIT;
  Cord__V1__Error e = CORD__V1__ERROR__INIT;
  static uint8_t bytes[] = {0, 1, 8, '\n', '"', '\'', '\\', 0x7f, 0x80, 0xff, 'a'};

  h.magic = 0x44524F43;
  h.min_version = 1;
  h.max_version = 7;
  h.max_frame = 256;
  h.capabilities = 0xffffffffffull;
  h.pid = 77;
  h.impl_name = "tab\there";
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  check(&f);

  m.id = 18446744073709551615ull;
  m.fds = 2;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
  m.raw.data = bytes;
  m.raw.len = sizeof bytes;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &m;
  check(&f);

  t.type = "a.b.C";
  t.value.data = bytes;
  t.value.len = 3;
  m.id = 0;
  m.reply_to = 5;
  m.status = 1009;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_TYPED;
  m.typed = &t;
  check(&f);

  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
  m.json = "{\"k\":\"v\\n\"}";
  check(&f);

  x.id = 3;
  f.body_case = CORD__V1__FRAME__BODY_CANCEL;
  f.cancel = &x;
  check(&f);
  pi.nonce = 1;
  f.body_case = CORD__V1__FRAME__BODY_PING;
  f.ping = &pi;
  check(&f);
  f.body_case = CORD__V1__FRAME__BODY_PONG;
  f.pong = &po;
  check(&f);
  g.reason = CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN;
  g.detail = "bye";
  f.body_case = CORD__V1__FRAME__BODY_GOODBYE;
  f.goodbye = &g;
  check(&f);
  e.code = 1003;
  f.body_case = CORD__V1__FRAME__BODY_ERROR;
  f.error = &e;
  check(&f);
}

Test(describe, long_payloads_are_cut_and_garbage_refused) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  static uint8_t big[1000];
  uint8_t body[1100];
  char out[512];
  memset(big, 'z', sizeof big);
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
  m.raw.data = big;
  m.raw.len = sizeof big;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &m;
  size_t n = cord__v1__frame__get_packed_size(&f);
  cord__v1__frame__pack(&f, body);
  cr_assert_gt(cord_frame_describe(body, n, out, sizeof out), 0);
  cr_expect(strstr(out, "...(1000 bytes)") != NULL, "%s", out);
  cr_expect_lt(strlen(out), 120u);
  cr_expect_eq(cord_frame_describe("\x0f\x00", 2, out, sizeof out), CORD_EPROTOCOL);
}

Test(describe, reads_only_what_the_spec_reading_accepts) {
  char out[512];
  /* Two members of Frame.body (FRAME-14): protobuf-c alone would take
   * the second. */
  cr_expect_eq(cord_frame_describe("\x22\x02\x08\x07\x12\x00", 6, out, sizeof out), CORD_EPROTOCOL);
  /* An unknown field numbered 2^28 (tag f0 ff ff ff 0f... as a varint of
   * value 2^31): protobuf-c 1.4.1 would shift a signed int out of range. */
  static const uint8_t high[] = {0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x22, 0x00};
  cr_expect_eq(cord_frame_describe(high, sizeof high, out, sizeof out), CORD_EPROTOCOL);
  /* A valid frame with an unknown field below that is still described. */
  cr_expect_gt(cord_frame_describe("\x78\x00\x22\x02\x08\x07", 6, out, sizeof out), 0);
  cr_expect(strstr(out, "ping { nonce: 7 }") != NULL, "%s", out);
}
