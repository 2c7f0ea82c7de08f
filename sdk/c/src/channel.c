/* channel.c: the parent's side of a Cord channel: frames out, frames in, the protocol's state, and the events they make. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cord_int.h"

typedef struct cord__child_priv priv_t;

/* ---- time ---------------------------------------------------------------------- */

int64_t cord__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without a pidfd nothing becomes readable when the child exits, so a
 * child that is still running is looked at again this often. */
#define EXIT_POLL_MS 50

int64_t cord__next_deadline(const priv_t *p) {
  int64_t d = 0;
  const int64_t all[] = {p->hello_deadline, p->timeout_deadline, p->stop_deadline,
                         p->pidfd < 0 && !p->reaped ? p->exit_poll : 0};
  for (size_t i = 0; i < 4; i++)
    if (all[i] && (!d || all[i] < d))
      d = all[i];
  return d;
}

/* ---- synthetic events ------------------------------------------------------------ */

static cord__pending_t *push_event(priv_t *p, cord_event_type_t type) {
  if (p->pend_head == p->npend)
    p->pend_head = p->npend = 0;
  if (p->npend == p->pendcap) {
    size_t cap = p->pendcap ? p->pendcap * 2 : 8;
    cord__pending_t *v = realloc(p->pend, cap * sizeof *v);
    if (!v)
      return NULL; /* The event is lost; memory is gone anyway. */
    p->pend = v;
    p->pendcap = cap;
  }
  cord__pending_t *e = &p->pend[p->npend++];
  memset(&e->ev, 0, sizeof e->ev);
  e->ev.type = type;
  e->detail[0] = '\0';
  return e;
}

static void push_error(priv_t *p, cord_event_type_t type, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void push_error(priv_t *p, cord_event_type_t type, int err, const char *fmt, ...) {
  cord__pending_t *e = push_event(p, type);
  va_list ap;
  if (!e)
    return;
  e->ev.error = err;
  va_start(ap, fmt);
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
  va_end(ap);
}

static bool pop_event(priv_t *p, cord_event_t *ev) {
  if (p->pend_head == p->npend)
    return false;
  cord__pending_t *e = &p->pend[p->pend_head++];
  *ev = e->ev;
  if (e->detail[0] || ev->type == CORD_EV_ERROR || ev->type == CORD_EV_DISCONNECT) {
    memcpy(p->detail, e->detail, sizeof e->detail);
    ev->detail = p->detail;
  }
  return true;
}

/* Spec REQ-9: every outstanding request of the parent fails with CLOSED,
 * exactly once, when the child's direction ends. */
static void fail_outstanding(priv_t *p, int err) {
  uint64_t id;
  while ((id = cord__idset_pop(&p->outstanding)) != 0) {
    cord__pending_t *e = push_event(p, CORD_EV_REPLY);
    if (e) {
      e->ev.id = id;
      e->ev.error = err;
      snprintf(e->detail, sizeof e->detail, "request %llu: %s", (unsigned long long)id,
               cord_strerror(err));
    }
  }
  cord__idset_free(&p->pings);
}

/* ---- the send queue ----------------------------------------------------------------- */

static size_t queued(const priv_t *p) { return p->tx.tail - p->tx.head; }

static void drop_marks(priv_t *p) {
  for (size_t i = p->marks_head; i < p->nmarks; i++) {
    for (unsigned k = 0; k < p->marks[i].n; k++)
      close(p->marks[i].fds[k]);
    free(p->marks[i].fds);
  }
  p->marks_head = p->nmarks = 0;
}

static void drop_queue(priv_t *p) {
  drop_marks(p);
  p->tx_pos += queued(p);
  p->tx.head = p->tx.tail = 0;
}

static void close_rxfds(priv_t *p) {
  for (size_t i = p->rxfds_head; i < p->nrxfds; i++)
    close(p->rxfds[i].fd);
  p->rxfds_head = p->nrxfds = 0;
}

/* Closes the socket and queues what follows from it: the failure of the
 * parent's outstanding requests, then CORD_EV_DISCONNECT. */
static void close_channel(priv_t *p, int err, const char *detail) {
  if (p->closed)
    return;
  if (p->fd >= 0) {
    if (p->loop)
      cord__loop_forget_fd(p->owner, p->fd);
    close(p->fd);
    p->fd = -1;
  }
  p->closed = true;
  p->wr = CORD__WR_DONE;
  p->peer_done = true;
  p->owner->connected = 0;
  drop_queue(p);
  close_rxfds(p);
  fail_outstanding(p, CORD_ECLOSED);
  cord__idset_free(&p->incoming);
  p->hello_deadline = 0;
  cord__loop_timer_changed(p->owner);
  push_error(p, CORD_EV_DISCONNECT, err, "%s", detail ? detail : (err ? cord_strerror(err) : "channel closed"));
}

static int queue_frame(priv_t *p, const Cord__V1__Frame *f, const int *fds, unsigned nfds,
                       bool json_retag, size_t payload_len);

static int send_now(priv_t *p, const void *buf, size_t len) {
  ssize_t n;
  do
    n = send(p->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : (int)n;
}

static void flush_some(priv_t *p);

/* Queues an Error frame (spec ERR-3); for non-fatal codes. */
void cord__queue_error_frame(priv_t *p, int err, const char *detail) {
  Cord__V1__Error e = CORD__V1__ERROR__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  if (p->mode != CORD__MODE_CORD || p->wr != CORD__WR_OPEN || p->closed)
    return;
  e.code = (uint32_t)-err;
  e.detail = (char *)detail;
  f.body_case = CORD__V1__FRAME__BODY_ERROR;
  f.error = &e;
  size_t limit = p->queue_limit;
  p->queue_limit = SIZE_MAX; /* a report about the peer's error is never refused */
  (void)queue_frame(p, &f, NULL, 0, false, 0);
  p->queue_limit = limit;
}

/* Spec END-11: report a fatal error, tell the child if the socket takes it
 * now (best effort, never blocking), and close. `tell` is false when the
 * child itself reported the error, or the stream it concerns is gone. */
static void fail_ex(priv_t *p, int err, bool tell, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail_ex(priv_t *p, int err, bool tell, const char *fmt, ...) {
  char detail[224];
  va_list ap;
  if (p->closed || p->failed)
    return;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  p->failed = true;
  push_error(p, CORD_EV_ERROR, err, "%s", detail);
  if (tell && p->mode == CORD__MODE_CORD && p->fd >= 0 && p->wr != CORD__WR_DONE && -err >= 1000 && -err < 2000) {
    /* Queued frames that the socket does not take now are abandoned; the
     * Error goes only after whole frames, so it never lands inside one. */
    if (p->hs_done)
      flush_some(p);
    if (queued(p) == 0 && p->wr != CORD__WR_DONE) {
      Cord__V1__Error e = CORD__V1__ERROR__INIT;
      Cord__V1__Frame f = CORD__V1__FRAME__INIT;
      uint8_t buf[4 + 300];
      size_t n;
      e.code = (uint32_t)-err;
      e.detail = detail;
      f.body_case = CORD__V1__FRAME__BODY_ERROR;
      f.error = &e;
      n = cord__v1__frame__get_packed_size(&f);
      if (n <= sizeof buf - 4) {
        buf[0] = buf[1] = 0;
        buf[2] = (uint8_t)(n >> 8);
        buf[3] = (uint8_t)n;
        cord__v1__frame__pack(&f, buf + 4);
        (void)send_now(p, buf, n + 4);
      }
    }
  }
  close_channel(p, err, detail);
}

#define fail(p, err, ...) fail_ex((p), (err), true, __VA_ARGS__)

/* Writes as much of the queue as the socket takes now. Descriptors go with
 * the sendmsg() whose data starts at their frame (spec FD-3). */
static void flush_some(priv_t *p) {
  while (p->fd >= 0 && p->wr != CORD__WR_DONE && queued(p)) {
    size_t len = queued(p);
    cord__fdmark_t *m = p->marks_head < p->nmarks ? &p->marks[p->marks_head] : NULL;
    struct msghdr mh;
    struct iovec iov;
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * CORD_FDS_MAX)];
    } cm;
    ssize_t n;

    if (!p->hs_done) {
      /* Spec HELLO-5: nothing but the Hello before the child's Hello. */
      if (p->tx_pos >= p->tx_hello_end)
        return;
      if (len > p->tx_hello_end - p->tx_pos)
        len = (size_t)(p->tx_hello_end - p->tx_pos);
    }
    memset(&mh, 0, sizeof mh);
    if (m && m->pos == p->tx_pos) {
      /* This write starts the frame the descriptors belong to; it stops
       * before the next frame that has descriptors of its own. */
      cord__fdmark_t *next = p->marks_head + 1 < p->nmarks ? &p->marks[p->marks_head + 1] : NULL;
      if (next && next->pos - p->tx_pos < len)
        len = (size_t)(next->pos - p->tx_pos);
      mh.msg_control = cm.buf;
      mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->n);
      memset(cm.buf, 0, sizeof cm.buf);
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * m->n);
      memcpy(CMSG_DATA(c), m->fds, sizeof(int) * m->n);
    } else if (m && m->pos - p->tx_pos < len) {
      len = (size_t)(m->pos - p->tx_pos);
    }
    iov.iov_base = p->tx.p + p->tx.head;
    iov.iov_len = len;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    do
      n = sendmsg(p->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      /* Spec END-6: the child's end is closed. What is queued is lost;
       * requests in it fail when the channel closes. */
      drop_queue(p);
      p->wr = CORD__WR_DONE;
      p->owner->connected = 0;
      return;
    }
    if (mh.msg_control) {
      for (unsigned k = 0; k < m->n; k++)
        close(m->fds[k]);
      free(m->fds);
      p->marks_head++;
      if (p->marks_head == p->nmarks)
        p->marks_head = p->nmarks = 0;
    }
    p->tx.head += (size_t)n;
    p->tx_pos += (uint64_t)n;
    if (p->tx.head == p->tx.tail)
      p->tx.head = p->tx.tail = 0;
  }
  if (p->above_hw && queued(p) < p->high_water) {
    p->above_hw = false;
    push_event(p, CORD_EV_DRAIN);
  }
  if (p->wr == CORD__WR_ENDING && !queued(p) && p->fd >= 0) {
    shutdown(p->fd, SHUT_WR); /* spec END-1 */
    p->wr = CORD__WR_DONE;
  }
}

