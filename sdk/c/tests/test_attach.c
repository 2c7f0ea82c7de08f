/* test_attach.c: the parent SDK speaks to a channel it did not spawn: over a socket pair in the same process, and over TCP without descriptors. */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "cord.pb-c.h"
#include "helpers.h"

/* Frames of the spec (sections 4 and 5), byte for byte. */
static const uint8_t hello_child[] = {0x00, 0x00, 0x00, 0x24, 0x0a, 0x22, 0x0d, 0x43, 0x4f, 0x52, 0x44, 0x10,
                                      0x01, 0x18, 0x01, 0x20, 0x80, 0x02, 0x38, 0x93, 0x21, 0x42, 0x0a, 0x63,
                                      0x6f, 0x72, 0x64, 0x2d, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x4a, 0x05, 0x31,
                                      0x2e, 0x30, 0x2e, 0x30};
static const uint8_t message_json[] = {0x00, 0x00, 0x00, 0x0d, 0x12, 0x0b, 0x32, 0x09, 0x7b,
                                       0x22, 0x73, 0x65, 0x71, 0x22, 0x3a, 0x31, 0x7d};

/* Reads one whole frame from the peer's end; returns its body length. */
static size_t read_frame(int fd, uint8_t *buf, size_t cap) {
  size_t have = 0, want = 4;
  while (have < want) {
    ssize_t n = read(fd, buf + have, want - have);
    cr_assert_gt(n, 0, "the parent's frame ended early");
    have += (size_t)n;
    if (have == 4) {
      want = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3]);
      cr_assert_leq(want, cap);
    }
  }
  return want - 4;
}

/* Reads the parent's Hello and returns its max_fds. */
static uint32_t read_hello(int peer) {
  uint8_t buf[512];
  size_t n = read_frame(peer, buf, sizeof buf);
  Cord__V1__Frame *f = cord__v1__frame__unpack(NULL, n, buf + 4);
  cr_assert_not_null(f);
  cr_assert_eq(f->body_case, CORD__V1__FRAME__BODY_HELLO, "the parent's first frame is its Hello");
  uint32_t max_fds = f->hello->max_fds;
  cord__v1__frame__free_unpacked(f, NULL);
  return max_fds;
}

/* Plays the child on `peer`: Hello, one JSON message, then end of file. */
static void play_child(cord_proc_t *c, int peer, uint32_t expect_max_fds) {
  uint8_t buf[512];
  cord_event_t ev;
  cr_expect_eq(read_hello(peer), expect_max_fds);
  cr_assert_eq(write(peer, hello_child, sizeof hello_child), (ssize_t)sizeof hello_child);
  wait_for(c, &ev, CORD_EV_READY);
  cr_expect_str_eq(c->peer.impl_name, "cord-child");
  cr_expect_eq(c->peer.max_frame, 256u);
  cr_assert_eq(write(peer, message_json, sizeof message_json), (ssize_t)sizeof message_json);
  wait_for(c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(ev.len, 9u);
  cr_expect_arr_eq(ev.data, "{\"seq\":1}", 9);
  shutdown(peer, SHUT_WR);
  wait_for(c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0);
  /* No process: CLOSE follows at once, and no EXIT comes. */
  cr_assert_eq(cord_wait(c, &ev, WAIT_MS), 1);
  cr_expect_eq(ev.type, CORD_EV_CLOSE, "got %s", cord_event_name(ev.type));
  cr_expect_eq(cord_wait(c, &ev, WAIT_MS), 0);
  cr_expect_eq(cord_kill(c, SIGTERM), -ESRCH);
  /* The parent said Goodbye after the child's end of file (END-4). */
  cr_expect_eq(read_frame(peer, buf, sizeof buf), 2u);
  cr_expect_eq(buf[4], 0x32, "a Goodbye");
}

Test(attach, socket_pair_in_process, .timeout = 30) {
  int sv[2], fds = count_fds();
  cord_proc_t c;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  cr_assert_eq(cord_attach(&c, sv[0], NULL), 0);
  cr_expect_eq(c.pid, 0);
  play_child(&c, sv[1], 16);
  cord_proc_close(&c);
  close(sv[1]);
  cr_expect_eq(count_fds(), fds, "the SDK closed the descriptor it was given");
}

Test(attach, tcp_carries_no_descriptors, .timeout = 30) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(l, 1), 0);
  cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
  cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof a), 0);
  int peer = accept(l, NULL, NULL);
  cr_assert_geq(peer, 0);
  close(l);
  cord_proc_t c;
  cr_assert_eq(cord_attach(&c, s, NULL), 0);
  /* The Hello of a channel that cannot pass descriptors declares none. */
  cr_expect_eq(read_hello(peer), 0u);
  cr_assert_eq(write(peer, hello_child, sizeof hello_child), (ssize_t)sizeof hello_child);
  cord_event_t ev;
  wait_for(&c, &ev, CORD_EV_READY);
  int fd = 0;
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .fds = &fd, .nfds = 1};
  cr_expect_eq(cord_send(&c, &m), CORD_ETOOBIG, "the child declared max_fds 0");
  cord_proc_close(&c);
  close(peer);
}

Test(attach, refuses_what_is_not_a_stream_socket, .timeout = 10) {
  cord_proc_t c;
  int p[2];
  cr_assert_eq(pipe(p), 0);
  cr_expect_eq(cord_attach(&c, p[0], NULL), -ENOTSOCK);
  cr_expect_eq(cord_attach(&c, -1, NULL), -EBADF);
  close(p[0]);
  close(p[1]);
}
