/* fake_parent.c: a scripted Cord parent for the child SDK's tests: raw sockets and protobuf-c frames. */
#define _GNU_SOURCE
#include "fake_parent.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

uint8_t fp_rx[1 << 17], fp_tx[1 << 17];
static int fp_fdq[64];

int fp_channel(int node, int *child_fd) {
  int sv[2];
  char num[16];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  /* Moved above 2, not close-on-exec, as a parent places it [CHAN-3]. */
  int c = fcntl(sv[1], F_DUPFD, 3);
  cr_assert_geq(c, 3);
  close(sv[1]);
  snprintf(num, sizeof num, "%d", c);
  unsetenv("CORD_CHANNEL_FD");
  unsetenv("NODE_CHANNEL_FD");
  unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
  if (node) {
    setenv("NODE_CHANNEL_FD", num, 1);
    setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
  } else {
    setenv("CORD_CHANNEL_FD", num, 1);
  }
  if (child_fd)
    *child_fd = c;
  return sv[0];
}

void fp_raw(int fd, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n) {
    ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    cr_assert_gt(r, 0, "parent write failed: %s", strerror(errno));
    p += r;
    n -= (size_t)r;
  }
}

size_t fp_pack(const Cord__V1__Frame *f, uint8_t *out, size_t cap) {
  size_t n = cord__v1__frame__get_packed_size(f);
  cr_assert_leq(n + 4, cap);
  out[0] = (uint8_t)(n >> 24);
  out[1] = (uint8_t)(n >> 16);
  out[2] = (uint8_t)(n >> 8);
  out[3] = (uint8_t)n;
  cord__v1__frame__pack(f, out + 4);
  return n + 4;
}

void fp_put(int fd, const Cord__V1__Frame *f) {
  static uint8_t buf[1 << 18];
  fp_raw(fd, buf, fp_pack(f, buf, sizeof buf));
}

void fp_hello_ex(int fd, uint32_t min_v, uint32_t max_v, uint32_t max_frame, uint32_t max_fds) {
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  h.magic = FP_MAGIC;
  h.min_version = min_v;
  h.max_version = max_v;
  h.max_frame = max_frame;
  h.max_fds = max_fds;
  h.capabilities = 1;
  h.pid = 4242;
  h.impl_name = "fake-parent";
  h.impl_version = "0";
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  fp_put(fd, &f);
}

void fp_hello(int fd) { fp_hello_ex(fd, 1, 1, 1u << 20, 16); }

static void msg_frame(Cord__V1__Frame *f, Cord__V1__Message *m, Cord__V1__Typed *t, uint64_t id,
                      uint64_t reply_to, uint32_t status, int kind, const char *type,
                      const void *data, size_t len) {
  m->id = id;
  m->reply_to = reply_to;
  m->status = status;
  switch (kind) {
  case 5:
    t->type = (char *)type;
    t->value.data = (uint8_t *)data;
    t->value.len = len;
    m->payload_case = CORD__V1__MESSAGE__PAYLOAD_TYPED;
    m->typed = t;
    break;
  case 6: {
    /* protobuf-c wants a NUL-terminated string. */
    static char text[1 << 17];
    cr_assert_lt(len, sizeof text);
    memcpy(text, data, len);
    text[len] = 0;
    m->payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
    m->json = text;
    break;
  }
  case 7:
    m->payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
    m->raw.data = (uint8_t *)data;
    m->raw.len = len;
    break;
  default:
    break;
  }
  f->body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f->message = m;
}

void fp_msg(int fd, uint64_t id, uint64_t reply_to, uint32_t status, int kind, const char *type,
            const void *data, size_t len) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  Cord__V1__Typed t = CORD__V1__TYPED__INIT;
  msg_frame(&f, &m, &t, id, reply_to, status, kind, type, data, len);
  fp_put(fd, &f);
}

void fp_json(int fd, uint64_t id, const char *json) { fp_msg(fd, id, 0, 0, 6, NULL, json, strlen(json)); }

void fp_raw_fds(int fd, const void *buf, size_t n, const int *fds, unsigned nfds) {
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int) * 64)];
  } u;
  struct iovec v;
  struct msghdr h;
  cr_assert_leq(nfds, 64u);
  memset(&h, 0, sizeof h);
  memset(&u, 0, sizeof u);
  v.iov_base = (void *)buf;
  v.iov_len = n;
  h.msg_iov = &v;
  h.msg_iovlen = 1;
  if (nfds) {
    h.msg_control = u.b;
    h.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    u.h.cmsg_level = SOL_SOCKET;
    u.h.cmsg_type = SCM_RIGHTS;
    u.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(&u.h), fds, sizeof(int) * nfds);
  }
  cr_assert_eq(sendmsg(fd, &h, MSG_NOSIGNAL), (ssize_t)n);
}

void fp_msg_fds(int fd, uint64_t id, uint64_t reply_to, uint32_t announced, const int *fds,
                unsigned nfds) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  uint8_t buf[256];
  m.id = id;
  m.reply_to = reply_to;
  m.fds = announced;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
  m.raw.data = (uint8_t *)"fd";
  m.raw.len = 2;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &m;
  fp_raw_fds(fd, buf, fp_pack(&f, buf, sizeof buf), fds, nfds);
}