/* Appends one frame to the queue. `json_retag`: the Message's payload was
 * packed as `raw` and is really `json` (see queue_message). */
static int queue_frame(priv_t *p, const Cord__V1__Frame *f, const int *fds, unsigned nfds,
                       bool json_retag, size_t payload_len) {
  size_t n = cord__v1__frame__get_packed_size(f);
  uint32_t limit = p->hs_done ? p->owner->peer.max_frame : CORD__FRAME_ABS_MAX;
  int *dups = NULL;
  uint8_t *w;

  if (n > limit)
    return CORD_ETOOBIG;
  /* One frame larger than the limit still goes into an empty queue: the
   * bound is on what waits, not on the size of a message. */
  if (queued(p) && queued(p) + n + 4 > p->queue_limit)
    return -ENOBUFS;
  if (nfds) {
    dups = malloc(nfds * sizeof *dups);
    if (!dups)
      return -ENOMEM;
    for (unsigned i = 0; i < nfds; i++) {
      dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
      if (dups[i] < 0) {
        int err = -errno;
        while (i--)
          close(dups[i]);
        free(dups);
        return err;
      }
    }
    if (p->nmarks == p->markcap) {
      size_t cap = p->markcap ? p->markcap * 2 : 8;
      cord__fdmark_t *v = realloc(p->marks, cap * sizeof *v);
      if (!v)
        goto nomem;
      p->marks = v;
      p->markcap = cap;
    }
  }
  if (cord__buf_reserve(&p->tx, n + 4) < 0)
    goto nomem;
  w = p->tx.p + p->tx.tail;
  w[0] = (uint8_t)(n >> 24);
  w[1] = (uint8_t)(n >> 16);
  w[2] = (uint8_t)(n >> 8);
  w[3] = (uint8_t)n;
  cord__v1__frame__pack(f, w + 4);
  if (json_retag) {
    /* The payload is the last field of Message, and Message the only
     * field of Frame, so the payload's tag sits just before the varint of
     * its length, at the end of the frame. */
    size_t vlen = 1;
    for (size_t x = payload_len; x >= 0x80; x >>= 7)
      vlen++;
    uint8_t *tag = w + 4 + n - payload_len - vlen - 1;
    *tag = (uint8_t)((CORD__V1__MESSAGE__PAYLOAD_JSON << 3) | 2);
  }
  if (p->trace)
    p->trace(p->trace_arg, 1, w, n + 4);
  if (nfds) {
    cord__fdmark_t *m = &p->marks[p->nmarks++];
    m->pos = p->tx_pos + queued(p);
    m->fds = dups;
    m->n = nfds;
  }
  p->tx.tail += n + 4;
  return 0;
nomem:
  for (unsigned i = 0; i < nfds; i++)
    close(dups[i]);
  free(dups);
  return -ENOMEM;
}

/* After queueing: the high-water report, and an early write of a full
 * batch; the rest is written by the next step, flush or loop wait. */
static int after_queue(priv_t *p) {
  if (queued(p) >= CORD__WRITE_BATCH && p->hs_done)
    flush_some(p);
  if (p->loop)
    cord__loop_mark_dirty(p->owner);
  if (queued(p) >= p->high_water) {
    p->above_hw = true;
    return 1;
  }
  return 0;
}

static int queue_hello(priv_t *p, const cord_options_t *o) {
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  int r;
  h.magic = CORD__MAGIC;
  h.min_version = CORD_PROTOCOL_MIN;
  h.max_version = CORD_PROTOCOL_MAX;
  h.max_frame = p->max_frame;
  h.max_fds = p->max_fds;
  h.capabilities = CORD__V1__CAPABILITY__CAPABILITY_CANCEL;
  h.pid = (uint32_t)getpid();
  h.impl_name = (char *)(o->impl_name ? o->impl_name : "cord-c");
  h.impl_version = (char *)(o->impl_version ? o->impl_version : CORD_VERSION_STRING);
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  if (cord__v1__frame__get_packed_size(&f) > CORD__HELLO_MAX)
    return -EINVAL; /* impl_name or impl_version too long (spec HELLO-4) */
  r = queue_frame(p, &f, NULL, 0, false, 0);
  p->tx_hello_end = p->tx_pos + queued(p);
  return r;
}

/* ---- validating and queueing user messages --------------------------------------- */

static int check_msg(const priv_t *p, const cord_msg_t *m) {
  if (!m)
    return 0;
  if (m->len && !m->data)
    return -EINVAL;
  if (m->nfds && !m->fds)
    return -EINVAL;
  if (m->nfds > CORD_FDS_MAX || (m->nfds && p->hs_done && m->nfds > p->owner->peer.max_fds))
    return CORD_ETOOBIG; /* spec FD-1 */
  switch (m->payload) {
  case CORD_PAYLOAD_NONE:
  case CORD_PAYLOAD_RAW:
  case CORD_PAYLOAD_JSON:
    return 0;
  case CORD_PAYLOAD_TYPED:
    return m->type_name && *m->type_name && m->type_name[0] != '.' ? 0 : -EINVAL; /* spec MSG-3 */
  }
  return -EINVAL;
}

/* Node.js ends the process on a line that is empty, not JSON, or split by
 * a raw newline, and never delivers NODE_ internal messages as messages
 * (spec NODE-4, NODE-7): refuse them here. */
static int check_node_json(const char *text, size_t len) {
  json_error_t jerr;
  json_t *v;
  int r = 0;
  if (len == 0 || memchr(text, '\n', len))
    return CORD_ENODE;
  v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (!v)
    return CORD_ENODE;
  if (json_is_object(v)) {
    json_t *cmd = json_object_get(v, "cmd");
    if (json_is_string(cmd) && json_string_length(cmd) > 5 && strncmp(json_string_value(cmd), "NODE_", 5) == 0)
      r = CORD_ENODE;
  }
  json_decref(v);
  return r;
}

