/* fuzz_parent.c: libFuzzer harness of the parent SDK's whole reading side, through its public API over a socket pair in one process, with the protocol's invariants checked on every input. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord.h"
#include "open_fds.h"

/*
 * The input is what a child writes. Its first byte chooses how: bit 0 the
 * binding (Cord, or one of Node.js's), bit 1 whether the bytes go in
 * small pieces, of 1 to 32 bytes by bits 3 to 7 (the stream split every
 * way, FRAME-11), bit 2 on Cord whether the parent asks two requests and
 * a ping once ready, on Node.js's bindings which one: json lines, or
 * advanced frames. Once ready on Node.js's bindings the parent sends a
 * socket as a handle, and waits for the child's answer before it writes
 * more (NODE-15). The parent is attached
 * to one end of a socket pair (cord_attach(): no process, nothing forked
 * per input); the harness writes the rest of the input to the other end,
 * then its end of file, reading and discarding what the parent writes,
 * and steps the parent to CLOSE.
 *
 * Checked on every input, beyond what the sanitizers see:
 *  - nothing is delivered before READY (HELLO-6) nor after DISCONNECT;
 *  - every request the parent made has exactly one REPLY (REQ-2, REQ-9);
 *  - DISCONNECT and CLOSE come once each, in that order, and the channel
 *    ends within a bounded number of steps: no hang;
 *  - every descriptor the parent received and every one it holds is
 *    closed at the end (FD-9): the process's count of sockets is unchanged.
 */

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "fuzz_parent: %s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                            \
    }                                                                                     \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 1 << 16)
    return 0;
  unsigned mode = data[0];
  data++;
  size--;
  /* Counted for each input: libFuzzer itself opens pipes between inputs
   * (to its symbolizer, when it reports a function newly reached). */
  int baseline = count_open_fds(0);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
    abort();
  cord_options_t o = {0};
  o.serialization = !(mode & 1) ? CORD_SERIALIZATION_CORD
                    : mode & 4   ? CORD_SERIALIZATION_ADVANCED
                                 : CORD_SERIALIZATION_JSON;
  o.max_frame = 4096;
  o.max_fds = 4;
  o.queue_limit = 1 << 16;
  cord_proc_t c;
  CHECK(cord_attach(&c, sv[0], &o) == 0);

  /* Split: pieces of 1 to 32 bytes, by the mode's high bits. */
  size_t off = 0, step_chunk = mode & 2 ? 1 + (mode >> 3) : size;
  int ready = 0, disconnected = 0, closed = 0, shut = 0;
  uint64_t ids[2] = {0, 0};
  int replies[2] = {0, 0}, asked = 0;
  for (int steps = 0; !closed; steps++) {
    CHECK(steps < 200000); /* a channel whose peer has ended must end too */
    /* The child's side: more of the input, its end of file, and what the
     * parent writes read and dropped. */
    if (off < size) {
      size_t want = size - off < step_chunk ? size - off : step_chunk;
      ssize_t k = send(sv[1], data + off, want, MSG_NOSIGNAL);
      if (k > 0)
        off += (size_t)k;
    } else if (!shut) {
      shutdown(sv[1], SHUT_WR);
      shut = 1;
    }
    char sink[4096];
    while (recv(sv[1], sink, sizeof sink, 0) > 0)
      ;

    cord_event_t ev;
    int r = cord_step(&c, &ev);
    CHECK(r == 1 || r == -EAGAIN || r == 0);
    if (r == 0) {
      CHECK(closed);
      break;
    }
    if (r == -EAGAIN) {
      /* Nothing yet: wait for the parent's own descriptor or its timer, or
       * go on feeding it. */
      if (off >= size && shut) {
        struct pollfd pf = {sv[0], POLLIN, 0};
        int fds[2];
        short evs[2];
        if (cord_fds(&c, fds, evs, 2) > 0) {
          pf.fd = fds[0];
          pf.events = evs[0];
          poll(&pf, 1, cord_timeout(&c) < 0 ? 10 : cord_timeout(&c));
        }
      }
      continue;
    }
    for (unsigned i = 0; i < ev.nfds; i++)
      close(ev.fds[i]);
    switch (ev.type) {
    case CORD_EV_READY:
      CHECK(!ready && !disconnected);
      ready = 1;
      if (mode & 4 && !(mode & 1)) {
        cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
        for (int i = 0; i < 2; i++)
          if (cord_request(&c, &m, &ids[i]) == 0)
            asked++;
          else
            ids[i] = 0;
        (void)cord_ping(&c, NULL);
      }
      if (mode & 1) {
        int h[2];
        cord_arena_t a;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, h) < 0)
          abort();
        cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .fds = h, .nfds = 1};
        cord_arena_init(&a, 0);
        CHECK((mode & 4 ? cord_send_value(&c, cord_value_int32(&a, 1), h, 1) : cord_send(&c, &m)) >= 0);
        CHECK((mode & 4 ? cord_send_value(&c, cord_value_int32(&a, 2), NULL, 0) : cord_send_json(&c, "2")) >= 0);
        cord_arena_free(&a);
        close(h[0]);
        close(h[1]);
      }
      break;
    case CORD_EV_MESSAGE:
    case CORD_EV_CANCEL:
    case CORD_EV_PONG:
      CHECK(ready && !disconnected);
      if (ev.type == CORD_EV_MESSAGE && ev.id)
        (void)cord_reply(&c, ev.id, 0, NULL);
      break;
    case CORD_EV_REPLY:
      CHECK(ready);
      CHECK(ev.id == ids[0] || ev.id == ids[1]);
      replies[ev.id == ids[0] ? 0 : 1]++;
      break;
    case CORD_EV_DISCONNECT:
      CHECK(!disconnected);
      disconnected = 1;
      break;
    case CORD_EV_CLOSE:
      CHECK(disconnected && !closed);
      closed = 1;
      break;
    case CORD_EV_EXIT:
      CHECK(0); /* an attached channel has no process */
      break;
    default:
      break;
    }
  }
  for (int i = 0; i < 2; i++)
    CHECK(!ids[i] || replies[i] == 1);
  cord_proc_close(&c);
  close(sv[1]);
  CHECK(count_open_fds(0) == baseline);
  (void)asked;
  return 0;
}