static void scalar(int fd, Cord__V1__Frame__BodyCase body, uint64_t v) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Cancel c = CORD__V1__CANCEL__INIT;
  Cord__V1__Ping p = CORD__V1__PING__INIT;
  Cord__V1__Pong q = CORD__V1__PONG__INIT;
  Cord__V1__Goodbye g = CORD__V1__GOODBYE__INIT;
  f.body_case = body;
  c.id = v;
  p.nonce = v;
  q.nonce = v;
  g.reason = CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN;
  f.cancel = &c;
  if (body == CORD__V1__FRAME__BODY_PING)
    f.ping = &p;
  if (body == CORD__V1__FRAME__BODY_PONG)
    f.pong = &q;
  if (body == CORD__V1__FRAME__BODY_GOODBYE)
    f.goodbye = &g;
  fp_put(fd, &f);
}

void fp_cancel(int fd, uint64_t id) { scalar(fd, CORD__V1__FRAME__BODY_CANCEL, id); }
void fp_ping(int fd, uint64_t nonce) { scalar(fd, CORD__V1__FRAME__BODY_PING, nonce); }
void fp_pong(int fd, uint64_t nonce) { scalar(fd, CORD__V1__FRAME__BODY_PONG, nonce); }
void fp_goodbye(int fd) { scalar(fd, CORD__V1__FRAME__BODY_GOODBYE, 0); }

void fp_error(int fd, uint32_t code, const char *detail) {
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Error e = CORD__V1__ERROR__INIT;
  e.code = code;
  e.detail = (char *)detail;
  f.body_case = CORD__V1__FRAME__BODY_ERROR;
  f.error = &e;
  fp_put(fd, &f);
}

/* Reads exactly n bytes unless end of file comes first; returns the
 * count. Collects descriptors that come with the bytes. */
static size_t readn(int fd, uint8_t *buf, size_t n, int *fds, unsigned *nfds) {
  size_t got = 0;
  while (got < n) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    union {
      struct cmsghdr h;
      char b[CMSG_SPACE(sizeof(int) * 64)];
    } u;
    struct iovec v = {.iov_base = buf + got, .iov_len = n - got};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    cr_assert_eq(poll(&p, 1, FP_TIMEOUT_MS), 1, "the child wrote nothing for %d ms", FP_TIMEOUT_MS);
    ssize_t r = recvmsg(fd, &h, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == ECONNRESET)
      r = 0;
    cr_assert_geq(r, 0, "parent read failed: %s", strerror(errno));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      int *in = (int *)CMSG_DATA(c);
      for (unsigned i = 0; i < k; i++) {
        if (fds && nfds)
          fds[(*nfds)++] = in[i];
        else
          close(in[i]);
      }
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return got;
}

Cord__V1__Frame *fp_get_fds(int fd, int *fds_out, unsigned *nfds) {
  static uint8_t buf[1 << 18];
  size_t n = readn(fd, buf, 4, fds_out, nfds), len;
  Cord__V1__Frame *f;
  if (n == 0)
    return NULL;
  cr_assert_eq(n, 4, "the child's stream ended inside a prefix");
  len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
  cr_assert_leq(len, sizeof buf - 4, "the child sent a frame of %zu bytes", len);
  cr_assert_eq(readn(fd, buf + 4, len, fds_out, nfds), len, "the child's stream ended inside a frame");
  f = cord__v1__frame__unpack(NULL, len, buf + 4);
  cr_assert_not_null(f, "protobuf-c cannot decode the child's frame of %zu bytes", len);
  return f;
}

Cord__V1__Frame *fp_get(int fd) { return fp_get_fds(fd, NULL, NULL); }

void fp_free(Cord__V1__Frame *f) {
  if (f)
    cord__v1__frame__free_unpacked(f, NULL);
}

Cord__V1__Frame *fp_expect(int fd, Cord__V1__Frame__BodyCase body) {
  Cord__V1__Frame *f = fp_get(fd);
  cr_assert_not_null(f, "end of file where a frame of kind %d was expected", body);
  cr_assert_eq(f->body_case, body, "frame of kind %d where %d was expected", f->body_case, body);
  return f;
}

void fp_expect_eof(int fd) {
  Cord__V1__Frame *f = fp_get(fd);
  cr_assert_null(f, "a frame of kind %d where end of file was expected", f ? f->body_case : 0);
}

int fp_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    uint8_t c;
    if (readn(fd, &c, 1, NULL, NULL) == 0)
      return n ? (int)n : -1;
    if (c == '\n')
      break;
    cr_assert_lt(n + 1, cap);
    buf[n++] = (char)c;
  }
  buf[n] = 0;
  return (int)n;
}

int fp_child_open(cord_chan_t *ch, size_t rx_len, size_t tx_len, unsigned fdq_len, unsigned flags) {
  cord_chan_cfg_t cfg = {.rx = fp_rx, .rx_len = rx_len, .tx = fp_tx, .tx_len = tx_len,
                         .fdq = fdq_len ? fp_fdq : NULL, .fdq_len = fdq_len, .flags = flags};
  return cord_chan_open(ch, &cfg);
}

int fp_start(cord_chan_t *ch, size_t rx_len) {
  int p = fp_channel(0, NULL);
  fp_hello(p);
  int r = fp_child_open(ch, rx_len, sizeof fp_tx, 8, 0);
  cr_assert_eq(r, 0, "open: %s: %s", cord_strerror(r), cord_chan_detail(ch));
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  return p;
}

int fp_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }
