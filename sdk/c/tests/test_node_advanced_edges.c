/* test_node_advanced_edges.c: the advanced binding's framing at its edges: split and coalesced frames, over-long and hostile lengths, values the codec does not cover, internal messages, stray descriptors, a flood of handles. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

#include "hostile.h"

static cord_arena_t A;

/* A parent on one end of a socket pair, on the advanced binding; the test
 * writes the child's bytes into *peer itself. */
static void attach(cord_proc_t *c, int *peer, uint32_t max_frame) {
  int sv[2];
  cord_options_t o = {0};
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  o.serialization = CORD_SERIALIZATION_ADVANCED;
  o.max_frame = max_frame;
  cr_assert_eq(cord_attach(c, sv[0], &o), 0);
  *peer = sv[1];
  cord_arena_init(&A, 0);
}

/* The frame of {seq: n}, or of {key: text}: 4 bytes of length, then V8's. */
static size_t frame_of(const cord_value_t *v, uint8_t *out, size_t cap) {
  size_t len;
  cr_assert_eq(cord_v8_encode(v, out + 4, cap - 4, &len, NULL), 0);
  out[0] = (uint8_t)(len >> 24), out[1] = (uint8_t)(len >> 16), out[2] = (uint8_t)(len >> 8), out[3] = (uint8_t)len;
  return len + 4;
}

static size_t seq_frame(int n, uint8_t *out, size_t cap) {
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, "seq", cord_value_int32(&A, n));
  return frame_of(o, out, cap);
}

static size_t str_frame(const char *key, const char *text, uint8_t *out, size_t cap) {
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, key, cord_value_string(&A, text, strlen(text)));
  return frame_of(o, out, cap);
}

/* The next event other than READY and DRAIN. */
static void next(cord_proc_t *c, cord_event_t *ev) {
  for (;;) {
    cr_assert_eq(cord_wait(c, ev, WAIT_MS), 1, "no event");
    if (ev->type != CORD_EV_READY && ev->type != CORD_EV_DRAIN)
      return;
  }
}

static void expect_seq(cord_proc_t *c, int n) {
  cord_event_t ev;
  next(c, &ev);
  cr_assert_eq(ev.type, CORD_EV_MESSAGE, "%s: %s", cord_event_name(ev.type), ev.detail ? ev.detail : "");
  cr_assert_eq(ev.payload, CORD_PAYLOAD_V8);
  const cord_value_t *s = cord_value_get(ev.value, "seq");
  cr_expect(s && s->type == CORD_VALUE_INT32 && s->u.int32 == n, "wanted seq %d", n);
  cr_expect_eq(ev.nfds, 0);
}

