/* fuzz_child.c: libFuzzer harness of the child SDK's whole receive path, after a valid handshake, with the protocol's invariants checked on every input. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord_child.h"
#include "open_fds.h"

/*
 * The input is what a parent writes after its Hello. Its first byte
 * chooses the child: bit 0 the 256-byte receive buffer (else 4 KiB), bit 1
 * batched sends, bit 2 two requests of the child's own once it is open.
 * The harness plays the parent on the other end of a socket pair: the
 * spec's parent Hello, the rest of the input, end of file; it reads and
 * drops what the child writes. The child answers every request, as a
 * program must.
 *
 * Checked on every input, beyond the sanitizers:
 *  - every span of an event lies inside the receive buffer;
 *  - each of the child's own requests has exactly one outcome: a reply,
 *    or CLOSED (REQ-2, REQ-9);
 *  - the receive loop ends, with 0 or a failure, within a bounded number
 *    of calls, and then keeps giving the same answer;
 *  - every descriptor the child received is closed in the end (FD-9).
 */

static const uint8_t hello_parent[] = {0x00, 0x00, 0x00, 0x26, 0x0a, 0x24, 0x0d, 0x43, 0x4f, 0x52, 0x44, 0x10,
                                       0x01, 0x18, 0x01, 0x20, 0x80, 0x80, 0x80, 0x20, 0x28, 0x10, 0x30, 0x01,
                                       0x38, 0x92, 0x21, 0x42, 0x06, 0x63, 0x6f, 0x72, 0x64, 0x2d, 0x63, 0x4a,
                                       0x05, 0x31, 0x2e, 0x30, 0x2e, 0x30};


#define CHECK(cond)                                                                              \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      fprintf(stderr, "fuzz_child: %s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                                   \
    }                                                                                            \
  } while (0)

static uint8_t rx[4096], tx[4096];
static int fdq[4];

static int inside(const void *p, size_t n, const uint8_t *buf, size_t cap) {
  const uint8_t *b = p;
  return !n || (b >= buf && b + n <= buf + cap);
}

/* The parent's reading side runs in its own thread, as a real parent reads
 * while its child writes (FLOW-1): the child may block in a write (FLOW-2),
 * and a step that answers hundreds of Pings one write each fills the
 * socket's queue before the step returns. */
struct drain {
  int fd;
  atomic_int stop;
};

static void *drain_main(void *arg) {
  struct drain *d = arg;
  char sink[8192];
  while (!atomic_load(&d->stop)) {
    struct pollfd p = {.fd = d->fd, .events = POLLIN};
    if (poll(&p, 1, 10) <= 0)
      continue;
    if (recv(d->fd, sink, sizeof sink, MSG_DONTWAIT) == 0)
      break;
  }
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int baseline = -1;
  if (size < 1 || size > 1 << 16)
    return 0;
  unsigned mode = data[0];
  data++;
  size--;
  if (baseline < 0)
    baseline = count_open_fds(0);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort();
  char num[16];
  snprintf(num, sizeof num, "%d", sv[1]);
  setenv("CORD_CHANNEL_FD", num, 1);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  /* The parent's side goes first and whole: its Hello and the input, then
   * its end of file; what does not fit in the socket is fed while the
   * child reads. */
  size_t off = 0;
  uint8_t *all = malloc(sizeof hello_parent + size);
  memcpy(all, hello_parent, sizeof hello_parent);
  memcpy(all + sizeof hello_parent, data, size);
  size_t total = sizeof hello_parent + size;
  int shut = 0;
  struct drain drain = {.fd = sv[0]};
  pthread_t drainer;
  if (pthread_create(&drainer, NULL, drain_main, &drain) != 0)
    abort();

  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = mode & 1 ? 256 : sizeof rx, .tx = tx, .tx_len = sizeof tx,
                         .fdq = fdq, .fdq_len = 4, .flags = mode & 2 ? CORD_CHAN_F_BATCH : 0};
  cord_chan_t ch;
  cord_chan_msg_t m;
  ssize_t k = send(sv[0], all, total, MSG_NOSIGNAL);
  off = k > 0 ? (size_t)k : 0;
  if (off == total) {
    shutdown(sv[0], SHUT_WR);
    shut = 1;
  }
  int r = cord_chan_open(&ch, &cfg);
  uint64_t ids[2] = {0, 0};
  int outcomes[2] = {0, 0};
  if (r == 0 && mode & 4 && !cord_chan_is_node(&ch)) {
    cord_chan_out_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
    for (int i = 0; i < 2; i++)
      if (cord_chan_request(&ch, &q, &ids[i]) != 0)
        ids[i] = 0;
  }
  int calls = 0;
  while (r == 0) {
    CHECK(++calls < 200000);
    if (!shut) {
      k = send(sv[0], all + off, total - off, MSG_NOSIGNAL);
      off += k > 0 ? (size_t)k : 0;
      if (off == total) {
        shutdown(sv[0], SHUT_WR);
        shut = 1;
      }
    }
    r = cord_chan_step(&ch, &m);
    if (r == -EAGAIN) {
      r = 0;
      continue;
    }
    if (r <= 0)
      break;
    r = 0;
    CHECK(inside(m.data.ptr, m.data.len, rx, sizeof rx) && inside(m.type_name.ptr, m.type_name.len, rx, sizeof rx));
    for (unsigned i = 0; i < m.nfds; i++)
      close(m.fds[i]);
    if (m.type == CORD_CHAN_EV_MESSAGE && m.reply_to)
      for (int i = 0; i < 2; i++)
        if (ids[i] == m.reply_to)
          outcomes[i]++;
    if (m.type == CORD_CHAN_EV_CLOSED)
      for (int i = 0; i < 2; i++)
        if (ids[i] == m.reply_to)
          outcomes[i]++;
    if (m.type == CORD_CHAN_EV_MESSAGE && m.id)
      (void)cord_chan_reply(&ch, m.id, NULL);
  }
  if (r <= 0 && r != -EAGAIN) {
    /* Ended: the same answer again. */
    int again = cord_chan_step(&ch, &m);
    CHECK(again == r || (r == 0 && again == 0));
  }
  for (int i = 0; i < 2; i++)
    CHECK(!ids[i] || outcomes[i] == 1);
  cord_chan_close(&ch);
  atomic_store(&drain.stop, 1);
  pthread_join(drainer, NULL);
  close(sv[0]);
  free(all);
  CHECK(count_open_fds(0) == baseline);
  return 0;
}
