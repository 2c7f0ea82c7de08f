/* test_encoding.c: every Message the parent writes is, byte for byte, what protobuf-c writes for the same message. */
#include <stdlib.h>
#include <sys/socket.h>

#include "cord.pb-c.h"
#include "helpers.h"

static const uint8_t hello_child[] = {0x00, 0x00, 0x00, 0x24, 0x0a, 0x22, 0x0d, 0x43, 0x4f, 0x52, 0x44, 0x10,
                                      0x01, 0x18, 0x01, 0x20, 0x80, 0x02, 0x38, 0x93, 0x21, 0x42, 0x0a, 0x63,
                                      0x6f, 0x72, 0x64, 0x2d, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x4a, 0x05, 0x31,
                                      0x2e, 0x30, 0x2e, 0x30};

/* Reads one whole frame, prefix included, into buf; returns its length. */
static size_t read_frame(int fd, uint8_t *buf, size_t cap) {
  size_t have = 0, want = 4;
  while (have < want) {
    ssize_t n = read(fd, buf + have, want - have);
    cr_assert_gt(n, 0);
    have += (size_t)n;
    if (have == 4) {
      want = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3]);
      cr_assert_leq(want, cap);
    }
  }
  return want;
}

/* protobuf-c's bytes for a Frame holding m. */
static size_t expected(Cord__V1__Message *m, uint8_t *out) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = m;
  size_t n = cord__v1__frame__pack(&f, out + 4);
  out[0] = (uint8_t)(n >> 24);
  out[1] = (uint8_t)(n >> 16);
  out[2] = (uint8_t)(n >> 8);
  out[3] = (uint8_t)n;
  return n + 4;
}

Test(encoding, messages_are_what_protobuf_c_writes, .timeout = 30) {
  int sv[2];
  cord_proc_t c;
  cord_event_t ev;
  static uint8_t got[1 << 17], want[1 << 17];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  cr_assert_eq(cord_attach(&c, sv[0], NULL), 0);
  (void)read_frame(sv[1], got, sizeof got);
  /* A child with room for large frames: the Hello above says 256; this
   * one says 1 MiB (max_frame 0x100000 in field 4). */
  uint8_t hello[sizeof hello_child + 1];
  memcpy(hello, hello_child, 16);
  hello[16] = 0x80, hello[17] = 0x80, hello[18] = 0x40;
  memcpy(hello + 19, hello_child + 18, sizeof hello_child - 18);
  hello[3] += 1, hello[5] += 1;
  cr_assert_eq(write(sv[1], hello, sizeof hello), (ssize_t)sizeof hello);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_assert_eq(c.peer.max_frame, 1u << 20);

  static char big[100000];
  memset(big, 'j', sizeof big - 1);
  big[0] = '"', big[sizeof big - 2] = '"';
  struct {
    cord_msg_t m;
    int request;
  } cases[] = {
      {{.payload = CORD_PAYLOAD_JSON, .data = "{\"a\":1}", .len = 7}, 0},
      {{.payload = CORD_PAYLOAD_JSON, .data = big, .len = sizeof big - 1}, 1},
      {{.payload = CORD_PAYLOAD_RAW, .data = "\x00\x01\xff", .len = 3}, 1},
      {{.payload = CORD_PAYLOAD_TYPED, .type_name = "example.v1.Job", .data = "\x08\x2a", .len = 2}, 0},
      {{.payload = CORD_PAYLOAD_TYPED, .type_name = "example.v1.Empty"}, 1},
      {{.payload = CORD_PAYLOAD_NONE}, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cord_msg_t *m = &cases[i].m;
    Cord__V1__Message pm = CORD__V1__MESSAGE__INIT;
    Cord__V1__Typed pt = CORD__V1__TYPED__INIT;
    uint64_t id = 0;
    char *text = NULL;
    cr_assert_geq(cases[i].request ? cord_request(&c, m, &id) : cord_send(&c, m), 0);
    cr_assert_eq(cord_flush(&c, WAIT_MS), 0);
    size_t n = read_frame(sv[1], got, sizeof got);
    pm.id = id;
    switch (m->payload) {
    case CORD_PAYLOAD_JSON:
      text = strndup(m->data, m->len);
      pm.payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
      pm.json = text;
      break;
    case CORD_PAYLOAD_RAW:
      pm.payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
      pm.raw.data = (uint8_t *)m->data;
      pm.raw.len = m->len;
      break;
    case CORD_PAYLOAD_TYPED:
      pt.type = (char *)m->type_name;
      pt.value.data = (uint8_t *)m->data;
      pt.value.len = m->len;
      pm.payload_case = CORD__V1__MESSAGE__PAYLOAD_TYPED;
      pm.typed = &pt;
      break;
    }
    size_t w = expected(&pm, want);
    cr_expect_eq(n, w, "case %zu: %zu bytes, protobuf-c writes %zu", i, n, w);
    cr_expect_arr_eq(got, want, n < w ? n : w, "case %zu differs", i);
    free(text);
  }
  cord_proc_close(&c);
  close(sv[1]);
}
