/* test_node_handles.c: handles on the Node.js binding: taken, refused, stray, flooded, and sent with the hold until the parent's answer (spec NODE-8, NODE-14..NODE-16). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord_child_int.h"
#include "fake_parent.h"
#include "open_fds.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

#define RAW(fd, s) fp_raw((fd), (s), strlen(s))
#define ACK "{\"cmd\":\"NODE_HANDLE_ACK\"}"
#define NACK "{\"cmd\":\"NODE_HANDLE_NACK\"}"

static int node(size_t tx_len, unsigned fdq_len, unsigned flags) {
  int p = fp_channel(1, NULL);
  cr_assert_eq(fp_child_open(&ch, 1024, tx_len, fdq_len, flags), 0);
  return p;
}

/* A NODE_HANDLE line of this type around msg, with fd on its first byte (fd < 0: none). */
static void handle(int p, const char *type, const char *msg, int fd) {
  char line[512];
  int n = snprintf(line, sizeof line, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"%s\",\"msg\":%s}\n", type, msg);
  fp_raw_fds(p, line, (size_t)n, &fd, fd >= 0);
}

static int tcp_listener(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !listen(fd, 4));
  return fd;
}

static int udp(int family) {
  int fd = socket(family, SOCK_DGRAM, 0);
  cr_assert_geq(fd, 0);
  return fd;
}

static void expect_answer(int p, const char *want) {
  char buf[64];
  cr_assert_gt(fp_line(p, buf, sizeof buf), 0, "waiting for %s", want);
  cr_expect_str_eq(buf, want);
}

static void expect_message(const char *json, unsigned nfds) {
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_assert_eq(m.type, CORD_CHAN_EV_MESSAGE, "type %d", m.type);
  cr_expect_eq(m.data.len, strlen(json), "[%.*s] for [%s]", (int)m.data.len, m.data.ptr, json);
  cr_expect_arr_eq(m.data.ptr, json, strlen(json));
  cr_expect_eq(m.nfds, nfds);
}

static void expect_refused(void) {
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_assert_eq(m.type, CORD_CHAN_EV_ERROR, "NODE-16: a refusal is reported");
  cr_expect_eq(m.status, 1010u, "UNSUPPORTED");
  cr_expect(m.data.len > 0 && !memcmp(m.data.ptr, "{\"cmd\":\"NODE_HANDLE\"", 20), "the report carries the line");
}