static int queue_json_line(priv_t *p, const char *text, size_t len) {
  if (queued(p) + len + 1 > p->queue_limit)
    return -ENOBUFS;
  if (cord__buf_reserve(&p->tx, len + 1) < 0)
    return -ENOMEM;
  memcpy(p->tx.p + p->tx.tail, text, len);
  p->tx.p[p->tx.tail + len] = '\n';
  if (p->trace)
    p->trace(p->trace_arg, 1, p->tx.p + p->tx.tail, len + 1);
  p->tx.tail += len + 1;
  return 0;
}

/* Builds and queues a Message frame. protobuf-c holds proto3 strings as
 * NUL-terminated C strings, but a JSON payload comes with a length and no
 * terminator; string and bytes fields share one wire encoding, so the text
 * is packed as the `raw` member and its tag rewritten to `json`, rather
 * than copied once more to add a NUL. */
static int queue_message(priv_t *p, uint64_t id, uint64_t reply_to, uint32_t status, const cord_msg_t *m) {
  Cord__V1__Message msg = CORD__V1__MESSAGE__INIT;
  Cord__V1__Typed typed = CORD__V1__TYPED__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  bool retag = false;
  size_t plen = 0;

  msg.id = id;
  msg.reply_to = reply_to;
  msg.status = status;
  if (m) {
    msg.fds = m->nfds;
    plen = m->len;
    switch (m->payload) {
    case CORD_PAYLOAD_TYPED:
      typed.type = (char *)m->type_name;
      typed.value.data = (uint8_t *)m->data;
      typed.value.len = m->len;
      msg.payload_case = CORD__V1__MESSAGE__PAYLOAD_TYPED;
      msg.typed = &typed;
      break;
    case CORD_PAYLOAD_JSON:
      retag = true;
      /* fall through */
    case CORD_PAYLOAD_RAW:
      /* proto3 does not send an empty field: an empty payload is none. */
      if (m->len) {
        msg.payload_case = CORD__V1__MESSAGE__PAYLOAD_RAW;
        msg.raw.data = (uint8_t *)m->data;
        msg.raw.len = m->len;
      } else {
        retag = false;
      }
      break;
    case CORD_PAYLOAD_NONE:
      break;
    }
  }
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &msg;
  return queue_frame(p, &f, m ? m->fds : NULL, m ? m->nfds : 0, retag, plen);
}

static int writable(const cord_proc_t *c) {
  if (!c || !c->priv)
    return -EINVAL;
  if (!c->connected || c->priv->wr != CORD__WR_OPEN || c->priv->closed)
    return CORD_ECLOSED;
  return 0;
}

/* Whether something that waits for an answer (a request, a Ping) may go:
 * Cord frames only, and never once the child's direction has ended, since
 * no answer could come (spec REQ-11, PING-5). */
static int may_ask(const cord_proc_t *c) {
  int r = writable(c);
  if (r < 0)
    return r;
  if (c->priv->mode == CORD__MODE_JSON)
    return CORD_ENODE;
  return c->priv->peer_done ? CORD_ECLOSED : 0;
}

int cord_send(cord_proc_t *c, const cord_msg_t *m) {
  priv_t *p;
  int r;
  if ((r = writable(c)) < 0)
    return r;
  p = c->priv;
  if (!m)
    return -EINVAL;
  if (p->mode == CORD__MODE_JSON && (m->payload != CORD_PAYLOAD_JSON || m->nfds))
    return CORD_ENODE; /* spec NODE-9 */
  if ((r = check_msg(p, m)) < 0)
    return r;
  if (p->mode == CORD__MODE_JSON) {
    if ((r = check_node_json(m->data, m->len)) < 0)
      return r;
    r = queue_json_line(p, m->data, m->len);
  } else {
    r = queue_message(p, 0, 0, 0, m);
  }
  return r < 0 ? r : after_queue(p);
}

int cord_send_json(cord_proc_t *c, const char *json) {
  cord_msg_t m = {0};
  if (!json)
    return -EINVAL;
  m.payload = CORD_PAYLOAD_JSON;
  m.data = json;
  m.len = strlen(json);
  return cord_send(c, &m);
}

int cord_send_pbc(cord_proc_t *c, const ProtobufCMessage *msg) {
  cord_msg_t m = {0};
  uint8_t small[256];
  uint8_t *buf = small;
  size_t n;
  int r;
  if (!msg || !msg->descriptor)
    return -EINVAL;
  n = protobuf_c_message_get_packed_size(msg);
  if (n > sizeof small && !(buf = malloc(n)))
    return -ENOMEM;
  protobuf_c_message_pack(msg, buf);
  m.payload = CORD_PAYLOAD_TYPED;
  m.type_name = msg->descriptor->name;
  m.data = buf;
  m.len = n;
  r = cord_send(c, &m);
  if (buf != small)
    free(buf);
  return r;
}

int cord_request(cord_proc_t *c, const cord_msg_t *m, uint64_t *id) {
  priv_t *p;
  int r;
  if ((r = may_ask(c)) < 0)
    return r;
  p = c->priv;
  if ((r = check_msg(p, m)) < 0)
    return r;
  /* Spec REQ-1: ids 1, 2, 3... never reused on this channel. */
  uint64_t rid = p->next_id + 1;
  if ((r = cord__idset_add(&p->outstanding, rid)) < 0)
    return r;
  if ((r = queue_message(p, rid, 0, 0, m)) < 0) {
    cord__idset_del(&p->outstanding, rid);
    return r;
  }
  p->next_id = rid;
  if (id)
    *id = rid;
  return after_queue(p);
}

int cord_reply(cord_proc_t *c, uint64_t id, uint32_t status, const cord_msg_t *m) {
  priv_t *p;
  int r;
  if ((r = writable(c)) < 0)
    return r;
  p = c->priv;
  if (p->mode == CORD__MODE_JSON)
    return CORD_ENODE;
  if (!cord__idset_has(&p->incoming, id))
    return CORD_ESTATE; /* not a request of the child, or answered already */
  /* Spec ERR-1, ERR-2: no POSIX, SDK or reserved code goes on the wire. */
  if ((status && status < 1000) || (status >= 2000 && status < CORD_APP_ERROR_MIN) || status > 0x7fffffffu)
    return -EINVAL;
  if ((r = check_msg(p, m)) < 0)
    return r;
  if ((r = queue_message(p, 0, id, status, m)) < 0)
    return r;
  cord__idset_del(&p->incoming, id);
  r = after_queue(p);
  /* The child said goodbye while this request was open: with the last
   * answer given, the parent's direction can end too (spec END-3). */
  if (p->peer_done && p->incoming.count == 0 && p->wr == CORD__WR_OPEN) {
    cord_disconnect(c);
  }
  return r;
}

static int queue_simple(priv_t *p, Cord__V1__Frame *f) {
  int r = queue_frame(p, f, NULL, 0, false, 0);
  return r < 0 ? r : after_queue(p);
}

int cord_cancel(cord_proc_t *c, uint64_t id) {
  Cord__V1__Cancel x = CORD__V1__CANCEL__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  int r;
  if ((r = writable(c)) < 0)
    return r;
  if (c->priv->mode == CORD__MODE_JSON)
    return CORD_ENODE;
  if (!cord__idset_has(&c->priv->outstanding, id))
    return CORD_ESTATE; /* spec REQ-6 */
  x.id = id;
  f.body_case = CORD__V1__FRAME__BODY_CANCEL;
  f.cancel = &x;
  return queue_simple(c->priv, &f);
}

int cord_ping(cord_proc_t *c, uint64_t *nonce) {
  Cord__V1__Ping x = CORD__V1__PING__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  priv_t *p;
  int r;
  if ((r = may_ask(c)) < 0)
    return r;
  p = c->priv;
  x.nonce = ++p->next_nonce;
  if ((r = cord__idset_add(&p->pings, x.nonce)) < 0)
    return r;
  f.body_case = CORD__V1__FRAME__BODY_PING;
  f.ping = &x;
  if ((r = queue_simple(p, &f)) < 0) {
    cord__idset_del(&p->pings, x.nonce);
    return r;
  }
  if (nonce)
    *nonce = x.nonce;
  return r;
}

