/* node.c: the core's Node.js bindings: json lines and advanced frames, internal NODE_ messages, handles both ways (spec section 13). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "node_codec.h"

/* ---- framing ---------------------------------------------------------------------------------- */

size_t cord__node_line_len(const uint8_t *p, size_t avail) {
  const uint8_t *nl = avail ? memchr(p, '\n', avail) : NULL;
  return nl ? (size_t)(nl - p) + 1 : 0;
}

/* Node.js's advanced frame: a 4-byte big-endian length, then V8's bytes. */
#define ADV_PREFIX 4u

static uint32_t get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

size_t cord__node_frame_len(const uint8_t *p, size_t avail) {
  return avail < ADV_PREFIX ? 0 : ADV_PREFIX + (size_t)get_be32(p);
}

static bool advanced(const cord__core_t *k) { return k->cfg.binding == CORD__BIND_NODE_ADVANCED; }

/* Node.js reads a length of 2**31 or more as negative and fails (nodejs/node#61312). */
#define ADV_MAX_BODY 0x7fffffffu

/* ---- the answers to a peer's NODE_HANDLE (spec NODE-8) ------------------------------------------ */

static const char json_ack[] = "{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
static const char json_nack[] = "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";
/* v8.serialize({cmd: 'NODE_HANDLE_ACK'}) and _NACK, framed: what Node.js writes. */
static const uint8_t adv_ack[] = {0,    0,    0,    27,   0xff, 0x0f, 'o', '"', 3,   'c', 'm', 'd', '"', 15, 'N', 'O',
                                  'D',  'E',  '_',  'H',  'A',  'N',  'D', 'L', 'E', '_', 'A', 'C', 'K', '{', 1};
static const uint8_t adv_nack[] = {0,   0,   0,   28,  0xff, 0x0f, 'o', '"', 3,   'c', 'm', 'd', '"', 16,  'N', 'O',
                                   'D', 'E', '_', 'H', 'A',  'N',  'D', 'L', 'E', '_', 'N', 'A', 'C', 'K', '{', 1};

static const uint8_t *answer_bytes(const cord__core_t *k, char a, size_t *n) {
  if (advanced(k)) {
    *n = a == 'A' ? sizeof adv_ack : sizeof adv_nack;
    return a == 'A' ? adv_ack : adv_nack;
  }
  *n = a == 'A' ? sizeof json_ack - 1 : sizeof json_nack - 1;
  return (const uint8_t *)(a == 'A' ? json_ack : json_nack);
}

/* Queues an answer, which goes before anything of ours not yet begun:
 * Node.js withholds every later message until it comes. */
static void answer(cord__core_t *k, bool ack) {
  if (k->out == CORD__OUT_ENDED)
    return;
  if (k->answers_n == CORD__ANSWERS_MAX) {
    /* Node.js sends no handle before the last one is answered. */
    cord__core_fail(k, CORD_EPROTOCOL, false, "NODE_HANDLE messages arrive faster than their answers are written");
    return;
  }
  k->answers[k->answers_n++] = ack ? 'A' : 'N';
}

/* ---- sending ----------------------------------------------------------------------------------------- */

/* Node.js's name of the handle a descriptor makes, chosen from what it is
 * (the receiver builds that object around it: a net.Server listens). */
static const char *handle_type(cord__fd_kind_t kind) {
  switch (kind) {
  case CORD__FD_LISTENING:
    return "net.Server";
  case CORD__FD_STREAM:
    return "net.Socket";
  case CORD__FD_UDP4:
  case CORD__FD_UDP6:
    return "dgram.Socket";
  default:
    return NULL;
  }
}

/* Node.js ends the process on a line that is empty, not JSON, or split by
 * a raw newline, and never delivers NODE_ internal messages as messages
 * (spec NODE-4, NODE-7). `scratch` holds the checker's bits for nesting
 * deeper than it keeps itself (CORD__JSON_SCRATCH(len) bytes). The
 * refusal's reason and offset go to the core's `refusal` text. */
