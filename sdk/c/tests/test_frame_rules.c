/* test_frame_rules.c: the parent reads a body the one way spec FRAME-14 allows: a oneof member at most once, tags of 32 bits, values within their field. */
#include "hostile.h"

static const uint8_t *g_body;
static size_t g_len;

static void send_body(int fd, void *arg) {
  (void)arg;
  uint8_t prefix[4] = {0, 0, 0, (uint8_t)g_len};
  put_all(fd, hostile_hello, sizeof hostile_hello);
  put_all(fd, prefix, 4);
  put_all(fd, g_body, g_len);
  shutdown(fd, SHUT_WR);
  drain_until_closed(fd);
}

/* How the channel ends when the child sends this body after its Hello. */
static int ending(const uint8_t *body, size_t len) {
  cord_proc_t c;
  cord_options_t o = hostile_options();
  g_body = body;
  g_len = len;
  pid_t peer = hostile_pair(&c, &o, send_body, NULL);
  hostile_run_t r = hostile_run(&c);
  cord_proc_close(&c);
  hostile_reap(peer);
  return r.end_error;
}

Test(frame_rules, a_oneof_member_comes_once, .timeout = 30) {
  static const uint8_t two_members[] = {0x22, 0x02, 0x08, 0x07, 0x12, 0x02, 0x08, 0x01};
  static const uint8_t same_twice[] = {0x12, 0x02, 0x08, 54, 0x12, 0x02, 0x10, 1};
  static const uint8_t two_payloads[] = {0x12, 8, 0x2a, 3, 0x0a, 1, 't', 0x32, 1, 'j'};
  cr_expect_eq(ending(two_members, sizeof two_members), CORD_EPROTOCOL);
  cr_expect_eq(ending(same_twice, sizeof same_twice), CORD_EPROTOCOL, "protobuf-c alone would keep the second");
  cr_expect_eq(ending(two_payloads, sizeof two_payloads), CORD_EPROTOCOL);
}

Test(frame_rules, ranges_of_tags_and_values, .timeout = 30) {
  /* A tag of more than 32 bits (sign-extended), an unknown varint of 11
   * bytes, a uint32 of 33 bits, an enum past int32: all PROTOCOL. A
   * negative enum is a value like any other. */
  static const uint8_t long_tag[] = {0x9a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00};
  static const uint8_t long_varint[] = {0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  static const uint8_t big_uint32[] = {0x3a, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10};
  static const uint8_t big_enum[] = {0x32, 0x06, 0x08, 0xff, 0xff, 0xff, 0xff, 0x08};
  static const uint8_t minus_one[] = {0x32, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  cr_expect_eq(ending(long_tag, sizeof long_tag), CORD_EPROTOCOL);
  cr_expect_eq(ending(long_varint, sizeof long_varint), CORD_EPROTOCOL);
  cr_expect_eq(ending(big_uint32, sizeof big_uint32), CORD_EPROTOCOL);
  cr_expect_eq(ending(big_enum, sizeof big_enum), CORD_EPROTOCOL);
  cr_expect_eq(ending(minus_one, sizeof minus_one), 0, "a Goodbye with reason -1 ends the channel cleanly");
}