static void end_direction(priv_t *p, int reason) {
  if (p->wr != CORD__WR_OPEN)
    return;
  p->owner->connected = 0;
  if (p->mode == CORD__MODE_CORD && p->fd >= 0) {
    Cord__V1__Goodbye g = CORD__V1__GOODBYE__INIT;
    Cord__V1__Frame f = CORD__V1__FRAME__INIT;
    g.reason = reason;
    f.body_case = CORD__V1__FRAME__BODY_GOODBYE;
    f.goodbye = &g;
    /* A Goodbye that does not fit the queue limit still goes: without it
     * the child would never learn the parent is done. */
    size_t limit = p->queue_limit;
    p->queue_limit = SIZE_MAX;
    (void)queue_frame(p, &f, NULL, 0, false, 0);
    p->queue_limit = limit;
  }
  p->wr = CORD__WR_ENDING;
  if (p->hs_done || p->mode == CORD__MODE_JSON)
    flush_some(p);
  if (p->loop)
    cord__loop_mark_dirty(p->owner);
}

int cord_disconnect(cord_proc_t *c) {
  if (!c || !c->priv)
    return -EINVAL;
  if (c->priv->closed || c->priv->wr != CORD__WR_OPEN)
    return CORD_ECLOSED;
  end_direction(c->priv, CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN);
  return 0;
}

int cord_kill(cord_proc_t *c, int sig) {
  if (!c || !c->priv)
    return -EINVAL;
  if (c->priv->reaped)
    return -ESRCH;
  /* A pidfd names this very process; without one (kernels before 5.3,
   * valgrind), the pid does too as long as the SDK has not reaped it. */
  if (c->priv->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, c->priv->pidfd, sig, NULL, 0) < 0
                          : kill(c->pid, sig) < 0)
    return -errno;
  return 0;
}

int cord_stop(cord_proc_t *c) {
  priv_t *p;
  if (!c || !c->priv)
    return -EINVAL;
  p = c->priv;
  if (p->wr == CORD__WR_OPEN && !p->closed)
    end_direction(p, CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN);
  if (!p->reaped && p->stop_stage == 0) {
    p->stop_stage = 1;
    p->stop_deadline = cord__now_ms() + p->grace_ms;
    cord__loop_timer_changed(c);
  }
  return 0;
}

/* ---- reading ------------------------------------------------------------------------- */

/* Reads once into the receive buffer, collecting descriptors. Returns the
 * number of bytes, 0 at end of file, -EAGAIN, or another negative code. */
static int read_some(priv_t *p) {
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * CORD_FDS_MAX)];
  } cm;
  struct msghdr mh;
  struct iovec iov;
  ssize_t n;
  size_t want = CORD__READ_CHUNK;

  if (cord__buf_reserve(&p->rx, want) < 0)
    return -ENOMEM;
  iov.iov_base = p->rx.p + p->rx.tail;
  iov.iov_len = p->rx.cap - p->rx.tail;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cm.buf;
  mh.msg_controllen = sizeof cm.buf; /* spec FD-4 */
  do
    n = recvmsg(p->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  p->rx.tail += (size_t)n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *fds = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < k; i++) {
      if (p->nrxfds == p->rxfdcap) {
        size_t cap = p->rxfdcap ? p->rxfdcap * 2 : 16;
        cord__rxfd_t *v = realloc(p->rxfds, cap * sizeof *v);
        if (!v) {
          close(fds[i]);
          continue;
        }
        p->rxfds = v;
        p->rxfdcap = cap;
      }
      /* Spec FD-5: noted at the stream position just after this read. */
      p->rxfds[p->nrxfds].fd = fds[i];
      p->rxfds[p->nrxfds].pos = p->rx_pos + (p->rx.tail - p->rx.head);
      p->nrxfds++;
    }
  }
  if (mh.msg_flags & MSG_CTRUNC)
    return CORD_EFDMISMATCH; /* spec FD-7: the kernel dropped descriptors */
  return (int)n;
}

/* ---- decoding frames into events ----------------------------------------------------- */

static void copy_text(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  /* Spec SEC-7: what the child claims is shown bounded and printable. */
  for (; src && src[n] && n + 1 < cap; n++)
    dst[n] = (src[n] >= 0x20 && src[n] < 0x7f) ? src[n] : '?';
  dst[n] = '\0';
}

static void fill_payload(cord_event_t *ev, const Cord__V1__Message *m) {
  switch (m->payload_case) {
  case CORD__V1__MESSAGE__PAYLOAD_TYPED:
    ev->payload = CORD_PAYLOAD_TYPED;
    ev->type_name = m->typed->type;
    ev->data = m->typed->value.data;
    ev->len = m->typed->value.len;
    break;
  case CORD__V1__MESSAGE__PAYLOAD_JSON:
    ev->payload = CORD_PAYLOAD_JSON;
    ev->data = m->json;
    ev->len = strlen(m->json);
    break;
  case CORD__V1__MESSAGE__PAYLOAD_RAW:
    ev->payload = CORD_PAYLOAD_RAW;
    ev->data = m->raw.data;
    ev->len = m->raw.len;
    break;
  default:
    ev->payload = CORD_PAYLOAD_NONE;
    ev->data = NULL;
    ev->len = 0;
  }
}

/* Takes the n oldest queued descriptors for a frame (spec FD-6). */
static int claim_fds(priv_t *p, cord_event_t *ev, unsigned n) {
  if (n > p->max_fds)
    return CORD_EFDMISMATCH; /* spec FD-7: more than we declared */
  if (p->nrxfds - p->rxfds_head < n)
    return CORD_EFDMISMATCH;
  for (unsigned i = 0; i < n; i++)
    p->evfds[i] = p->rxfds[p->rxfds_head++].fd;
  if (p->rxfds_head == p->nrxfds)
    p->rxfds_head = p->nrxfds = 0;
  ev->fds = n ? p->evfds : NULL;
  ev->nfds = n;
  return 0;
}

/* Messages queued before the child's Hello could not be checked against
 * its limits. Now they can: drop each one the child would refuse, with an
 * error, and fail it as a request if it was one (spec FRAME-2, FD-1). */
static void validate_early_queue(priv_t *p) {
  size_t off = p->tx_pos < p->tx_hello_end ? (size_t)(p->tx_hello_end - p->tx_pos) : 0;
  size_t mk = p->marks_head;
  while (p->tx.head + off + 4 <= p->tx.tail) {
    uint8_t *b = p->tx.p + p->tx.head + off;
    size_t len = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    uint64_t pos = p->tx_pos + off;
    unsigned nfds = 0;
    while (mk < p->nmarks && p->marks[mk].pos < pos)
      mk++;
    if (mk < p->nmarks && p->marks[mk].pos == pos)
      nfds = p->marks[mk].n;
    if (len <= p->owner->peer.max_frame && nfds <= p->owner->peer.max_fds) {
      off += len + 4;
      continue;
    }
    Cord__V1__Frame *f = cord__v1__frame__unpack(NULL, len, b + 4);
    uint64_t id = f && f->body_case == CORD__V1__FRAME__BODY_MESSAGE ? f->message->id : 0;
    if (f)
      cord__v1__frame__free_unpacked(f, NULL);
    if (nfds) {
      for (unsigned k = 0; k < nfds; k++)
        close(p->marks[mk].fds[k]);
      free(p->marks[mk].fds);
      memmove(&p->marks[mk], &p->marks[mk + 1], (p->nmarks - mk - 1) * sizeof *p->marks);
      p->nmarks--;
    }
    for (size_t k = mk; k < p->nmarks; k++)
      p->marks[k].pos -= len + 4;
    memmove(b, b + len + 4, p->tx.tail - (p->tx.head + off + len + 4));
    p->tx.tail -= len + 4;
    if (nfds > p->owner->peer.max_fds)
      push_error(p, CORD_EV_ERROR, CORD_ETOOBIG, "a message queued before the handshake passes %u descriptors; "
                 "the child accepts %u; it was not sent", nfds, p->owner->peer.max_fds);
    else
      push_error(p, CORD_EV_ERROR, CORD_ETOOBIG, "a message queued before the handshake has %zu bytes; "
                 "the child accepts %u; it was not sent", len, p->owner->peer.max_frame);
    if (id && cord__idset_del(&p->outstanding, id)) {
      cord__pending_t *e = push_event(p, CORD_EV_REPLY);
      if (e) {
        e->ev.id = id;
        e->ev.error = CORD_ETOOBIG;
        snprintf(e->detail, sizeof e->detail, "request %llu was not sent", (unsigned long long)id);
      }
    }
  }
}