static int check_json(cord__core_t *k, const char *text, size_t len, void *scratch, size_t scratch_len) {
  cord__json_err_t err;
  cord__node_msg_t m;
  const char *nl = len ? memchr(text, '\n', len) : NULL;
  if (len == 0)
    return cord__core_refuse(k, CORD_ENODE, "an empty text: Node.js ends the process on an empty line");
  if (nl)
    return cord__core_refuse(k, CORD_ENODE, "a raw newline at byte %zu: Node.js splits lines there", (size_t)(nl - text));
  int r = cord__json_check(text, len, scratch, scratch_len, &err);
  if (r < 0)
    return cord__core_refuse(k, r, "not a JSON text (RFC 8259): %s at byte %zu", err.reason, err.offset);
  if (cord__node_scan(text, len, &m) != CORD__NODE_USER)
    return cord__core_refuse(k, CORD_ENODE, "an internal Node.js message (its \"cmd\" starts NODE_): never sent for an application");
  return 0;
}

/* The queue takes one more message of n bytes (spec FLOW: one larger than
 * the bound still goes into an empty queue). */
static bool fits_queue(const cord__core_t *k, size_t n) {
  return !cord__txq_len(&k->tx) || cord__txq_len(&k->tx) + n <= k->cfg.queue_limit;
}

/* A json line: the text, or Node.js's NODE_HANDLE object around it, as
 * JSON.stringify writes it: cmd, type, msg, then dgramType. */
static int queue_json(cord__core_t *k, const cord_msg_t *m, const char *type, cord__fd_kind_t kind) {
  char head[64], tail[32] = "}";
  size_t hl = 0, tl = 0, n, scratch;
  uint8_t *w;
  int r;
  if (type) {
    hl = (size_t)snprintf(head, sizeof head, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"%s\",\"msg\":", type);
    if (kind == CORD__FD_UDP4 || kind == CORD__FD_UDP6)
      snprintf(tail, sizeof tail, ",\"dgramType\":\"udp%c\"}", kind == CORD__FD_UDP4 ? '4' : '6');
    tl = strlen(tail);
  }
  n = hl + m->len + tl + 1;
  if (!fits_queue(k, n))
    return -ENOBUFS;
  /* The line's room in the queue, and past it the checker's scratch for a
   * text nested deeper than its own bits reach: checked, then copied, and
   * nothing allocated beside the queue. */
  scratch = CORD__JSON_SCRATCH(m->len);
  if (cord__txq_reserve(&k->tx, n + scratch, &w) < 0)
    return -ENOMEM;
  if ((r = check_json(k, m->data, m->len, w + n, scratch)) < 0)
    return r;
  memcpy(w, head, hl);
  memcpy(w + hl, m->data, m->len);
  memcpy(w + hl + m->len, tail, tl);
  w[n - 1] = '\n';
  return (int)n;
}

/* An advanced frame of the value, or of Node.js's NODE_HANDLE object
 * around it, encoded straight into the queue. */
static int queue_value(cord__core_t *k, const cord_value_t *v, const char *type, cord__fd_kind_t kind) {
  cord_value_t wrap = {0}, s_cmd = {0}, s_type = {0}, s_dgram = {0};
  cord_member_t mem[4];
  const cord_value_t *top = v;
  cord_v8_error_t err;
  size_t len = 0, guess = 256;
  uint8_t *w;
  int r;

  if (!v)
    return -EINVAL;
  if (cord__node_value_kind(v, NULL, NULL) != CORD__NODE_USER)
    return cord__core_refuse(k, CORD_ENODE, "an internal Node.js message (its \"cmd\" starts NODE_): never sent for an application");
  if (type) {
    /* Nodes of the caller's own making would need an arena; these live
     * on the stack for the call. */
    s_cmd.type = s_type.type = s_dgram.type = CORD_VALUE_STRING;
    s_cmd.u.string.ptr = "NODE_HANDLE";
    s_cmd.u.string.len = 11;
    s_type.u.string.ptr = type;
    s_type.u.string.len = strlen(type);
    s_dgram.u.string.ptr = kind == CORD__FD_UDP4 ? "udp4" : "udp6";
    s_dgram.u.string.len = 4;
    mem[0] = (cord_member_t){"cmd", 3, &s_cmd};
    mem[1] = (cord_member_t){"type", 4, &s_type};
    mem[2] = (cord_member_t){"msg", 3, v};
    mem[3] = (cord_member_t){"dgramType", 9, &s_dgram};
    wrap.type = CORD_VALUE_OBJECT;
    wrap.u.object.members = mem;
    wrap.u.object.count = wrap.u.object.cap = (kind == CORD__FD_UDP4 || kind == CORD__FD_UDP6) ? 4 : 3;
    top = &wrap;
  }
  /* Most messages fit the first guess; a larger one is encoded again into
   * exactly its room. */
  for (;;) {
    if (cord__txq_reserve(&k->tx, ADV_PREFIX + guess, &w) < 0)
      return -ENOMEM;
    r = cord_v8_encode(top, w + ADV_PREFIX, guess, &len, &err);
    if (r != -ENOBUFS || guess >= len)
      break;
    if (len > ADV_MAX_BODY)
      return cord__core_refuse(k, CORD_ETOOBIG, "a value of %zu bytes: Node.js reads frames under 2 GiB only", len);
    if (!fits_queue(k, ADV_PREFIX + len))
      return -ENOBUFS;
    guess = len;
  }
  if (r < 0)
    return cord__core_refuse(k, r, "the value cannot be sent: %s", err.what);
  if (len > ADV_MAX_BODY)
    return cord__core_refuse(k, CORD_ETOOBIG, "a value of %zu bytes: Node.js reads frames under 2 GiB only", len);
  if (!fits_queue(k, ADV_PREFIX + len))
    return -ENOBUFS;
  w[0] = (uint8_t)(len >> 24);
  w[1] = (uint8_t)(len >> 16);
  w[2] = (uint8_t)(len >> 8);
  w[3] = (uint8_t)len;
  return (int)(ADV_PREFIX + len);
}

/* Duplicates one descriptor, close-on-exec, into an array the queue owns. */
static int dup_one(int fd, int **out) {
  int *d = cord__malloc(sizeof *d);
  if (!d)
    return -ENOMEM;
  if ((*d = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
    int err = -errno;
    cord__free(d);
    return err;
  }
  *out = d;
  return 0;
}

int cord__node_send(cord__core_t *k, const cord_msg_t *m, const cord_value_t *value, cord__fd_kind_t kind) {
  const char *type = NULL;
  int *dup = NULL, r;
  size_t n;
  if (!value && (m->payload != CORD_PAYLOAD_JSON || advanced(k)))
    return cord__core_refuse(k, CORD_ENODE, advanced(k) ? "Node.js's advanced channel carries values: see cord_send_value()"
                                                       : "Node.js's json channel carries one-way JSON messages only (NODE-9)");
  if (value && !advanced(k))
    return cord__core_refuse(k, CORD_ENODE, "values travel on Node.js's advanced channel only; this one is json");
  if ((r = cord__core_check_msg(k, m)) < 0)
    return r;
  if (m->nfds) {
    /* Spec NODE-8: one descriptor, of a kind Node.js makes a handle of,
     * with the first byte of its NODE_HANDLE message. */
    if (!(type = handle_type(kind)))
      return cord__core_refuse(k, CORD_ENODE, "descriptor %d is no socket Node.js takes as a handle (a TCP, UDP or "
                                              "Unix stream socket)", m->fds[0]);
    if ((r = cord__txq_reserve_mark(&k->tx)) < 0 || (r = dup_one(m->fds[0], &dup)) < 0)
      return r;
  }
  r = value ? queue_value(k, value, type, kind) : queue_json(k, m, type, kind);
  if (r < 0) {
    if (dup) {
      close(*dup);
      cord__free(dup);
    }
    return r;
  }
  n = (size_t)r;
  if (dup)
    cord__txq_add_mark(&k->tx, dup, 1);
  cord__txq_commit(&k->tx, n);
  return cord__core_after_queue(k);
}

/* ---- writing: answers first, and a pause after each handle of ours ---------------------------- */

size_t cord__node_tx_peek(cord__core_t *k, const uint8_t **p, const cord__mark_t **m) {
  size_t len;
  *m = NULL;
  /* An answer goes between two messages of ours, never inside one. */
  if (k->answers_n && (k->answer_off || k->tx.head == k->tx.start)) {
    size_t n;
    const uint8_t *a = answer_bytes(k, k->answers[0], &n);
    k->peek_answer = true;
    *p = a + k->answer_off;
    return n - k->answer_off;
  }
  k->peek_answer = false;
  /* After a message with a handle Node.js's receiver must answer before
   * the next one: it takes one descriptor per read, and would deliver a
   * later message before the one whose handle it is still setting up. A
   * peer whose direction has ended will never answer. */
  if (k->ack_due && k->in != CORD__IN_ENDED)
    return 0;
  len = cord__txq_peek(&k->tx, p, m);
  if (len && *m) {
    size_t whole = k->tx.frame_len(*p, len);
    k->handle_end = k->tx.pos + whole;
  }
  if (k->handle_end && k->tx.pos + len > k->handle_end)
    len = (size_t)(k->handle_end - k->tx.pos);
  return len;
}

void cord__node_tx_done(cord__core_t *k, size_t n) {
  if (k->peek_answer) {
    size_t total;
    const uint8_t *a = answer_bytes(k, k->answers[0], &total);
    k->answer_off += n;
    if (k->answer_off == total) {
      if (k->cfg.trace)
        k->cfg.trace(k->cfg.trace_arg, 1, a, total);
      memmove(k->answers, k->answers + 1, --k->answers_n);
      k->answer_off = 0;
    }
    return;
  }
  cord__txq_consume(&k->tx, n);
  if (k->handle_end && k->tx.pos >= k->handle_end) {
    k->handle_end = 0;
    k->ack_due = true;
  }
}

/* ---- receiving ------------------------------------------------------------------------------------- */

static int error_event(cord__core_t *k, cord_event_t *ev, int code) {
  ev->type = CORD_EV_ERROR;
  ev->error = code;
  ev->detail = k->detail;
  return 1;
}

/* Descriptors that came with reads that ended before the message at
 * stream position `start` began belong to no handle: Node.js sends one
 * only with the first byte of a NODE_HANDLE message. */
static void close_strays(cord__core_t *k, uint64_t start) {
  cord__rxq_t *q = &k->rx;
  while (q->fhead < q->ftail && q->fds[q->fhead].pos <= start)
    close(q->fds[q->fhead++].fd);
  if (q->fhead == q->ftail)
    q->fhead = q->ftail = 0;
}

/* The descriptor of the message at `start`: the oldest that came with a
 * read holding its first byte or a later one, as Node.js gives a pending
 * handle to the next NODE_HANDLE message it parses. -1 if none. */
static int take_fd(cord__core_t *k, uint64_t start, uint8_t *kind) {
  cord__rxq_t *q = &k->rx;
  close_strays(k, start);
  if (q->fhead == q->ftail)
    return -1;
  *kind = q->fds[q->fhead].kind;
  int fd = q->fds[q->fhead++].fd;
  if (q->fhead == q->ftail)
    q->fhead = q->ftail = 0;
  return fd;
}

/* Whether a message of `len` bytes at `start`, which cannot be read (too
 * long, or holding what the codec does not cover), came with a
 * descriptor: then it was a NODE_HANDLE, and Node.js waits for an answer. */
static bool refuse_unread_handle(cord__core_t *k, uint64_t start, uint64_t end) {
  cord__rxq_t *q = &k->rx;
  close_strays(k, start);
  if (q->fhead == q->ftail || q->fds[q->fhead].pos > end)
    return false;
  close(q->fds[q->fhead++].fd);
  if (q->fhead == q->ftail)
    q->fhead = q->ftail = 0;
  answer(k, false);
  return true;
}

static const char *fd_kind_name(uint8_t kind) {
  static const char *const names[] = {"not a socket Node.js passes", "a stream socket", "a listening stream socket",
                                      "a UDP socket", "a UDP socket"};
  return kind < sizeof names / sizeof *names ? names[kind] : names[0];
}

/* Whether the descriptor is what the handle's type says, so that it can
 * serve as one: what Node.js's receiver would make of it. */
static bool kind_fits(cord__handle_type_t t, uint8_t kind) {
  switch (t) {
  case CORD__HANDLE_NET_SOCKET:
    return kind == CORD__FD_STREAM;
  case CORD__HANDLE_NET_SERVER:
    return kind == CORD__FD_LISTENING;
  case CORD__HANDLE_NET_NATIVE:
    return kind == CORD__FD_STREAM || kind == CORD__FD_LISTENING;
  case CORD__HANDLE_DGRAM_SOCKET:
  case CORD__HANDLE_DGRAM_NATIVE:
    return kind == CORD__FD_UDP4 || kind == CORD__FD_UDP6;
  default:
    return false;
  }
}

static const char *handle_name(cord__handle_type_t t) {
  static const char *const names[] = {"an unknown handle type", "net.Socket", "net.Server", "net.Native",
                                      "dgram.Socket", "dgram.Native"};
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : names[0];
}

/*
 * A NODE_HANDLE message at stream position `start` (spec NODE-8): its
 * descriptor is accepted with ACK when it is what its type says and there
 * is a message of the application to deliver it with; otherwise NACK, the
 * descriptor closed, and an ERROR event. Returns 1 when the message goes
 * with the descriptor (in ev->fds), 0 when the ERROR is in *ev (its
 * message, if any, is due next).
 */
static int on_handle(cord__core_t *k, cord_event_t *ev, uint64_t start, cord__handle_type_t t, bool user_msg) {
  uint8_t kind = CORD__FD_OTHER;
  int fd = take_fd(k, start, &kind);
  const char *then = user_msg ? "; its message follows without it" : "; it carried no message of the application";
  if (fd >= 0 && user_msg && kind_fits(t, kind) && !k->cfg.refuse_handles) {
    answer(k, true);
    k->evfds[0] = fd;
    ev->fds = k->evfds;
    ev->nfds = 1;
    return 1;
  }
  answer(k, false);
  if (fd < 0)
    cord__core_set_detail(k, "a %s came without its descriptor: answered NODE_HANDLE_NACK%s", handle_name(t), then);
  else if (k->cfg.refuse_handles)
    cord__core_set_detail(k, "a %s was refused (NODE_HANDLE_NACK): this channel takes no descriptors%s",
                          handle_name(t), then);
  else if (!kind_fits(t, kind))
    cord__core_set_detail(k, "a %s whose descriptor is %s was refused (NODE_HANDLE_NACK)%s", handle_name(t),
                          fd_kind_name(kind), then);
  else
    cord__core_set_detail(k, "a %s was refused (NODE_HANDLE_NACK)%s", handle_name(t), then);
  if (fd >= 0)
    close(fd);
  error_event(k, ev, CORD_EUNSUPPORTED);
  k->msg_due = user_msg;
  return 0;
}

/* NODE_HANDLE_ACK or _NACK: the answer to our last handle. A NACK means
 * Node.js neither took the descriptor nor delivered its message. */
static int on_answer(cord__core_t *k, cord_event_t *ev, bool nack) {
  if (k->answers_early) {
    k->answers_early--; /* cord__core_flush_input() let the queue go already */
  } else if (!k->ack_due) {
    cord__core_set_detail(k, "a NODE_HANDLE_%s answers no message of ours (Node.js ends on one): ignored",
                          nack ? "NACK" : "ACK");
    return error_event(k, ev, CORD_ENODE);
  } else {
    k->ack_due = false;
  }
  if (!nack)
    return 0;
  cord__core_set_detail(k, "the child answered NODE_HANDLE_NACK: it did not get the descriptor of our last message "
                           "with one, and Node.js drops that message");
  return error_event(k, ev, CORD_EUNSUPPORTED);
}

/* One line is one message (spec NODE-5 to NODE-8). Returns 1 with an
 * event, 0 after a line without one, -EAGAIN when more bytes are needed. */
static int next_line(cord__core_t *k, cord_event_t *ev) {
  size_t avail = cord__rxq_len(&k->rx);
  if (!avail)
    return -EAGAIN; /* (the buffer may not exist yet) */
  const uint8_t *b = k->rx.p + k->rx.head;
  size_t whole = cord__node_line_len(b, avail), len;
  uint64_t start = k->rx.pos;
  cord__node_msg_t m, inner;

  if (k->skipping) {
    /* The rest of a line already reported too long. */
    cord__rxq_consume(&k->rx, whole ? whole : avail);
    if (!whole)
      return -EAGAIN;
    k->skipping = false;
    return 0;
  }
  if (!whole) {
    if (avail <= k->cfg.max_frame)
      return -EAGAIN;
    /* Spec NODE-6: Node.js cannot be told a limit; drop the line. */
    bool h = refuse_unread_handle(k, start, start + avail);
    k->skipping = true;
    cord__rxq_consume(&k->rx, avail);
    cord__core_set_detail(k, "a line longer than max_frame %u was discarded%s", k->cfg.max_frame,
                          h ? ", and its descriptor refused (NODE_HANDLE_NACK)" : "");
    return error_event(k, ev, CORD_EFRAMESIZE);
  }
  len = whole - 1;
  if (k->msg_due) {
    /* The second event of a line whose handle was refused: its message. */
    k->msg_due = false;
    (void)cord__node_scan(b, len, &m);
    ev->type = CORD_EV_MESSAGE;
    ev->payload = CORD_PAYLOAD_JSON;
    ev->data = b + m.msg.off;
    ev->len = m.msg.len;
    k->rx.pinned = true;
    cord__rxq_consume(&k->rx, whole);
    return 1;
  }
  if (k->cfg.trace)
    k->cfg.trace(k->cfg.trace_arg, 0, b, whole);
  if (len > k->cfg.max_frame) {
    bool h = cord__node_scan(b, len, &m) == CORD__NODE_HANDLE && refuse_unread_handle(k, start, UINT64_MAX);
    cord__rxq_consume(&k->rx, whole);
    cord__core_set_detail(k, "a line of %zu bytes exceeds max_frame %u and was discarded%s", len, k->cfg.max_frame,
                          h ? ", and its descriptor refused (NODE_HANDLE_NACK)" : "");
    return error_event(k, ev, CORD_EFRAMESIZE);
  }
  if (len == 0 || (len == 1 && b[0] == '\r')) {
    close_strays(k, start);
    cord__rxq_consume(&k->rx, whole);
    cord__core_set_detail(k, "an empty line was discarded");
    return error_event(k, ev, CORD_ENODE);
  }
  /* Whether a line is internal is decided by Node's own rule, without a
   * parse that could fail for valid JSON (NODE-7). */
  switch (cord__node_scan(b, len, &m)) {
  case CORD__NODE_USER:
    close_strays(k, start);
    ev->type = CORD_EV_MESSAGE;
    ev->payload = CORD_PAYLOAD_JSON;
    ev->data = b;
    ev->len = len;
    break;
  case CORD__NODE_HANDLE: {
    bool user = m.msg.len && cord__node_scan(b + m.msg.off, m.msg.len, &inner) == CORD__NODE_USER;
    if (on_handle(k, ev, start, m.handle_type, user) == 0) {
      if (!k->msg_due)
        cord__rxq_consume(&k->rx, whole);
      return 1; /* the ERROR; the line stays for its message when one is due */
    }
    ev->type = CORD_EV_MESSAGE;
    ev->payload = CORD_PAYLOAD_JSON;
    ev->data = b + m.msg.off;
    ev->len = m.msg.len;
    break;
  }
  case CORD__NODE_HANDLE_ACK:
  case CORD__NODE_HANDLE_NACK:
    close_strays(k, start);
    cord__rxq_consume(&k->rx, whole);
    return on_answer(k, ev, m.kind == CORD__NODE_HANDLE_NACK);
  default:
    /* Node's other internal messages (NODE_CLUSTER, NODE_SOCKET_*) are
     * Node's own business: not delivered, not answered. */
    close_strays(k, start);
    cord__rxq_consume(&k->rx, whole);
    return 0;
  }
  k->rx.pinned = true; /* the event points into the buffer */
  cord__rxq_consume(&k->rx, whole);
  return 1;
}

/* The arena for the next message's values: emptied, and given back when a
 * large message made it large. */
static void arena_for(cord__core_t *k, size_t len) {
  if (k->arena.bytes > ((size_t)1 << 20))
    cord_arena_free(&k->arena);
  else
    cord_arena_reset(&k->arena);
  k->arena.limit = CORD_V8_ARENA_BOUND(len);
}

/* One frame is one value (spec NODE-12). Returns as next_line(). */
static int next_frame(cord__core_t *k, cord_event_t *ev) {
  size_t avail = cord__rxq_len(&k->rx);
  if (!avail)
    return -EAGAIN; /* (the buffer may not exist yet) */
  const uint8_t *b = k->rx.p + k->rx.head;
  uint64_t start = k->rx.pos;
  const cord_value_t *v, *msg;
  cord__handle_type_t t;
  cord_v8_error_t err;
  uint32_t len;
  int r;

  if (k->skipping) {
    /* The rest of a frame already reported too long: its length says how
     * much, and nothing of it is kept. */
    size_t n = avail < k->skip ? avail : k->skip;
    cord__rxq_consume(&k->rx, n);
    k->skip -= n;
    if (k->skip)
      return -EAGAIN;
    k->skipping = false;
    return 0;
  }
  if (avail < ADV_PREFIX)
    return -EAGAIN;
  len = get_be32(b);
  if (len > k->cfg.max_frame) {
    /* Spec NODE-6: dropped as it arrives, reported, the channel kept. */
    bool h = refuse_unread_handle(k, start, start + ADV_PREFIX + (uint64_t)len);
    k->skipping = true;
    k->skip = ADV_PREFIX + (size_t)len;
    cord__core_set_detail(k, "a frame of %u bytes exceeds max_frame %u and was discarded%s", len, k->cfg.max_frame,
                          h ? ", and its descriptor refused (NODE_HANDLE_NACK)" : "");
    return error_event(k, ev, CORD_EFRAMESIZE);
  }
  if (avail < ADV_PREFIX + (size_t)len)
    return -EAGAIN;
  if (k->msg_due) {
    k->msg_due = false;
    ev->type = CORD_EV_MESSAGE;
    ev->payload = CORD_PAYLOAD_V8;
    ev->value = k->due_value;
    ev->data = b + ADV_PREFIX;
    ev->len = len;
    k->rx.pinned = true;
    cord__rxq_consume(&k->rx, ADV_PREFIX + len);
    return 1;
  }
  if (k->cfg.trace)
    k->cfg.trace(k->cfg.trace_arg, 0, b, ADV_PREFIX + (size_t)len);
  arena_for(k, len);
  r = len ? cord_v8_decode(&k->arena, b + ADV_PREFIX, len, 0, &v, &err) : CORD_EPROTOCOL;
  if (!len)
    snprintf(err.what, sizeof err.what, "an empty frame (Node.js ends on one)"), err.offset = 0;
  if (r == -ENOMEM) {
    cord__core_fail(k, -ENOMEM, false, "out of memory for the values of a message of %u bytes", len);
    return 0;
  }
  if (r == CORD_EPROTOCOL) {
    /* Bytes that are no V8 value: Node.js would end; the frame is
     * delimited, but a peer that writes such is not to be trusted on. */
    cord__core_fail(k, CORD_EPROTOCOL, false, "a frame of %u bytes is no V8 value: %s (at byte %zu)", len, err.what,
                    err.offset);
    return 0;
  }
  if (r < 0) {
    /* A value the codec does not cover (a resizable ArrayBuffer, ...):
     * reported, with the frame's bytes, so nothing is lost. */
    bool h = refuse_unread_handle(k, start, start + ADV_PREFIX + (uint64_t)len);
    cord__core_set_detail(k, "a message of %u bytes could not be read: %s (at byte %zu)%s", len, err.what, err.offset,
                          h ? "; its descriptor was refused (NODE_HANDLE_NACK)" : "");
    ev->data = b + ADV_PREFIX;
    ev->len = len;
    k->rx.pinned = true;
    cord__rxq_consume(&k->rx, ADV_PREFIX + len);
    return error_event(k, ev, r);
  }
  switch (cord__node_value_kind(v, &msg, &t)) {
  case CORD__NODE_USER:
    close_strays(k, start);
    ev->value = v;
    break;
  case CORD__NODE_HANDLE: {
    bool user = msg && cord__node_value_kind(msg, NULL, NULL) == CORD__NODE_USER;
    if (on_handle(k, ev, start, t, user) == 0) {
      k->due_value = msg;
      if (!k->msg_due)
        cord__rxq_consume(&k->rx, ADV_PREFIX + len);
      return 1;
    }
    ev->value = msg;
    break;
  }
  case CORD__NODE_HANDLE_ACK:
  case CORD__NODE_HANDLE_NACK: {
    bool nack = cord__node_value_kind(v, NULL, NULL) == CORD__NODE_HANDLE_NACK;
    close_strays(k, start);
    cord__rxq_consume(&k->rx, ADV_PREFIX + len);
    return on_answer(k, ev, nack);
  }
  default:
    close_strays(k, start);
    cord__rxq_consume(&k->rx, ADV_PREFIX + len);
    return 0;
  }
  ev->type = CORD_EV_MESSAGE;
  ev->payload = CORD_PAYLOAD_V8;
  ev->data = b + ADV_PREFIX;
  ev->len = len;
  k->rx.pinned = true;
  cord__rxq_consume(&k->rx, ADV_PREFIX + len);
  return 1;
}

int cord__node_next(cord__core_t *k, cord_event_t *ev) {
  return advanced(k) ? next_frame(k, ev) : next_line(k, ev);
}

/* Looks through what is buffered, ahead of the events still to be
 * returned, for the peer's answer to our handle, so that cord_flush() can
 * write what waits behind it. Node.js writes its answers as exactly these
 * bytes; one written otherwise is found when its turn comes. */
void cord__node_flush_input(cord__core_t *k) {
  size_t avail = cord__rxq_len(&k->rx), an;
  if (!avail)
    return;
  const uint8_t *b = k->rx.p + k->rx.head;
  if (k->early_scan < k->rx.pos) {
    k->early_scan = k->rx.pos;
    if (k->skipping) {
      /* The head is inside a message being dropped: look past its end. */
      size_t rest = advanced(k) ? k->skip : cord__node_line_len(b, avail);
      if (!rest || rest > avail)
        return;
      k->early_scan += rest;
    }
  }
  while (k->ack_due && k->early_scan < k->rx.pos + avail) {
    size_t at = (size_t)(k->early_scan - k->rx.pos);
    size_t whole = k->tx.frame_len(b + at, avail - at);
    if (!whole || whole > avail - at)
      return;
    for (int i = 0; i < 2; i++) {
      const uint8_t *a = answer_bytes(k, i ? 'N' : 'A', &an);
      if (whole == an && memcmp(b + at, a, an) == 0) {
        k->ack_due = false;
        k->answers_early++;
      }
    }
    k->early_scan += whole;
  }
}

void cord__node_free(cord__core_t *k) { cord_arena_free(&k->arena); }
