/* test_handshake.c: the child's Hello and its checks of the parent's (spec section 4). */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(handshake, hello_declares_the_receive_buffer, .timeout = 10) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  uint8_t first[4];
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 5000, 1024, 3, CORD_CHAN_F_CANCEL), 0);
  /* FRAME-4: the Hello fits 256 bytes. */
  cr_assert_eq(recv(p, first, 4, MSG_PEEK), 4);
  cr_expect_leq((first[0] << 24 | first[1] << 16 | first[2] << 8 | first[3]), 256);
  f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  cr_expect_eq(f->hello->magic, FP_MAGIC, "HELLO-2");
  cr_expect_eq(f->hello->min_version, 1u);
  cr_expect_eq(f->hello->max_version, 1u, "HELLO-3");
  cr_expect_eq(f->hello->max_frame, 5000u, "max_frame is the receive buffer");
  cr_expect_eq(f->hello->max_fds, 3u, "max_fds is the descriptor queue");
  cr_expect_eq(f->hello->capabilities, 1u, "CAPABILITY_CANCEL when asked");
  cr_expect_eq(f->hello->pid, (uint32_t)getpid());
  cr_expect_str_eq(f->hello->impl_name, "cord-child");
  cr_expect_str_eq(f->hello->impl_version, "1.0.0");
  fp_free(f);
}

Test(handshake, max_fds_is_bounded_by_the_config, .timeout = 10) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 40, 0), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  cr_expect_eq(f->hello->max_fds, (uint32_t)CORD_CHILD_MAX_FDS);
  cr_expect_eq(f->hello->capabilities, 0u);
  fp_free(f);
}

Test(handshake, tiny_hello_is_the_spec_example, .timeout = 10) {
  /* The spec's hello-child, but for the pid. */
  static const uint8_t spec[] = {0x00, 0x00, 0x00, 0x24, 0x0a, 0x22, 0x0d, 0x43, 0x4f, 0x52,
                                 0x44, 0x10, 0x01, 0x18, 0x01, 0x20, 0x80, 0x02, 0x38, 0x93,
                                 0x21, 0x42, 0x0a, 'c',  'o',  'r',  'd',  '-',  'c',  'h',
                                 'i',  'l',  'd',  0x4a, 0x05, '1',  '.',  '0',  '.',  '0'};
  Cord__V1__Frame *want = cord__v1__frame__unpack(NULL, sizeof spec - 4, spec + 4), *f;
  int p = fp_channel(0, NULL);
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 256, 256, 0, 0), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  want->hello->pid = f->hello->pid;
  cr_expect_eq(cord__v1__frame__get_packed_size(f), cord__v1__frame__get_packed_size(want));
  cr_expect_eq(f->hello->max_frame, 256u);
  cr_expect_eq(f->hello->max_fds, 0u);
  fp_free(f);
  fp_free(want);
}

Test(handshake, custom_names, .timeout = 10) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  char name[66];
  cord_chan_cfg_t cfg = {.rx = fp_rx, .rx_len = 512, .tx = fp_tx, .tx_len = 512,
                         .impl_name = "my-worker", .impl_version = "2.3"};
  fp_hello(p);
  cr_assert_eq(cord_chan_open(&ch, &cfg), 0);
  f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  cr_expect_str_eq(f->hello->impl_name, "my-worker");
  cr_expect_str_eq(f->hello->impl_version, "2.3");
  fp_free(f);
  /* HELLO-4: at most 64 bytes of name. */
  memset(name, 'n', 65);
  name[65] = 0;
  cfg.impl_name = name;
  fp_channel(0, NULL);
  cr_expect_eq(cord_chan_open(&ch, &cfg), -EINVAL);
}