static void handshake(priv_t *p, const Cord__V1__Hello *h) {
  cord_peer_t *peer = &p->owner->peer;
  uint32_t v = h->max_version < CORD_PROTOCOL_MAX ? h->max_version : CORD_PROTOCOL_MAX;
  uint32_t lo = h->min_version > CORD_PROTOCOL_MIN ? h->min_version : CORD_PROTOCOL_MIN;

  if (h->magic != CORD__MAGIC) {
    fail(p, CORD_ENOTCORD, "the child's Hello has magic 0x%08x, not 0x%08x", h->magic, CORD__MAGIC);
    return;
  }
  if (h->min_version > h->max_version || h->max_frame < CORD__HELLO_MAX || h->max_frame > CORD__FRAME_ABS_MAX) {
    fail(p, CORD_EPROTOCOL, "invalid Hello: versions %u..%u, max_frame %u", h->min_version, h->max_version,
         h->max_frame);
    return;
  }
  if (v < lo) {
    /* Spec HELLO-8: name both ranges. */
    fail(p, CORD_EVERSION, "no common version: we speak %u..%u, peer speaks %u..%u", CORD_PROTOCOL_MIN,
         CORD_PROTOCOL_MAX, h->min_version, h->max_version);
    return;
  }
  peer->version = v;
  peer->max_frame = h->max_frame;
  peer->max_fds = h->max_fds > CORD_FDS_MAX ? CORD_FDS_MAX : h->max_fds;
  peer->capabilities = h->capabilities;
  peer->pid = h->pid;
  copy_text(peer->impl_name, sizeof peer->impl_name, h->impl_name);
  copy_text(peer->impl_version, sizeof peer->impl_version, h->impl_version);
  p->hs_done = true;
  p->hello_deadline = 0;
  cord__loop_timer_changed(p->owner);
  push_event(p, CORD_EV_READY);
  validate_early_queue(p);
}

/* Handles one complete frame body. Returns 1 with *ev filled, or 0. */
static int on_frame(priv_t *p, const uint8_t *body, size_t len, cord_event_t *ev) {
  Cord__V1__Frame *f;
  const Cord__V1__Message *m;
  bool first = p->first_frame;
  int r;

  p->first_frame = false;
  /* protobuf-c copies each string and bytes field once, beside a few small
   * structs: the body size plus a little always suffices. */
  if (cord__arena_reserve(&p->arena, len + 1024) < 0) {
    fail(p, -ENOMEM, "out of memory decoding a frame of %zu bytes", len);
    return 0;
  }
  f = cord__v1__frame__unpack(&p->arena.pbc, len, body);
  if (!f) {
    if (first) {
      char pv[CORD_PREVIEW_MAX];
      cord_preview(body - 4, len + 4, pv, sizeof pv);
      fail(p, CORD_ENOTCORD, "the child's first bytes are not a Cord frame: %s", pv);
    } else {
      fail(p, CORD_EPROTOCOL, "a frame of %zu bytes is not a valid cord.v1.Frame", len);
    }
    return 0;
  }
  if (!p->hs_done) {
    if (f->body_case != CORD__V1__FRAME__BODY_HELLO)
      fail(p, CORD_EUNEXPECTED, "the child's first frame is not a Hello (body %d)", (int)f->body_case);
    else
      handshake(p, f->hello);
    return 0;
  }
  if (p->peer_done) {
    fail(p, CORD_EUNEXPECTED, "a frame after the child's Goodbye"); /* spec END-2 */
    return 0;
  }
  switch (f->body_case) {
  case CORD__V1__FRAME__BODY_HELLO:
    fail(p, CORD_EUNEXPECTED, "a second Hello"); /* spec HELLO-10 */
    return 0;

  case CORD__V1__FRAME__BODY_MESSAGE:
    m = f->message;
    if ((m->id && m->reply_to) || (m->status && !m->reply_to)) {
      fail(p, CORD_EPROTOCOL, "a message with id %llu, reply_to %llu and status %u", (unsigned long long)m->id,
           (unsigned long long)m->reply_to, m->status); /* spec MSG-5 */
      return 0;
    }
    if ((r = claim_fds(p, ev, m->fds)) < 0) {
      fail(p, r, "a message announces %u descriptors; %zu arrived", m->fds, p->nrxfds - p->rxfds_head);
      return 0;
    }
    fill_payload(ev, m);
    if (m->reply_to) {
      if (!cord__idset_del(&p->outstanding, m->reply_to)) {
        /* Spec REQ-5: not delivered; reported to the child and the app. */
        for (unsigned i = 0; i < ev->nfds; i++)
          close(ev->fds[i]);
        cord__v1__frame__free_unpacked(f, &p->arena.pbc);
        char d[96];
        snprintf(d, sizeof d, "reply to unknown request %llu", (unsigned long long)m->reply_to);
        cord__queue_error_frame(p, CORD_EUNKNOWNREQ, d);
        push_error(p, CORD_EV_ERROR, CORD_EUNKNOWNREQ, "the child sent a %s", d);
        return 0;
      }
      ev->type = CORD_EV_REPLY;
      ev->id = m->reply_to;
      ev->status = m->status;
      return 1;
    }
    if (m->id) {
      r = cord__idset_add(&p->incoming, m->id);
      if (r != 0) {
        for (unsigned i = 0; i < ev->nfds; i++)
          close(ev->fds[i]);
        if (r == 1)
          fail(p, CORD_EPROTOCOL, "request id %llu is already outstanding", (unsigned long long)m->id);
        else
          fail(p, r, "out of memory");
        return 0;
      }
    }
    ev->type = CORD_EV_MESSAGE;
    ev->id = m->id;
    return 1;

  case CORD__V1__FRAME__BODY_CANCEL:
    if (!cord__idset_has(&p->incoming, f->cancel->id))
      return 0; /* spec REQ-8: crossed its reply, or never ours */
    ev->type = CORD_EV_CANCEL;
    ev->id = f->cancel->id;
    return 1;

  case CORD__V1__FRAME__BODY_PING:
    if (p->wr == CORD__WR_OPEN) { /* spec PING-2 */
      Cord__V1__Pong q = CORD__V1__PONG__INIT;
      Cord__V1__Frame pf = CORD__V1__FRAME__INIT;
      q.nonce = f->ping->nonce;
      pf.body_case = CORD__V1__FRAME__BODY_PONG;
      pf.pong = &q;
      size_t limit = p->queue_limit;
      p->queue_limit = SIZE_MAX; /* a Pong is never refused */
      (void)queue_simple(p, &pf);
      p->queue_limit = limit;
    }
    return 0;

  case CORD__V1__FRAME__BODY_PONG:
    if (!cord__idset_del(&p->pings, f->pong->nonce))
      return 0; /* spec PING-3 */
    ev->type = CORD_EV_PONG;
    ev->id = f->pong->nonce;
    return 1;

  case CORD__V1__FRAME__BODY_GOODBYE:
    p->peer_done = true;
    fail_outstanding(p, CORD_ECLOSED); /* spec END-3 */
    if (p->incoming.count == 0)
      end_direction(p, CORD__V1__GOODBYE__REASON__REASON_DONE);
    return 0;

  case CORD__V1__FRAME__BODY_ERROR: {
    int code = -(int)f->error->code;
    if (cord_err_is_fatal(code)) {
      fail_ex(p, code, false, "the child reports: %s", f->error->detail ? f->error->detail : cord_strerror(code));
      return 0;
    }
    ev->type = CORD_EV_ERROR;
    ev->error = code;
    snprintf(p->detail, sizeof p->detail, "the child reports %s: %s", cord_err_name(code),
             f->error->detail && *f->error->detail ? f->error->detail : cord_strerror(code));
    ev->detail = p->detail;
    return 1;
  }

  default:
    return 0; /* spec FRAME-8: a body we do not know */
  }
}

