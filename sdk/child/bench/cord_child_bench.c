/* cord_child_bench.c: measures at run time what libcord-child needs: stack high-water per phase, allocations, and its structs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#include "alloc_counter.h"
#include "cord_child.h"

/*
 * Each phase runs on its own stack, painted with a pattern first; the
 * deepest byte no longer holding the pattern afterwards is the phase's
 * high-water mark. It counts everything the phase called: the SDK, the
 * nanopb runtime and the C library's wrappers.
 */
#define STACK 65536
#define PAINT 0xa5

static uint8_t stack[STACK];
static ucontext_t back, phase_ctx;
static cord_chan_t ch;
static cord_chan_msg_t m;
static int parent = -1, failures;
CORD_CHAN_BUFFER(rx, 256);
CORD_CHAN_BUFFER(tx, 256);

/* Frames of the spec's appendix A, byte for byte. */
static const uint8_t hello_parent[] = {0x00, 0x00, 0x00, 0x26, 0x0a, 0x24, 0x0d, 0x43, 0x4f, 0x52, 0x44, 0x10,
                                       0x01, 0x18, 0x01, 0x20, 0x80, 0x80, 0x80, 0x20, 0x28, 0x10, 0x30, 0x01,
                                       0x38, 0x92, 0x21, 0x42, 0x06, 0x63, 0x6f, 0x72, 0x64, 0x2d, 0x63, 0x4a,
                                       0x05, 0x31, 0x2e, 0x30, 0x2e, 0x30};
static const uint8_t request_typed[] = {0x00, 0x00, 0x00, 0x1a, 0x12, 0x18, 0x08, 0x01, 0x2a, 0x14,
                                        0x0a, 0x0e, 'e',  'x',  'a',  'm',  'p',  'l',  'e',  '.',
                                        'v',  '1',  '.',  'J',  'o',  'b',  0x12, 0x02, 0x08, 0x2a};
static const uint8_t ping[] = {0x00, 0x00, 0x00, 0x04, 0x22, 0x02, 0x08, 0x07};
static const uint8_t goodbye[] = {0x00, 0x00, 0x00, 0x02, 0x32, 0x00};

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "bench: %s failed\n", what);
    failures++;
  }
}

static void channel(int node) {
  int sv[2];
  char num[16];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
    perror("socketpair");
    exit(1);
  }
  int c = fcntl(sv[1], F_DUPFD, 3);
  close(sv[1]);
  parent = sv[0];
  snprintf(num, sizeof num, "%d", c);
  setenv(node ? "NODE_CHANNEL_FD" : "CORD_CHANNEL_FD", num, 1);
  if (node)
    setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
}

static void put(const void *b, size_t n) {
  if (write(parent, b, n) != (ssize_t)n)
    exit(1);
}

/* Phase 1: find the channel, send the Hello, check the parent's. */
static void phase_open(void) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  check(cord_chan_open(&ch, &cfg) == 0, "open");
}

/* Phase 2: a typed request decoded into a struct and answered from a
 * struct, a Ping answered inside, the Goodbye, the close. */
static void phase_cycle(void) {
  cord_v1_Ping job = cord_v1_Ping_init_zero;
  cord_v1_Pong result = {.nonce = 43};
  cord_chan_out_t out = {.payload = CORD_PAYLOAD_TYPED, .type_name = "example.v1.Result",
                         .fields = cord_v1_Pong_fields, .src = &result};
  check(cord_chan_recv(&ch, &m) == 1 && m.id == 1, "receive");
  check(cord_chan_decode_typed(&m, "example.v1.Job", cord_v1_Ping_fields, &job) == 0 && job.nonce == 42,
        "decode");
  check(cord_chan_reply(&ch, m.id, &out) == 0, "reply");
  check(cord_chan_recv(&ch, &m) == 0, "ping and goodbye");
  check(cord_chan_close(&ch) == 0, "close");
}

/* Writes bytes with one descriptor on their first byte, as Node.js passes a handle. */
static void put_fd(const void *b, size_t n, int fd) {
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int))];
  } u;
  struct iovec v = {.iov_base = (void *)b, .iov_len = n};
  struct msghdr mh = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  memset(&u, 0, sizeof u);
  u.h.cmsg_level = SOL_SOCKET;
  u.h.cmsg_type = SCM_RIGHTS;
  u.h.cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(&u.h), &fd, sizeof fd);
  if (sendmsg(parent, &mh, 0) != (ssize_t)n)
    exit(1);
}

/* Phase 3: the Node.js binding: a handle taken and passed back, a line in
 * and out while the parent's answer is awaited, the answer, the end. */
static void phase_node(void) {
  static int fdq[1];
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx, .fdq = fdq, .fdq_len = 1};
  check(cord_chan_open(&ch, &cfg) == 0, "node open");
  check(cord_chan_recv(&ch, &m) == 1 && m.nfds == 1, "node receive a handle");
  cord_chan_out_t again = {.payload = CORD_PAYLOAD_JSON, .data = m.data.ptr, .len = m.data.len, .fds = m.fds, .nfds = 1};
  check(cord_chan_send(&ch, &again) == 0, "node send a handle");
  close(m.fds[0]);
  check(cord_chan_recv(&ch, &m) == 1, "node receive");
  check(cord_chan_send_json(&ch, (const char *)m.data.ptr, m.data.len) == 0, "node send");
  check(cord_chan_recv(&ch, &m) == 1 && m.type == CORD_CHAN_EV_HANDLE && m.status == 0, "node answer");
  check(cord_chan_recv(&ch, &m) == 0, "node end");
  check(cord_chan_close(&ch) == 0, "node close");
}

static size_t run(void (*fn)(void)) {
  size_t i;
  memset(stack, PAINT, sizeof stack);
  getcontext(&phase_ctx);
  phase_ctx.uc_stack.ss_sp = stack;
  phase_ctx.uc_stack.ss_size = sizeof stack;
  phase_ctx.uc_link = &back;
  makecontext(&phase_ctx, fn, 0);
  alloc_armed = 1;
  swapcontext(&back, &phase_ctx);
  alloc_armed = 0;
  for (i = 0; i < sizeof stack && stack[i] == PAINT; i++)
    ;
  return sizeof stack - i;
}

int main(void) {
  size_t s_open, s_cycle, s_node;

  channel(0);
  put(hello_parent, sizeof hello_parent);
  s_open = run(phase_open);
  put(request_typed, sizeof request_typed);
  put(ping, sizeof ping);
  put(goodbye, sizeof goodbye);
  s_cycle = run(phase_cycle);
  close(parent);

  channel(1);
  static const char handle[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{}}\n",
                    lines[] = "{\"seq\":1}\n{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
    exit(1);
  put_fd(handle, sizeof handle - 1, sp[0]);
  close(sp[0]);
  put(lines, sizeof lines - 1);
  shutdown(parent, SHUT_WR);
  s_node = run(phase_node);
  close(parent);
  close(sp[1]);

  /* One line per figure: name, value, unit, then the note. */
  printf("stack_open %zu bytes open + handshake\n", s_open);
  printf("stack_cycle %zu bytes receive typed request, decode, reply from a struct, ping, goodbye, close\n",
         s_cycle);
  printf("stack_node %zu bytes Node.js binding: handle in and out, lines in and out, answer, end\n", s_node);
  printf("allocations %ld calls over all three phases\n", alloc_calls);
  printf("sizeof_chan %zu bytes cord_chan_t, in the caller's memory\n", sizeof(cord_chan_t));
  printf("sizeof_msg %zu bytes cord_chan_msg_t\n", sizeof(cord_chan_msg_t));
  return failures ? 1 : 0;
}