static void send_fd(int sock, const void *b, size_t n, int fd) {
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } cm;
  struct iovec iov = {(void *)b, n};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
  struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof(int));
  cr_assert_eq(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads what the parent wrote, expecting exactly `want`. */
static void expect_written(int peer, const void *want, size_t n) {
  uint8_t got[256];
  size_t k = 0;
  while (k < n) {
    struct pollfd pf = {peer, POLLIN, 0};
    cr_assert_eq(poll(&pf, 1, WAIT_MS), 1, "the parent wrote %zu of %zu bytes", k, n);
    ssize_t r = read(peer, got + k, n - k);
    cr_assert_gt(r, 0);
    k += (size_t)r;
  }
  cr_expect_arr_eq(got, want, n);
}

static const uint8_t nack[] = {0,   0,   0,   28,  0xff, 0x0f, 'o', '"', 3,   'c', 'm', 'd', '"', 16,  'N', 'O',
                               'D', 'E', '_', 'H', 'A',  'N',  'D', 'L', 'E', '_', 'N', 'A', 'C', 'K', '{', 1};

Test(node_advanced_edges, frames_split_to_bytes_and_many_in_one_read) {
  cord_proc_t c;
  cord_event_t ev;
  uint8_t b[256];
  int peer;
  attach(&c, &peer, 0);
  /* One byte at a time, the length too, each byte stepped on alone. */
  size_t n = seq_frame(1, b, sizeof b);
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(write(peer, b + i, 1), 1);
    if (i + 1 < n)
      while (cord_step(&c, &ev) == 1)
        cr_assert_neq(ev.type, CORD_EV_MESSAGE, "a message before its last byte (%zu of %zu)", i + 1, n);
  }
  expect_seq(&c, 1);
  /* Three frames in one write. */
  n = seq_frame(2, b, sizeof b);
  n += seq_frame(3, b + n, sizeof b - n);
  n += seq_frame(4, b + n, sizeof b - n);
  cr_assert_eq(write(peer, b, n), (ssize_t)n);
  for (int i = 2; i <= 4; i++)
    expect_seq(&c, i);
  close(peer);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

Test(node_advanced_edges, an_over_long_frame_is_dropped_and_its_handle_refused) {
  cord_proc_t c;
  cord_event_t ev;
  uint8_t b[2048];
  char big[1001];
  int peer, sv[2];
  attach(&c, &peer, 256);
  memset(big, 'x', 1000);
  big[1000] = '\0';
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int before = count_fds();
  /* A NODE_HANDLE of 1,000 bytes and more, over max_frame: dropped as it
   * comes, reported, its descriptor closed and answered NACK, since the
   * sender waits for an answer; the channel goes on (NODE-6). */
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, "cmd", cord_value_string(&A, "NODE_HANDLE", 11));
  cord_value_put(&A, o, "type", cord_value_string(&A, "net.Socket", 10));
  cord_value_put(&A, o, "msg", cord_value_string(&A, big, 1000));
  size_t n = frame_of(o, b, sizeof b);
  send_fd(peer, b, 10, sv[0]);
  cr_assert_eq(write(peer, b + 10, n - 10), (ssize_t)(n - 10));
  n = seq_frame(1, b, sizeof b);
  cr_assert_eq(write(peer, b, n), (ssize_t)n);
  next(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EFRAMESIZE);
  cr_expect(strstr(ev.detail, "max_frame 256") && strstr(ev.detail, "NACK"), "%s", ev.detail);
  expect_seq(&c, 1);
  expect_written(peer, nack, sizeof nack);
  cr_expect_eq(count_fds(), before, "the descriptor received was closed");
  close(sv[0]), close(sv[1]), close(peer);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

Test(node_advanced_edges, a_hostile_length_reserves_nothing) {
  cord_proc_t c;
  cord_event_t ev;
  uint8_t b[104] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f};
  int peer;
  hostile_memory(SIZE_MAX);
  attach(&c, &peer, 0x7fffffff);
  size_t base = h_live;
  /* 2 GiB announced, 100 bytes sent: memory follows the bytes. */
  cr_assert_eq(write(peer, b, sizeof b), (ssize_t)sizeof b);
  cr_expect_eq(cord_step(&c, &ev), 1); /* READY */
  while (cord_step(&c, &ev) == 1)
    ;
  cr_expect_lt(h_peak - base, (size_t)64 << 10, "the SDK took %zu bytes for 100", h_peak - base);
  close(peer);
  next(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_ETRUNCATED, "%s", ev.detail);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

Test(node_advanced_edges, a_value_not_covered_is_an_error_with_its_bytes) {
  cord_proc_t c;
  cord_event_t ev;
  /* A SharedArrayBuffer (V8 tag 'u', id 0): delimited, so reported and
   * skipped, its bytes handed over (NODE-13). */
  static const uint8_t sab[] = {0, 0, 0, 4, 0xff, 0x0f, 'u', 0};
  uint8_t b[256];
  int peer;
  attach(&c, &peer, 0);
  cr_assert_eq(write(peer, sab, sizeof sab), (ssize_t)sizeof sab);
  size_t n = seq_frame(1, b, sizeof b);
  cr_assert_eq(write(peer, b, n), (ssize_t)n);
  next(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EUNSUPPORTED);
  cr_expect(strstr(ev.detail, "SharedArrayBuffer") != NULL, "%s", ev.detail);
  cr_expect_eq(ev.len, 4);
  cr_expect_arr_eq(ev.data, sab + 4, 4);
  expect_seq(&c, 1);
  close(peer);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

static int end_of(const uint8_t *bytes, size_t n) {
  cord_proc_t c;
  cord_event_t ev;
  int peer, first = 0;
  attach(&c, &peer, 0);
  cr_assert_eq(write(peer, bytes, n), (ssize_t)n);
  for (;;) {
    next(&c, &ev);
    if (ev.type == CORD_EV_ERROR && !first)
      first = ev.error;
    if (ev.type == CORD_EV_DISCONNECT) {
      cr_expect_eq(ev.error, first);
      break;
    }
    cr_assert_neq(ev.type, CORD_EV_MESSAGE);
  }
  close(peer);
  cord_proc_close(&c);
  cord_arena_free(&A);
  return first;
}

Test(node_advanced_edges, bytes_that_are_no_value_end_the_channel) {
  static const uint8_t garbage[] = {0, 0, 0, 3, 0xff, 0x0f, 0xee};
  static const uint8_t empty[] = {0, 0, 0, 0};
  static const uint8_t no_header[] = {0, 0, 0, 2, 'I', 2};
  cr_expect_eq(end_of(garbage, sizeof garbage), CORD_EPROTOCOL);
  cr_expect_eq(end_of(empty, sizeof empty), CORD_EPROTOCOL);
  cr_expect_eq(end_of(no_header, sizeof no_header), CORD_EPROTOCOL);
}

Test(node_advanced_edges, internal_messages_are_not_delivered) {
  cord_proc_t c;
  cord_event_t ev;
  uint8_t b[256];
  int peer;
  attach(&c, &peer, 0);
  size_t n = str_frame("cmd", "NODE_CLUSTER", b, sizeof b);
  n += str_frame("cmd", "NODE_SOCKET_GET_COUNT", b + n, sizeof b - n);
  n += seq_frame(1, b + n, sizeof b - n);
  cr_assert_eq(write(peer, b, n), (ssize_t)n);
  expect_seq(&c, 1);
  /* An answer to a handle we never sent: Node.js would end; told here. */
  n = str_frame("cmd", "NODE_HANDLE_ACK", b, sizeof b);
  n += seq_frame(2, b + n, sizeof b - n);
  cr_assert_eq(write(peer, b, n), (ssize_t)n);
  next(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_ENODE, "%s", ev.detail);
  expect_seq(&c, 2);
  /* Sending one is refused. */
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, "cmd", cord_value_string(&A, "NODE_HANDLE_ACK", 15));
  cr_expect_eq(cord_send_value(&c, o, NULL, 0), CORD_ENODE);
  cr_expect(strstr(cord_proc_detail(&c), "internal") != NULL, "%s", cord_proc_detail(&c));
  close(peer);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

Test(node_advanced_edges, json_text_is_refused) {
  cord_proc_t c;
  uint8_t b[16];
  int peer;
  attach(&c, &peer, 0);
  /* Spec NODE-12: a JSON line is no frame Node.js reads on this channel. */
  cr_expect_eq(cord_send_json(&c, "{\"i\":1}"), CORD_ENODE);
  cr_expect(strstr(cord_proc_detail(&c), "cord_send_value") != NULL, "%s", cord_proc_detail(&c));
  cr_expect_eq(recv(peer, b, sizeof b, MSG_DONTWAIT), -1, "nothing is written");
  close(peer);
  cord_proc_close(&c);
}

Test(node_advanced_edges, a_stray_descriptor_is_closed) {
  cord_proc_t c;
  uint8_t b[256];
  int peer, sv[2];
  attach(&c, &peer, 0);
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int before = count_fds();
  /* A descriptor with a message that is no NODE_HANDLE belongs to none. */
  size_t n = seq_frame(1, b, sizeof b);
  send_fd(peer, b, n, sv[0]);
  n = seq_frame(2, b, sizeof b);
  cr_assert_eq(write(peer, b, n), (ssize_t)n);
  expect_seq(&c, 1);
  expect_seq(&c, 2);
  cr_expect_eq(count_fds(), before, "the stray descriptor was closed");
  close(sv[0]), close(sv[1]), close(peer);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

/* A peer that sends NODE_HANDLE messages without descriptors and never
 * reads the answers: they pile up to CORD__ANSWERS_MAX behind a full
 * socket, then the channel fails; memory stays bounded. */
static void flood(int fd, void *arg) {
  uint8_t b[256];
  (void)arg;
  cord_arena_init(&A, 0);
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, "cmd", cord_value_string(&A, "NODE_HANDLE", 11));
  cord_value_put(&A, o, "type", cord_value_string(&A, "net.Server", 10));
  cord_value_put(&A, o, "msg", cord_value_int32(&A, 1));
  size_t n = frame_of(o, b, sizeof b);
  for (int i = 0; i < 100000; i++)
    put_all(fd, b, n);
  pause(); /* never reads */
}

Test(node_advanced_edges, handles_faster_than_their_answers_are_read) {
  cord_proc_t c;
  cord_options_t o = hostile_options();
  o.serialization = CORD_SERIALIZATION_ADVANCED;
  hostile_memory(SIZE_MAX);
  pid_t peer = hostile_pair(&c, &o, flood, NULL);
  hostile_run_t r = hostile_run(&c);
  cr_expect_eq(r.end_error, CORD_EPROTOCOL);
  cr_expect_lt(h_peak, (size_t)4 << 20, "peak %zu bytes", h_peak);
  cr_expect_leq(r.most_frames, 64);
  cord_proc_close(&c);
  kill(peer, SIGKILL);
  hostile_reap(peer);
}

Test(node_advanced_edges, a_value_node_sends_and_the_codec_does_not_cover, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = {0};
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  o.exec_path = CORD_TEST_NODE;
  o.serialization = CORD_SERIALIZATION_ADVANCED;
  cr_assert_eq(cord_spawn(&c, NODE_ADVANCED_EDGES_JS, NULL, &o), 0, "%s", cord_spawn_error());
  /* A resizable ArrayBuffer (V8 tag '~'): an ERROR with its bytes, and
   * the channel goes on. */
  next(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_ERROR, "%s", cord_event_name(ev.type));
  cr_expect_eq(ev.error, CORD_EUNSUPPORTED, "%s", ev.detail);
  cr_expect(ev.len > 2 && ((const uint8_t *)ev.data)[0] == 0xff, "its bytes");
  next(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_MESSAGE);
  cr_expect(cord_value_get(ev.value, "after") != NULL);
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}