/* Looks for one complete frame in the receive buffer and handles it.
 * Returns 1 with an event, 0 after handling a frame without one, or -EAGAIN
 * when more bytes are needed. */
static int next_frame(priv_t *p, cord_event_t *ev) {
  size_t avail = p->rx.tail - p->rx.head;
  const uint8_t *b = p->rx.p + p->rx.head;
  uint32_t len;
  int r;

  if (avail < 4)
    return -EAGAIN;
  len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  if (p->first_frame && len > CORD__HELLO_MAX) {
    char pv[CORD_PREVIEW_MAX];
    cord_preview(b, avail, pv, sizeof pv);
    fail(p, CORD_ENOTCORD, "the child wrote non-protocol bytes on the channel: %s", pv); /* spec HELLO-7 */
    return 0;
  }
  if (len > p->max_frame) {
    fail(p, CORD_EFRAMESIZE, "frame of %u bytes exceeds max_frame %u", len, p->max_frame); /* spec FRAME-5 */
    return 0;
  }
  if (avail < (size_t)len + 4) {
    /* Room for the whole frame, so the next read can finish it. */
    if (cord__buf_reserve(&p->rx, (size_t)len + 4 - avail) < 0) {
      fail(p, -ENOMEM, "out of memory for a frame of %u bytes", len);
      return 0;
    }
    return -EAGAIN;
  }
  /* Spec FD-8: a descriptor that arrived wholly before this frame began
   * belongs to no frame. */
  if (p->rxfds_head < p->nrxfds && p->rxfds[p->rxfds_head].pos <= p->rx_pos) {
    fail(p, CORD_EFDMISMATCH, "a descriptor arrived that no frame announced");
    return 0;
  }
  p->rx.head += (size_t)len + 4;
  p->rx_pos += (uint64_t)len + 4;
  if (p->trace)
    p->trace(p->trace_arg, 0, b, (size_t)len + 4);
  r = on_frame(p, b + 4, len, ev);
  if (p->rx.head == p->rx.tail)
    p->rx.head = p->rx.tail = 0;
  return r;
}

/* Node's json binding: one line is one message (spec NODE-5 to NODE-8). */
static int next_line(priv_t *p, cord_event_t *ev) {
  for (;;) {
    size_t avail = p->rx.tail - p->rx.head;
    uint8_t *b = p->rx.p + p->rx.head;
    uint8_t *nl = avail ? memchr(b, '\n', avail) : NULL;
    size_t len;

    if (p->json_skipping) {
      if (!nl) {
        p->rx.head = p->rx.tail = 0;
        return -EAGAIN;
      }
      p->json_skipping = false;
      p->rx.head += (size_t)(nl - b) + 1;
      p->rx_pos += (uint64_t)(nl - b) + 1;
      continue;
    }
    if (!nl) {
      if (avail > p->max_frame) {
        /* Spec NODE-6: the peer cannot be told a limit; drop the line. */
        p->json_skipping = true;
        p->rx.head = p->rx.tail = 0;
        push_error(p, CORD_EV_ERROR, CORD_EFRAMESIZE, "a line longer than max_frame %u was discarded",
                   p->max_frame);
        return 0;
      }
      return -EAGAIN;
    }
    len = (size_t)(nl - b);
    p->rx.head += len + 1;
    p->rx_pos += len + 1;
    if (p->trace)
      p->trace(p->trace_arg, 0, b, len + 1);
    close_rxfds(p); /* this binding accepts no handles (spec NODE-8) */
    if (len == 0 || (len == 1 && b[0] == '\r')) {
      push_error(p, CORD_EV_ERROR, CORD_ENODE, "an empty line was discarded");
      return 0;
    }
    if (len > 5 && memmem(b, len, "\"NODE_", 6)) {
      json_error_t jerr;
      json_t *v = json_loadb((const char *)b, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
      json_t *cmd = json_is_object(v) ? json_object_get(v, "cmd") : NULL;
      const char *s = json_is_string(cmd) ? json_string_value(cmd) : NULL;
      bool internal = s && json_string_length(cmd) > 5 && strncmp(s, "NODE_", 5) == 0;
      bool handle = internal && strcmp(s, "NODE_HANDLE") == 0;
      json_decref(v);
      if (internal) {
        if (handle && p->wr == CORD__WR_OPEN) {
          static const char nack[] = "{\"cmd\":\"NODE_HANDLE_NACK\"}";
          (void)queue_json_line(p, nack, sizeof nack - 1);
        }
        continue;
      }
    }
    /* The line is copied out of the receive buffer, which cord_flush() may
     * move while the caller still holds this event. */
    uint8_t *copy = NULL;
    if (cord__arena_reserve(&p->arena, len + 1) == 0)
      copy = p->arena.pbc.alloc(&p->arena, len + 1);
    if (!copy) {
      fail(p, -ENOMEM, "out of memory for a line of %zu bytes", len);
      return 0;
    }
    memcpy(copy, b, len);
    copy[len] = '\0';
    memset(ev, 0, sizeof *ev);
    ev->type = CORD_EV_MESSAGE;
    ev->payload = CORD_PAYLOAD_JSON;
    ev->data = copy;
    ev->len = len;
    return 1;
  }
}

static void on_eof(priv_t *p) {
  size_t left = p->rx.tail - p->rx.head;
  p->saw_eof = true;
  if (left && !p->peer_done && !p->json_skipping) {
    /* Spec FRAME-12, NODE-10. */
    fail_ex(p, CORD_ETRUNCATED, false, "the channel ended %zu bytes into a %s", left,
         p->mode == CORD__MODE_JSON ? "line" : "frame");
    return;
  }
  if (!p->hs_done && p->mode == CORD__MODE_CORD) {
    fail_ex(p, CORD_ENOTCORD, false,
            "the channel ended before the child's Hello (it exited, or is not a Cord child)");
    return;
  }
  if (!p->peer_done) {
    p->peer_done = true; /* spec END-4 */
    fail_outstanding(p, CORD_ECLOSED);
  } else if (p->wr == CORD__WR_OPEN && p->incoming.count) {
    /* The child said Goodbye and shut down its writing side, but it still
     * reads: the requests it sent before are still owed their replies
     * (REQ-2). The parent's direction ends with the last one. */
    return;
  }
  end_direction(p, CORD__V1__GOODBYE__REASON__REASON_DONE);
  flush_some(p);
  close_channel(p, 0, p->failed ? NULL : "the child closed the channel");
}

/* ---- the child process ---------------------------------------------------------------- */

static bool check_exit(priv_t *p) {
  siginfo_t si;
  if (p->reaped)
    return true;
  memset(&si, 0, sizeof si);
  if ((p->pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG)
                     : waitid(P_PID, (id_t)p->owner->pid, &si, WEXITED | WNOHANG)) < 0) {
    if (errno != ECHILD)
      return false;
    /* Someone else reaped it (SIGCHLD ignored, or a waitpid(-1)): the
     * status is lost, but the child is gone. */
    si.si_pid = p->owner->pid;
    si.si_code = CLD_EXITED;
    si.si_status = -1;
  }
  if (si.si_pid == 0)
    return false;
  p->reaped = true;
  if (p->pidfd >= 0) {
    if (p->loop)
      cord__loop_forget_fd(p->owner, p->pidfd);
    close(p->pidfd);
    p->pidfd = -1;
  }
  if (si.si_code == CLD_EXITED) {
    p->exit_raw_status = si.si_status;
    p->exit_raw_signal = 0;
  } else {
    p->exit_raw_status = -1;
    p->exit_raw_signal = si.si_status;
  }
  p->timeout_deadline = p->stop_deadline = 0;
  p->stop_stage = 3;
  cord__loop_timer_changed(p->owner);
  return true;
}