Test(handshake, parent_frame_limit_binds_the_child, .timeout = 10) {
  static uint8_t big[400];
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = big, .len = sizeof big};
  int p = fp_channel(0, NULL);
  fp_hello_ex(p, 1, 1, 256, 0);
  cr_assert_eq(fp_child_open(&ch, 4096, 4096, 0, 0), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  /* FRAME-2: refused whole, nothing of it written. */
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ETOOBIG);
  o.len = 240;
  cr_expect_eq(cord_chan_send(&ch, &o), 0, "a frame that fits 256 bytes goes");
  Cord__V1__Frame *f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->raw.len, 240u, "the refused frame left nothing behind");
  fp_free(f);
}

Test(handshake, transmit_buffer_bounds_sends, .timeout = 10) {
  static uint8_t big[600];
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = big, .len = sizeof big};
  int p = fp_channel(0, NULL);
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 4096, 512, 0, 0), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ETOOBIG);
  cr_expect_eq(cord_chan_send_json(&ch, "{}", 2), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE));
}

/* Opens against a parent Hello and expects the failure code, the Error
 * frame the child sends about it, and exit status 76. */
static void bad_hello(uint32_t min_v, uint32_t max_v, uint32_t max_frame, int code) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  fp_hello_ex(p, min_v, max_v, max_frame, 0);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), code, "hello %u..%u max_frame %u", min_v, max_v,
               max_frame);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, (uint32_t)-code);
  fp_free(f);
  fp_expect_eof(p);
  cr_expect_eq(cord_chan_recv(&ch, &m), code, "the failure stays");
  cr_expect_eq(cord_chan_send_json(&ch, "{}", 2), CORD_ECLOSED, "nothing follows a failure");
  cr_expect_eq(cord_chan_close(&ch), 76, "END-8");
}

Test(handshake, hello_checks, .timeout = 10) {
  bad_hello(2, 1, 1024, CORD_EPROTOCOL);          /* HELLO-9: min > max */
  bad_hello(1, 1, 255, CORD_EPROTOCOL);           /* FRAME-3: max_frame too small */
  bad_hello(1, 1, 0x80000000u, CORD_EPROTOCOL);   /* FRAME-3: top bit */
}

Test(handshake, boundary_values_are_accepted, .timeout = 10) {
  int p = fp_channel(0, NULL);
  fp_hello_ex(p, 0, 7, 0x7fffffffu, 1000);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0, "1 is common to 0..7; 2^31-1 is allowed");
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  fp_json(p, 0, "{\"after\":1}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE);
}

Test(handshake, unknown_fields_and_capabilities_are_ignored, .timeout = 10) {
  /* A Hello with capability bit 40 and an unknown field 15 [FRAME-9, HELLO-11]. */
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  uint8_t buf[128];
  size_t n;
  int p = fp_channel(0, NULL);
  h.magic = FP_MAGIC;
  h.min_version = h.max_version = 1;
  h.max_frame = 4096;
  h.capabilities = (1ull << 40) | 1;
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  n = fp_pack(&f, buf, sizeof buf);
  /* Append field 15 (varint 5) inside the Hello: bump both lengths. */
  buf[n++] = 15 << 3;
  buf[n++] = 5;
  buf[3] += 2;
  buf[5] += 2;
  fp_raw(p, buf, n);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0);
}

Test(handshake, parent_gone_before_hello, .timeout = 10) {
  int p = fp_channel(0, NULL);
  shutdown(p, SHUT_WR);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0, "the end is reported by recv");
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  cr_expect_eq(cord_chan_send_json(&ch, "{}", 2), CORD_ECLOSED, "the channel ended before the parent's Hello");
  cr_expect_eq(cord_chan_close(&ch), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  fp_expect_eof(p);
}

Test(handshake, parent_closed_before_child_hello, .timeout = 10) {
  int p = fp_channel(0, NULL);
  close(p);
  /* The Hello meets EPIPE: no signal, and the end is clean. */
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0);
  cr_expect_eq(cord_chan_recv(&ch, &m), 0);
  cr_expect_eq(cord_chan_close(&ch), 0);
}