Test(node_handles, each_type_takes_the_descriptor_it_names, .timeout = 10) {
  int p = node(1024, 4, 0), sp[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  int fds[] = {tcp_listener(), sp[0], tcp_listener(), sp[0], udp(AF_INET), udp(AF_INET6)};
  const char *types[] = {"net.Server", "net.Socket", "net.Native", "net.Native", "dgram.Socket", "dgram.Native"};
  for (int i = 0; i < 6; i++) {
    char msg[16];
    snprintf(msg, sizeof msg, "{\"i\":%d}", i);
    handle(p, types[i], msg, fds[i]);
    expect_message(msg, 1);
    cr_expect_eq(m.type_name.len, strlen(types[i]), "the handle's type is the message's type_name");
    cr_expect_arr_eq(m.type_name.ptr, types[i], strlen(types[i]));
    expect_answer(p, ACK);
    cr_expect_neq(m.fds[0], fds[i], "a descriptor of the program's own");
    cr_expect_eq(fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "close-on-exec");
    close(m.fds[0]);
  }
  for (int i = 0; i < 6; i++)
    if (i != 3)
      close(fds[i]);
  close(sp[1]);
}

Test(node_handles, a_descriptor_that_is_not_its_type_is_refused_closed_reported, .timeout = 10) {
  int p = node(1024, 4, 0), sp[2], dg[2], pp[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
  cr_assert_eq(pipe(pp), 0);
  int base = count_open_fds(0);
  int fds[] = {sp[0], tcp_listener(), udp(AF_INET), dg[0], pp[0], sp[0]};
  const char *types[] = {"net.Server", "net.Socket", "net.Native", "dgram.Socket", "net.Socket", "tty.Wrap"};
  for (int i = 0; i < 6; i++) {
    char msg[16];
    snprintf(msg, sizeof msg, "{\"i\":%d}", i);
    handle(p, types[i], msg, fds[i]);
    expect_refused();
    expect_message(msg, 0); /* NODE-16: no message lost */
    expect_answer(p, NACK);
  }
  close(fds[1]);
  close(fds[2]);
  cr_expect_eq(count_open_fds(0), base, "every refused descriptor was closed");
  close(pp[0]); /* the last reader, unless the child kept a copy */
  signal(SIGPIPE, SIG_IGN);
  cr_expect_eq(write(pp[1], "x", 1), -1, "the refused pipe was closed");
  cr_expect_eq(errno, EPIPE);
}

Test(node_handles, no_descriptor_or_no_message_of_the_program, .timeout = 10) {
  int p = node(1024, 4, 0), l = tcp_listener();
  int base = count_open_fds(0);
  handle(p, "net.Server", "{\"a\":1}", -1);
  expect_refused();
  expect_message("{\"a\":1}", 0);
  expect_answer(p, NACK);
  /* Node.js's resend of a refused net.Socket wraps the message once more:
   * internal, so only the report comes, and the descriptor is closed. */
  handle(p, "net.Server", "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":1}", l);
  RAW(p, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\"}\n[2]\n");
  expect_refused();
  expect_answer(p, NACK);
  expect_refused();
  expect_answer(p, NACK);
  expect_message("[2]", 0);
  cr_expect_eq(count_open_fds(0), base, "the descriptor was closed");
  close(l);
}

Test(node_handles, a_descriptor_with_no_node_handle_is_closed, .timeout = 10) {
  int p = node(1024, 4, 0), l = tcp_listener();
  int base = count_open_fds(0);
  fp_raw_fds(p, "{\"a\":1}\n", 8, &l, 1); /* NODE-16: no NODE_HANDLE, so a stray */
  RAW(p, "[2]\n");
  handle(p, "net.Server", "{}", -1);
  expect_message("{\"a\":1}", 0);
  expect_message("[2]", 0);
  cr_expect_eq(count_open_fds(0), base, "closed when the next line began");
  expect_refused(); /* the stray is not this handle's */
  expect_message("{}", 0);
  expect_answer(p, NACK);
  close(l);
}

Test(node_handles, a_flood_of_handles_holds_two_descriptors_at_most, .timeout = 20) {
  int p = node(1024, 4, 0), l = tcp_listener();
  int base = count_open_fds(0), took = 0, refused = 0;
  /* A peer that does not wait for answers: 100 handles, written before the child reads any. */
  for (int i = 0; i < 100; i++)
    handle(p, "net.Server", "{}", l);
  shutdown(p, SHUT_WR);
  int most = 0;
  while (cord_chan_recv(&ch, &m) > 0) {
    int now = count_open_fds(0) - base;
    most = now > most ? now : most;
    if (m.type == CORD_CHAN_EV_MESSAGE) {
      took += m.nfds;
      refused += !m.nfds;
      for (unsigned i = 0; i < m.nfds; i++)
        close(m.fds[i]);
    }
  }
  cr_expect_leq(most, 3, "two waiting and one handed over, at most: %d", most);
  cr_expect_eq(took + refused, 100, "every message delivered, with or without its descriptor");
  cr_expect_geq(took, 1);
  cr_expect_eq(cord_chan_close(&ch), 0);
  cr_expect_eq(count_open_fds(0), base - 1, "nothing left open but the channel, now closed");
  char buf[64];
  int answers = 0;
  while (fp_line(p, buf, sizeof buf) > 0)
    answers++;
  cr_expect_eq(answers, 100, "each handle answered once");
  close(l);
}

Test(node_handles, a_handle_line_too_long_is_answered_nack, .timeout = 10) {
  static char big[3000];
  int p = node(1024, 4, 0), l = tcp_listener();
  int base = count_open_fds(0);
  int n = snprintf(big, sizeof big, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":\"%02000d\"}\n", 0);
  fp_raw_fds(p, big, (size_t)n, &l, 1);
  RAW(p, "[3]\n");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_ERROR);
  cr_expect_eq(m.status, 1001u, "NODE-6");
  expect_message("[3]", 0);
  expect_answer(p, NACK);
  cr_expect_eq(count_open_fds(0), base, "its descriptor was closed");
  close(l);
}

/* Reads one line with the descriptors that came with it. */
static int line_fds(int p, char *buf, size_t cap, int *fd) {
  struct pollfd pf = {.fd = p, .events = POLLIN};
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int) * 4)];
  } u;
  struct iovec v = {.iov_base = buf, .iov_len = cap - 1};
  struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  cr_assert_eq(poll(&pf, 1, FP_TIMEOUT_MS), 1, "no line from the child");
  ssize_t n = recvmsg(p, &h, MSG_CMSG_CLOEXEC);
  cr_assert_gt(n, 0);
  buf[n] = 0;
  *fd = -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&h);
  if (c && c->cmsg_type == SCM_RIGHTS)
    memcpy(fd, CMSG_DATA(c), sizeof *fd);
  return (int)n;
}