static void run_timers(priv_t *p, int64_t now) {
  if (p->hello_deadline && now >= p->hello_deadline) {
    p->hello_deadline = 0;
    fail(p, CORD_ETIMEOUT, "the child sent no Hello within the handshake timeout"); /* spec HELLO-12 */
    /* The channel is closed; a child that never spoke may not notice: the
     * rest of END-9, from the grace period on. */
    if (!p->reaped && p->stop_stage == 0) {
      p->stop_stage = 1;
      p->stop_deadline = now + p->grace_ms;
    }
  }
  if (p->timeout_deadline && now >= p->timeout_deadline) {
    p->timeout_deadline = 0;
    (void)cord_kill(p->owner, p->kill_signal); /* Node's `timeout` */
  }
  if (p->stop_deadline && now >= p->stop_deadline) {
    /* Spec END-9: the kill signal, then SIGKILL. */
    if (p->stop_stage == 1) {
      (void)cord_kill(p->owner, p->kill_signal);
      p->stop_stage = 2;
      p->stop_deadline = now + p->grace_ms;
    } else {
      (void)cord_kill(p->owner, SIGKILL);
      p->stop_stage = 3;
      p->stop_deadline = 0;
    }
  }
  cord__loop_timer_changed(p->owner);
}

static int read_output(priv_t *p, cord_event_t *ev) {
  for (int i = 1; i < CORD_STDIO_MAX; i++) {
    ssize_t n;
    if (p->stdio[i] < 0)
      continue;
    do
      n = read(p->stdio[i], p->out_chunk, sizeof p->out_chunk);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      continue;
    memset(ev, 0, sizeof *ev);
    ev->type = CORD_EV_OUTPUT;
    ev->stdio_fd = i;
    if (n <= 0) {
      if (p->loop)
        cord__loop_forget_fd(p->owner, p->stdio[i]);
      close(p->stdio[i]);
      p->stdio[i] = -1;
      p->nstdio_open--;
      return 1;
    }
    ev->data = p->out_chunk;
    ev->len = (size_t)n;
    return 1;
  }
  return 0;
}

/* ---- the step -------------------------------------------------------------------------- */

int cord_step(cord_proc_t *c, cord_event_t *ev) {
  priv_t *p;
  bool exit_seen_once = false;

  if (!c || !c->priv || !ev)
    return -EINVAL;
  p = c->priv;
  cord__arena_reset(&p->arena);
  memset(ev, 0, sizeof *ev);
  if (p->close_sent) {
    p->drained = true;
    return 0; /* ended: nothing will ever come */
  }

  for (;;) {
    int r;
    if (pop_event(p, ev))
      return 1;

    /* Frames already buffered come first: one read brings many. */
    if (!p->closed && (p->hs_done || p->first_frame || p->mode == CORD__MODE_JSON)) {
      r = p->mode == CORD__MODE_JSON ? next_line(p, ev) : next_frame(p, ev);
      if (r == 1)
        return 1;
      if (r == 0)
        continue;
      if (r != -EAGAIN)
        return r;
    }
    if (!p->closed) {
      flush_some(p);
      if (p->wr == CORD__WR_DONE && p->peer_done && !p->closed) {
        close_channel(p, 0, "the channel ended");
        continue;
      }
      r = p->saw_eof ? -EAGAIN : read_some(p);
      if (r > 0) {
        p->readable_hint = true;
        continue;
      }
      if (r == 0 || r == -ECONNRESET) {
        on_eof(p); /* spec END-6: a reset is an end of file */
        continue;
      }
      p->readable_hint = false;
      if (r == CORD_EFDMISMATCH) {
        fail(p, r, "descriptors were lost in transit (MSG_CTRUNC)");
        continue;
      }
      if (r != -EAGAIN) {
        fail(p, r, "reading the channel: %s", cord_strerror(r));
        continue;
      }
    }

    run_timers(p, cord__now_ms());
    if (p->pend_head != p->npend)
      continue;

    if (!p->exit_queued && check_exit(p)) {
      /* The child is gone, so everything it wrote is already in the
       * socket: read it all (and the end of file) before reporting the
       * exit, which keeps Node's order disconnect, exit, close. */
      if (!p->closed && !exit_seen_once) {
        exit_seen_once = true;
        continue;
      }
      if (!p->closed && p->saw_eof) {
        /* Its end is closed and it is gone: nothing it was owed can reach it. */
        close_channel(p, 0, "the child exited");
        continue;
      }
      cord__pending_t *e = push_event(p, CORD_EV_EXIT);
      p->exit_queued = true;
      c->exited = 1;
      c->exit_status = p->exit_raw_status;
      c->term_signal = p->exit_raw_signal;
      if (e) {
        e->ev.exit_status = c->exit_status;
        e->ev.term_signal = c->term_signal;
      }
      continue;
    }

    if (read_output(p, ev))
      return 1;

    if (p->exit_queued && p->closed && p->nstdio_open == 0 && !p->close_sent) {
      p->close_sent = true;
      ev->type = CORD_EV_CLOSE;
      cord__loop_timer_changed(c);
      return 1;
    }
    p->drained = true;
    if (p->pidfd < 0 && !p->reaped) {
      p->exit_poll = cord__now_ms() + EXIT_POLL_MS;
      cord__loop_timer_changed(c);
    }
    return -EAGAIN;
  }
}

void cord__flush(cord_proc_t *c) {
  if (c->priv && !c->priv->closed)
    flush_some(c->priv);
}

/* ---- blocking helpers ---------------------------------------------------------------- */

int cord_fds(const cord_proc_t *c, int *fds, short *events, int max) {
  const priv_t *p;
  int n = 0;
  if (!c || !c->priv || max < 0)
    return -EINVAL;
  p = c->priv;
  if (p->fd >= 0 && n < max) {
    fds[n] = p->fd;
    events[n++] = (short)(POLLIN | (queued(p) && p->wr != CORD__WR_DONE ? POLLOUT : 0));
  }
  if (p->pidfd >= 0 && n < max) {
    fds[n] = p->pidfd;
    events[n++] = POLLIN;
  }
  for (int i = 1; i < CORD_STDIO_MAX && n < max; i++)
    if (p->stdio[i] >= 0) {
      fds[n] = p->stdio[i];
      events[n++] = POLLIN;
    }
  return n;
}

int cord_timeout(const cord_proc_t *c) {
  int64_t d, now;
  if (!c || !c->priv)
    return -1;
  d = cord__next_deadline(c->priv);
  if (!d)
    return -1;
  now = cord__now_ms();
  return d <= now ? 0 : (int)(d - now > 0x7fffffff ? 0x7fffffff : d - now);
}

