/* fuzz_child_node.c: libFuzzer harness of the child SDK's Node.js binding: its NODE-7 scanner on each input alone, and the whole receive path, handles with descriptors included. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord_child.h"
#include "open_fds.h"
#include "cord_child_int.h"

/*
 * The input is what a Node.js parent writes. Its first byte chooses: bit 0
 * a 256-byte receive buffer (else 4 KiB), bit 1 batched sends, bit 2 the
 * child sends a socket as a handle once open (so that the hold until the
 * parent's answer is fuzzed), bits 3-4 the descriptor queue (0..3). The
 * rest is split at each byte 0xfe into writes; each write that follows a
 * 0xfe carries one descriptor, cycling through a listening TCP socket, a
 * connected stream socket, a UDP socket and a pipe, so that each handle
 * type meets each kind. The child echoes every message, with its handle.
 *
 * Checked on every input, beyond the sanitizers: the scanner answers 0..4
 * without reading outside the line; every span lies inside the receive
 * buffer; at most one descriptor comes with a message; the loop ends; and
 * every descriptor the child received is closed in the end.
 */

#define CHECK(cond)                                                                              \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      fprintf(stderr, "fuzz_child_node: %s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                                   \
    }                                                                                            \
  } while (0)

static uint8_t rx[4096], tx[4096];
static int fdq[3];
static int kinds[4] = {-1, -1, -1, -1};


static void setup_kinds(void) {
  int sp[2], pp[2];
  kinds[0] = socket(AF_INET, SOCK_STREAM, 0);
  if (kinds[0] < 0 || listen(kinds[0], 1) || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || pipe(pp))
    abort();
  kinds[1] = sp[0];
  kinds[2] = socket(AF_INET, SOCK_DGRAM, 0);
  kinds[3] = pp[0];
  /* sp[1] and pp[1] are kept open for the whole run. */
}

static int inside(const void *p, size_t n) {
  const uint8_t *b = p;
  return !n || (b >= rx && b + n <= rx + sizeof rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int baseline = -1;
  uint8_t *exact = malloc(size ? size : 1);
  memcpy(exact, data, size);
  int s = cord__node_internal(exact, size, NULL);
  free(exact);
  CHECK(s >= 0 && s <= 4);
  if (size < 1 || size > 1 << 14)
    return 0;
  if (kinds[0] < 0)
    setup_kinds();
  unsigned mode = data[0];
  data++;
  size--;
  if (baseline < 0)
    baseline = count_open_fds(1);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort();
  char num[16];
  snprintf(num, sizeof num, "%d", sv[1]);
  unsetenv("CORD_CHANNEL_FD");
  setenv("NODE_CHANNEL_FD", num, 1);
  setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);

  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = mode & 1 ? 256 : sizeof rx, .tx = tx, .tx_len = sizeof tx,
                         .fdq = fdq, .fdq_len = (mode >> 3) & 3, .flags = mode & 2 ? CORD_CHAN_F_BATCH : 0};
  cord_chan_t ch;
  cord_chan_msg_t m;
  if (cord_chan_open(&ch, &cfg) != 0)
    abort();
  if (mode & 4) {
    cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = "{}", .len = 2, .fds = &kinds[1], .nfds = 1};
    CHECK(cord_chan_send(&ch, &o) == 0);
  }
  size_t off = 0, seg = 0;
  int shut = 0, calls = 0, r;
  for (;;) {
    CHECK(++calls < 200000);
    /* The next write: up to the next 0xfe, with a descriptor if one began it. */
    while (!shut) {
      size_t end = off;
      while (end < size && data[end] != 0xfe)
        end++;
      struct iovec v = {.iov_base = (void *)(data + off), .iov_len = end - off};
      union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
      } u;
      struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1};
      if (seg && end > off) {
        memset(&u, 0, sizeof u);
        h.msg_control = u.b;
        h.msg_controllen = sizeof u.b;
        u.h.cmsg_level = SOL_SOCKET;
        u.h.cmsg_type = SCM_RIGHTS;
        u.h.cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(&u.h), &kinds[seg % 4], sizeof(int));
      }
      ssize_t k = end > off ? sendmsg(sv[0], &h, MSG_NOSIGNAL) : 0;
      if (k < 0)
        break; /* full: the child reads first */
      off += (size_t)k;
      if (off < end)
        break;
      if (end == size) {
        shutdown(sv[0], SHUT_WR);
        shut = 1;
      } else {
        off = end + 1;
        seg++;
      }
    }
    char sink[8192];
    while (recv(sv[0], sink, sizeof sink, 0) > 0)
      ;
    r = cord_chan_step(&ch, &m);
    if (r == -EAGAIN)
      continue;
    if (r <= 0)
      break;
    CHECK(inside(m.data.ptr, m.data.len) && inside(m.type_name.ptr, m.type_name.len));
    CHECK(m.nfds <= 1);
    if (m.type == CORD_CHAN_EV_MESSAGE) {
      cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = m.data.ptr, .len = m.data.len, .fds = m.fds,
                           .nfds = m.nfds, .type_name = (const char *)m.type_name.ptr,
                           .type_name_len = m.type_name.len};
      (void)cord_chan_send(&ch, &o);
    }
    for (unsigned i = 0; i < m.nfds; i++)
      close(m.fds[i]);
  }
  CHECK(cord_chan_step(&ch, &m) == r);
  cord_chan_close(&ch);
  close(sv[0]);
  CHECK(count_open_fds(1) == baseline);
  return 0;
}