Test(node_handles, a_socket_is_sent_as_its_type_and_later_sends_wait_for_the_answer, .timeout = 10) {
  int p = node(1024, 4, 0), sp[2], l = tcp_listener(), u4 = udp(AF_INET), u6 = udp(AF_INET6);
  char buf[256];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  struct {
    int fd;
    const char *type, *line;
  } cases[] = {
      {l, NULL, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":{\"n\":0}}\n"},
      {sp[0], NULL, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"n\":1}}\n"},
      {u4, NULL, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Socket\",\"msg\":{\"n\":2},\"dgramType\":\"udp4\"}\n"},
      {u6, NULL, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Socket\",\"msg\":{\"n\":3},\"dgramType\":\"udp6\"}\n"},
      {l, "net.Native", "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"n\":4}}\n"},
  };
  for (int i = 0; i < 5; i++) {
    char msg[16];
    cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = msg, .fds = &cases[i].fd, .nfds = 1,
                         .type_name = cases[i].type};
    o.len = (size_t)snprintf(msg, sizeof msg, "{\"n\":%d}", i);
    cr_assert_eq(cord_chan_send(&ch, &o), 0);
    /* NODE-15: held until the answer; a second handle cannot go yet. */
    cr_expect_eq(cord_chan_send_json(&ch, "\"after\"", 7), 0, "queued");
    cr_expect_eq(cord_chan_send(&ch, &o), -EAGAIN);
    cr_expect_eq(cord_chan_flush(&ch), -EAGAIN, "nothing is written before the answer");
    int fd;
    line_fds(p, buf, sizeof buf, &fd);
    cr_expect_str_eq(buf, cases[i].line, "NODE-14");
    cr_expect_geq(fd, 0, "the descriptor rides with the line");
    close(fd);
    struct pollfd pf = {.fd = p, .events = POLLIN};
    cr_expect_eq(poll(&pf, 1, 0), 0, "nothing follows before the answer");
    RAW(p, i == 2 ? NACK "\n" : ACK "\n");
    cr_assert_eq(cord_chan_recv(&ch, &m), 1);
    cr_expect_eq(m.type, CORD_CHAN_EV_HANDLE, "the answer is reported");
    cr_expect_eq(m.status, i == 2 ? 1010u : 0u);
    cr_expect_eq(fp_line(p, buf, sizeof buf), 7, "what waited goes once the answer came");
    cr_expect_str_eq(buf, "\"after\"");
  }
  close(l);
  close(u4);
  close(u6);
  close(sp[0]);
  close(sp[1]);
}

Test(node_handles, what_is_no_handle_is_not_sent, .timeout = 10) {
  int p = node(1024, 4, 0), sp[2], pp[2], dg[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
  cr_assert_eq(pipe(pp), 0);
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .nfds = 1};
  /* NODE-14: Node.js aborts on a descriptor that is no socket it takes. */
  o.fds = &pp[0];
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ENODE, "a pipe");
  o.fds = &dg[0];
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ENODE, "an AF_UNIX datagram socket");
  o.fds = &sp[0];
  o.type_name = "net.Server";
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ENODE, "a connected socket named a net.Server");
  o.type_name = "fs.File";
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ENODE, "a type Node.js does not have");
  o.type_name = NULL;
  o.data = "{\"cmd\":\"NODE_X\"}";
  o.len = 16;
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ENODE, "NODE-7: an internal message");
  /* Nothing was sent: the next line is a plain one. */
  char buf[64];
  cr_assert_eq(cord_chan_send_json(&ch, "2", 1), 0);
  cr_assert_eq(fp_line(p, buf, sizeof buf), 1);
  cr_expect_str_eq(buf, "2");
}

Test(node_handles, while_held_a_send_that_does_not_fit_is_eagain, .timeout = 10) {
  int p = node(256, 4, 0), sp[2];
  char buf[256], big[200];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .fds = &sp[0], .nfds = 1};
  cr_assert_eq(cord_chan_send(&ch, &o), 0);
  memset(big, '7', sizeof big);
  cr_expect_eq(cord_chan_send_json(&ch, big, 150), 0, "queued in the transmit buffer");
  cr_expect_eq(cord_chan_send_json(&ch, big, 150), -EAGAIN, "no room behind it: receive until the answer");
  RAW(p, "[5]\n" ACK "\n");
  expect_message("[5]", 0);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_HANDLE);
  cr_expect_eq(cord_chan_send_json(&ch, big, 150), 0, "room again");
  cr_assert_gt(fp_line(p, buf, sizeof buf), 0); /* the handle */
  cr_expect_eq(fp_line(p, buf, sizeof buf), 150);
  cr_expect_eq(fp_line(p, buf, sizeof buf), 150);
  close(sp[0]);
  close(sp[1]);
}

Test(node_handles, close_writes_what_waits_once_the_answer_comes, .timeout = 10) {
  int p = node(1024, 4, 0), sp[2];
  char buf[256];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .fds = &sp[0], .nfds = 1};
  cr_assert_eq(cord_chan_send(&ch, &o), 0);
  cr_assert_eq(cord_chan_send_json(&ch, "\"last\"", 6), 0);
  RAW(p, "[6]\n" ACK "\n");
  cr_expect_eq(cord_chan_close(&ch), 0, "END-7: closing reads until the answer");
  cr_assert_gt(fp_line(p, buf, sizeof buf), 0);
  cr_expect_eq(fp_line(p, buf, sizeof buf), 6);
  cr_expect_str_eq(buf, "\"last\"");
  cr_expect_eq(fp_line(p, buf, sizeof buf), -1);
  close(sp[0]);
  close(sp[1]);
}

Test(node_handles, the_parts_of_a_handle_line, .timeout = 10) {
  static const struct {
    const char *line, *type, *msg;
  } cases[] = {
      {"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":{\"a\":[1,{\"b\":\"},\"}]}}", "net.Server", "{\"a\":[1,{\"b\":\"},\"}]}"},
      {"{ \"msg\" : \"x,y\" , \"type\" : \"net.Socket\" , \"cmd\" : \"NODE_HANDLE\" }", "net.Socket", "\"x,y\""},
      {"{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Socket\",\"msg\":42,\"dgramType\":\"udp4\"}", "dgram.Socket", "42"},
      {"{\"cmd\":\"NODE_HANDLE\",\"msg\":1,\"msg\":[2],\"type\":7}", "", "[2]"},
      {"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":{\"cut\"", "net.Server", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cord__node_parts_t h;
    const char *l = cases[i].line;
    cr_expect_eq(cord__node_internal((const uint8_t *)l, strlen(l), &h), CORD__NODE_HANDLE, "%s", l);
    cr_expect_eq(h.type_len, strlen(cases[i].type), "%s", l);
    cr_expect_arr_eq(l + h.type_off, cases[i].type, h.type_len);
    cr_expect_eq(h.msg_len, strlen(cases[i].msg), "%s: [%.*s]", l, (int)h.msg_len, l + h.msg_off);
    cr_expect_arr_eq(l + h.msg_off, cases[i].msg, h.msg_len);
  }
}