static int poll_child(cord_proc_t *c, int timeout_ms) {
  struct pollfd pf[CORD_STDIO_MAX + 2];
  int fds[CORD_STDIO_MAX + 2];
  short evs[CORD_STDIO_MAX + 2];
  int n = cord_fds(c, fds, evs, CORD_STDIO_MAX + 2);
  int t = cord_timeout(c);
  if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
    timeout_ms = t;
  for (int i = 0; i < n; i++) {
    pf[i].fd = fds[i];
    pf[i].events = evs[i];
    pf[i].revents = 0;
  }
  if (poll(pf, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
    return -errno;
  return 0;
}

int cord_wait(cord_proc_t *c, cord_event_t *ev, int timeout_ms) {
  int64_t deadline = timeout_ms >= 0 ? cord__now_ms() + timeout_ms : 0;
  for (;;) {
    int r = cord_step(c, ev);
    if (r != -EAGAIN)
      return r;
    int left = -1;
    if (timeout_ms >= 0) {
      int64_t now = cord__now_ms();
      if (now >= deadline)
        return -ETIMEDOUT;
      left = (int)(deadline - now);
    }
    if ((r = poll_child(c, left)) < 0)
      return r;
  }
}

int cord_flush(cord_proc_t *c, int timeout_ms) {
  int64_t deadline = timeout_ms >= 0 ? cord__now_ms() + timeout_ms : 0;
  priv_t *p;
  if (!c || !c->priv)
    return -EINVAL;
  p = c->priv;
  for (;;) {
    struct pollfd pf;
    int left = -1;
    flush_some(p); /* before the handshake, only the Hello goes (HELLO-5) */
    if (!p->hs_done && !p->closed) {
      /* Take the child's Hello from what has been read, if it is whole;
       * its READY, like everything else, waits for cord_step(). The
       * arena only grows here, so the caller's last event stays valid. */
      cord_event_t unused;
      while (!p->hs_done && !p->closed && next_frame(p, &unused) == 0)
        ;
      if (p->hs_done)
        continue;
    }
    if (p->hs_done && !queued(p))
      return 0;
    if (p->closed || p->wr == CORD__WR_DONE)
      return CORD_ECLOSED;
    if (timeout_ms >= 0) {
      int64_t now = cord__now_ms();
      if (now >= deadline)
        return -ETIMEDOUT;
      left = (int)(deadline - now);
    }
    pf.fd = p->fd;
    /* Spec FLOW-1: keep reading while waiting to write, into the receive
     * buffer, up to the queue limit; cord_step() decodes it later. */
    pf.events = (short)((p->hs_done ? POLLOUT : 0) |
                        (p->rx.tail - p->rx.head < p->queue_limit ? POLLIN : 0));
    pf.revents = 0;
    if (poll(&pf, 1, left) < 0 && errno != EINTR)
      return -errno;
    if (pf.revents & (POLLIN | POLLHUP)) {
      int r = read_some(p);
      if (r == -ECONNRESET)
        r = 0;
      if (r == 0)
        p->saw_eof = true;
      if (r == 0 || (r < 0 && r != -EAGAIN)) {
        if (r == 0)
          on_eof(p);
        else
          fail(p, r, "reading the channel: %s", cord_strerror(r));
      }
    }
  }
}

/* ---- lifetime ----------------------------------------------------------------------------- */

int cord_spawn(cord_proc_t *c, const char *module, const char *const *args, const cord_options_t *opts) {
  static const cord_options_t defaults;
  const cord_options_t *o = opts ? opts : &defaults;
  cord__proc_t proc;
  priv_t *p;
  int r;

  if (!c)
    return -EINVAL;
  memset(c, 0, sizeof *c);
  if ((o->max_frame && o->max_frame < CORD__HELLO_MAX) || o->max_frame > CORD__FRAME_ABS_MAX ||
      o->max_fds > CORD_FDS_MAX || (o->kill_signal < 0 || o->kill_signal >= NSIG)) {
    cord__spawn_errorf("max_frame, max_fds or kill_signal out of range");
    return -EINVAL;
  }
  if ((o->impl_name && strlen(o->impl_name) > 64) || (o->impl_version && strlen(o->impl_version) > 32)) {
    cord__spawn_errorf("impl_name is limited to 64 bytes and impl_version to 32");
    return -EINVAL;
  }
  p = calloc(1, sizeof *p);
  if (!p) {
    cord__spawn_errorf("out of memory");
    return -ENOMEM;
  }
  p->owner = c;
  p->mode = o->serialization == CORD_SERIALIZATION_JSON ? CORD__MODE_JSON : CORD__MODE_CORD;
  p->max_frame = o->max_frame ? o->max_frame : CORD__DEF_MAX_FRAME;
  p->max_fds = (o->flags & CORD_OPT_NO_FDS) ? 0 : o->max_fds ? o->max_fds : CORD__DEF_MAX_FDS;
  p->high_water = o->high_water ? o->high_water : CORD__DEF_HIGH_WATER;
  p->queue_limit = o->queue_limit ? o->queue_limit : CORD__DEF_QUEUE_LIMIT;
  p->grace_ms = o->grace_ms ? o->grace_ms : CORD__DEF_GRACE_MS;
  p->kill_signal = o->kill_signal ? o->kill_signal : SIGTERM;
  p->detached = (o->flags & CORD_OPT_DETACHED) != 0;
  p->trace = o->trace;
  p->trace_arg = o->trace_arg;
  p->first_frame = true;
  p->heap_index = p->ready_index = p->dirty_index = p->handed_index = SIZE_MAX;
  cord__arena_init(&p->arena);
  c->priv = p;
  c->serialization = p->mode == CORD__MODE_JSON ? CORD_SERIALIZATION_JSON : CORD_SERIALIZATION_CORD;

  if (p->mode == CORD__MODE_CORD && (r = queue_hello(p, o)) < 0) {
    cord__spawn_errorf("cannot build the Hello: %s", cord_strerror(r));
    goto fail;
  }
  if ((r = cord__spawn_process(&proc, module, args, o)) < 0)
    goto fail;
  p->fd = proc.chan_fd;
  p->pidfd = proc.pidfd;
  for (int i = 0; i < CORD_STDIO_MAX; i++) {
    p->stdio[i] = proc.stdio[i];
    if (i > 0 && proc.stdio[i] >= 0)
      p->nstdio_open++;
  }
  c->pid = proc.pid;
  c->connected = 1;
  if (p->mode == CORD__MODE_JSON) {
    /* Node's channel has no handshake: ready at once. */
    p->hs_done = true;
    c->peer.max_frame = CORD__FRAME_ABS_MAX;
    push_event(p, CORD_EV_READY);
  } else {
    p->hello_deadline = cord__now_ms() + (o->hello_timeout_ms ? o->hello_timeout_ms : CORD__DEF_HELLO_MS);
    flush_some(p); /* the Hello goes at once (spec HELLO-1) */
  }
  if (o->timeout_ms)
    p->timeout_deadline = cord__now_ms() + o->timeout_ms;
  return 0;

fail:
  cord__buf_free(&p->tx);
  cord__arena_free(&p->arena);
  free(p);
  c->priv = NULL;
  return r;
}

void cord_proc_close(cord_proc_t *c) {
  priv_t *p;
  if (!c || !(p = c->priv))
    return;
  cord__loop_forget(c);
  if (p->fd >= 0)
    close(p->fd);
  if (!p->reaped && !p->detached) {
    siginfo_t si;
    (void)cord_kill(c, SIGKILL);
    while ((p->pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED)
                          : waitid(P_PID, (id_t)c->pid, &si, WEXITED)) < 0 && errno == EINTR)
      ;
  }
  if (p->pidfd >= 0)
    close(p->pidfd);
  for (int i = 0; i < CORD_STDIO_MAX; i++)
    if (p->stdio[i] >= 0)
      close(p->stdio[i]);
  drop_marks(p);
  free(p->marks);
  close_rxfds(p);
  free(p->rxfds);
  cord__buf_free(&p->tx);
  cord__buf_free(&p->rx);
  cord__arena_free(&p->arena);
  cord__idset_free(&p->outstanding);
  cord__idset_free(&p->incoming);
  cord__idset_free(&p->pings);
  free(p->pend);
  free(p);
  c->priv = NULL;
  c->connected = 0;
}

void cord_child_close(cord_proc_t *c) { cord_proc_close(c); }

int cord_stdio_fd(const cord_proc_t *c, int child_fd) {
  if (!c || !c->priv || child_fd < 0 || child_fd >= CORD_STDIO_MAX)
    return -1;
  return c->priv->stdio[child_fd];
}

int cord_close_stdin(cord_proc_t *c) {
  if (!c || !c->priv || c->priv->stdio[0] < 0)
    return -EINVAL;
  close(c->priv->stdio[0]);
  c->priv->stdio[0] = -1;
  return 0;
}

const char *cord_event_name(cord_event_type_t type) {
  static const char *names[] = {"NONE",  "READY", "MESSAGE", "REPLY",      "CANCEL", "PONG",
                                "DRAIN", "ERROR", "OUTPUT",  "DISCONNECT", "EXIT",   "CLOSE"};
  return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "UNKNOWN";
}

ProtobufCMessage *cord_event_unpack(const cord_event_t *ev, const ProtobufCMessageDescriptor *desc) {
  if (!ev || !desc || ev->payload != CORD_PAYLOAD_TYPED || !ev->type_name || strcmp(ev->type_name, desc->name) != 0)
    return NULL;
  return protobuf_c_message_unpack(desc, NULL, ev->len, ev->data);
}
