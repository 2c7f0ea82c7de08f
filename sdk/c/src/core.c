/* core.c: the parent's protocol core: handshake, dispatch, requests, cancels and pings, and the end of each direction, over memory only. */
#define _GNU_SOURCE
#include "core.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cord.pb-c.h"
#include "cord_scan.h"

typedef cord__core_t core_t;

/* ---- the state machines -------------------------------------------------------------- */

/* The receiving direction moves forward only: HELLO -> OPEN -> GOODBYE ->
 * ENDED, any step may be skipped to ENDED. */
static void in_to(core_t *k, cord__in_t to) {
  assert(to > k->in || (to == CORD__IN_ENDED && k->in == CORD__IN_ENDED));
  assert(to != CORD__IN_GOODBYE || k->in == CORD__IN_OPEN);
  k->in = to;
}

/* The sending direction: OPEN -> ENDING -> ENDED, or OPEN -> ENDED. */
static void out_to(core_t *k, cord__out_t to) {
  assert(to > k->out);
  k->out = to;
}

static bool hs_done(const core_t *k) { return k->hs; }

bool cord__core_connected(const core_t *k) { return k->out == CORD__OUT_OPEN; }

void cord__core_set_detail(core_t *k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->detail, sizeof k->detail, fmt, ap);
  va_end(ap);
}

int cord__core_refuse(core_t *k, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->refusal, sizeof k->refusal, fmt, ap);
  va_end(ap);
  k->refusal_code = code;
  return code;
}

/* ---- framing --------------------------------------------------------------------------- */

static size_t cord_frame_len(const uint8_t *p, size_t avail) {
  return avail < CORD_WIRE_PREFIX ? 0 : CORD_WIRE_PREFIX + (size_t)cord_wire_get_prefix(p);
}

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static uint8_t *put_varint(uint8_t *w, uint64_t v) {
  while (v >= 0x80) {
    *w++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *w++ = (uint8_t)v;
  return w;
}

/* A length-delimited field's tag and length: the parts of a frame that
 * protobuf-c cannot write for a payload it does not hold. */
static uint8_t *put_len_field(uint8_t *w, unsigned num, size_t len) {
  *w++ = (uint8_t)(num << 3 | 2);
  return put_varint(w, len);
}

static size_t len_field_size(size_t len) { return 1 + varint_len(len) + len; }

/* Packs f with its prefix at out, which has room for 4 +
 * cord__v1__frame__get_packed_size(f) bytes. */
static size_t pack(const Cord__V1__Frame *f, uint8_t *out) {
  size_t n = cord__v1__frame__pack(f, out + CORD_WIRE_PREFIX);
  cord_wire_put_prefix(out, (uint32_t)n);
  return n + CORD_WIRE_PREFIX;
}

/* The largest frame body the peer accepts now. */
static uint32_t peer_limit(const core_t *k) {
  return hs_done(k) ? k->peer.max_frame : CORD_WIRE_MAX_FRAME;
}

/* Queues a frame of protobuf-c's making, within the queue's bound unless
 * `forced`. */
static int queue_pbc(core_t *k, const Cord__V1__Frame *f, bool forced) {
  size_t n = cord__v1__frame__get_packed_size(f);
  uint8_t *w;
  if (n > peer_limit(k))
    return CORD_ETOOBIG;
  if (!forced && cord__txq_len(&k->tx) && cord__txq_len(&k->tx) + n + CORD_WIRE_PREFIX > k->cfg.queue_limit)
    return -ENOBUFS;
  if (cord__txq_reserve(&k->tx, n + CORD_WIRE_PREFIX, &w) < 0)
    return -ENOMEM;
  cord__txq_commit(&k->tx, pack(f, w));
  return 0;
}

/* Puts the last frame of our direction (a Goodbye or an Error) aside; it
 * goes once everything queued before stream position `at` is written. */
static void set_last(core_t *k, const Cord__V1__Frame *f, uint64_t at) {
  size_t n = cord__v1__frame__get_packed_size(f);
  k->last_len = k->last_off = 0;
  if (n + CORD_WIRE_PREFIX <= sizeof k->last && n <= peer_limit(k) &&
      (hs_done(k) || n + CORD_WIRE_PREFIX <= CORD_WIRE_MIN_FRAME))
    k->last_len = pack(f, k->last);
  k->last_at = at;
}

/* ---- queueing user messages -------------------------------------------------------------- */

int cord__core_check_msg(const core_t *k, const cord_msg_t *m) {
  if (!m)
    return 0;
  if (m->len && !m->data)
    return -EINVAL;
  if (m->nfds && !m->fds)
    return -EINVAL;
  if (m->nfds > CORD_FDS_MAX || (m->nfds && hs_done(k) && m->nfds > k->peer.max_fds))
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

/* Duplicates the caller's descriptors, close-on-exec, into a new array
 * the queue will own. */
static int dup_fds(const int *fds, unsigned n, int **out) {
  int *d = cord__malloc(n * sizeof *d);
  if (!d)
    return -ENOMEM;
  for (unsigned i = 0; i < n; i++) {
    d[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (d[i] < 0) {
      int err = -errno;
      while (i--)
        close(d[i]);
      cord__free(d);
      return err;
    }
  }
  *out = d;
  return 0;
}

/* A Message frame: protobuf-c packs its scalar fields, and the payload
 * field follows it, written here from the caller's bytes; fields of one
 * message may come in any order on the wire, so the result is the same
 * message protobuf-c would make, without a NUL-terminated copy of a json
 * text or of a typed value. */
int cord__core_send(core_t *k, uint64_t id, uint64_t reply_to, uint32_t status, const cord_msg_t *m) {
  Cord__V1__Message msg = CORD__V1__MESSAGE__INIT;
  size_t type_len = 0, len = m ? m->len : 0, typed = 0, payload = 0, body, frame;
  int kind = m ? m->payload : CORD_PAYLOAD_NONE, *dups = NULL, r;
  uint8_t *w;

  msg.id = id;
  msg.reply_to = reply_to;
  msg.status = status;
  msg.fds = m ? m->nfds : 0;
  if (kind == CORD_PAYLOAD_TYPED) {
    type_len = strlen(m->type_name);
    typed = len_field_size(type_len) + (len ? len_field_size(len) : 0);
    payload = len_field_size(typed);
  } else if ((kind == CORD_PAYLOAD_JSON || kind == CORD_PAYLOAD_RAW) && len) {
    payload = len_field_size(len); /* proto3 sends no empty field: an empty payload is none */
  } else {
    kind = CORD_PAYLOAD_NONE;
  }
  /* The scalar fields are packed once, into a buffer that holds the most
   * they can take (two uint64 and two uint32 with their tags: 34 bytes),
   * rather than sized by one walk of the descriptors and packed by another. */
  uint8_t head[40];
  size_t head_len = cord__v1__message__pack(&msg, head);
  assert(head_len <= sizeof head);
  body = head_len + payload;
  frame = len_field_size(body);
  if (frame > peer_limit(k))
    return CORD_ETOOBIG;
  /* One frame larger than the bound still goes into an empty queue: the
   * bound is on what waits, not on the size of a message. */
  if (cord__txq_len(&k->tx) && cord__txq_len(&k->tx) + frame + CORD_WIRE_PREFIX > k->cfg.queue_limit)
    return -ENOBUFS;
  if (msg.fds && ((r = cord__txq_reserve_mark(&k->tx)) < 0 || (r = dup_fds(m->fds, m->nfds, &dups)) < 0))
    return r;
  if (cord__txq_reserve(&k->tx, frame + CORD_WIRE_PREFIX, &w) < 0) {
    for (unsigned i = 0; i < msg.fds; i++)
      close(dups[i]);
    cord__free(dups);
    return -ENOMEM;
  }
  if (dups)
    cord__txq_add_mark(&k->tx, dups, msg.fds);
  uint8_t *start = w;
  cord_wire_put_prefix(w, (uint32_t)frame);
  w = put_len_field(w + CORD_WIRE_PREFIX, CORD__V1__FRAME__BODY_MESSAGE, body);
  memcpy(w, head, head_len);
  w += head_len;
  if (kind == CORD_PAYLOAD_TYPED) {
    w = put_len_field(w, CORD__V1__MESSAGE__PAYLOAD_TYPED, typed);
    w = put_len_field(w, 1, type_len);
    memcpy(w, m->type_name, type_len);
    w += type_len;
    if (len)
      w = put_len_field(w, 2, len);
  } else if (kind != CORD_PAYLOAD_NONE) {
    w = put_len_field(w, (unsigned)kind, len);
  }
  if (kind != CORD_PAYLOAD_NONE && len) {
    memcpy(w, m->data, len);
    w += len;
  }
  assert((size_t)(w - start) == frame + CORD_WIRE_PREFIX);
  (void)start;
  cord__txq_commit(&k->tx, frame + CORD_WIRE_PREFIX);
  return 0;
}

/* After queueing: the high-water report (Node's send() returning false). */
int cord__core_after_queue(core_t *k) {
  if (cord__txq_len(&k->tx) >= k->cfg.high_water) {
    k->above_hw = true;
    return 1;
  }
  return 0;
}

/* Whether something that waits for an answer may go: never once the
 * peer's direction has ended, since no answer could come [REQ-11,
 * PING-5]. */
static int may_ask(const core_t *k) {
  if (!cord__core_connected(k))
    return CORD_ECLOSED;
  if (k->cfg.binding != CORD__BIND_CORD)
    return CORD_ENODE;
  return k->in >= CORD__IN_GOODBYE ? CORD_ECLOSED : 0;
}

int cord__core_request(core_t *k, const cord_msg_t *m, uint64_t *id) {
  int r = may_ask(k);
  if (r < 0 || (r = cord__core_check_msg(k, m)) < 0)
    return r;
  /* Spec REQ-1: ids 1, 2, 3... never reused on this channel. The set has
   * room before the frame is queued, so no failure comes after it. */
  uint64_t rid = k->next_id + 1;
  if ((r = cord__idset_reserve(&k->outstanding)) < 0 || (r = cord__core_send(k, rid, 0, 0, m)) < 0)
    return r;
  (void)cord__idset_add(&k->outstanding, rid);
  k->next_id = rid;
  if (id)
    *id = rid;
  return cord__core_after_queue(k);
}

int cord__core_reply(core_t *k, uint64_t id, uint32_t status, const cord_msg_t *m) {
  int r;
  if (!cord__core_connected(k))
    return CORD_ECLOSED;
  if (k->cfg.binding != CORD__BIND_CORD)
    return CORD_ENODE;
  if (!cord__idset_has(&k->incoming, id))
    return CORD_ESTATE; /* not a request of the peer, or answered already */
  /* Spec ERR-1, ERR-2: no POSIX, SDK or reserved code goes on the wire. */
  if ((status && status < 1000) || (status >= 2000 && status < CORD_APP_ERROR_MIN) || status > 0x7fffffffu)
    return -EINVAL;
  if ((r = cord__core_check_msg(k, m)) < 0 || (r = cord__core_send(k, 0, id, status, m)) < 0)
    return r;
  cord__idset_del(&k->incoming, id);
  r = cord__core_after_queue(k);
  /* The peer said Goodbye while this request was open: with the last
   * answer given, our direction ends too (spec END-3). */
  if (k->in >= CORD__IN_GOODBYE && k->incoming.count == 0)
    cord__core_end(k, CORD__V1__GOODBYE__REASON__REASON_DONE);
  return r;
}

int cord__core_cancel(core_t *k, uint64_t id) {
  Cord__V1__Cancel x = CORD__V1__CANCEL__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  int r;
  if (!cord__core_connected(k))
    return CORD_ECLOSED;
  if (k->cfg.binding != CORD__BIND_CORD)
    return CORD_ENODE;
  if (!cord__idset_has(&k->outstanding, id))
    return CORD_ESTATE; /* spec REQ-6 */
  x.id = id;
  f.body_case = CORD__V1__FRAME__BODY_CANCEL;
  f.cancel = &x;
  return (r = queue_pbc(k, &f, false)) < 0 ? r : cord__core_after_queue(k);
}

int cord__core_ping(core_t *k, uint64_t *nonce) {
  Cord__V1__Ping x = CORD__V1__PING__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  int r = may_ask(k);
  if (r < 0 || (r = cord__idset_reserve(&k->pings)) < 0)
    return r;
  x.nonce = k->next_nonce + 1;
  f.body_case = CORD__V1__FRAME__BODY_PING;
  f.ping = &x;
  if ((r = queue_pbc(k, &f, false)) < 0)
    return r;
  (void)cord__idset_add(&k->pings, x.nonce);
  k->next_nonce = x.nonce;
  if (nonce)
    *nonce = x.nonce;
  return cord__core_after_queue(k);
}

void cord__core_end(core_t *k, int reason) {
  if (k->out != CORD__OUT_OPEN)
    return;
  if (k->cfg.binding == CORD__BIND_CORD) {
    Cord__V1__Goodbye g = CORD__V1__GOODBYE__INIT;
    Cord__V1__Frame f = CORD__V1__FRAME__INIT;
    g.reason = reason;
    f.body_case = CORD__V1__FRAME__BODY_GOODBYE;
    f.goodbye = &g;
    set_last(k, &f, cord__txq_end(&k->tx));
  }
  k->pong_due = false; /* nothing follows the Goodbye [END-1] */
  out_to(k, CORD__OUT_ENDING);
}

/* A Pong for `nonce` [PING-2]; with the queue at its bound, the newest
 * nonce waits aside and goes once the queue has room, answering the Pings
 * that arrived meanwhile [PING-6]. */
static void pong(core_t *k, uint64_t nonce) {
  Cord__V1__Pong q = CORD__V1__PONG__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  q.nonce = nonce;
  f.body_case = CORD__V1__FRAME__BODY_PONG;
  f.pong = &q;
  if (k->pong_due || queue_pbc(k, &f, false) < 0) {
    k->pong_due = true;
    k->pong_nonce = nonce;
  }
}

/* A non-fatal Error frame about the peer's frame, when the queue has room
 * for it; one the queue cannot take is dropped, as a SHOULD allows
 * (REQ-5, MSG-4). */
static void report(core_t *k, int code, const char *detail) {
  Cord__V1__Error e = CORD__V1__ERROR__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  if (k->out != CORD__OUT_OPEN || k->cfg.binding != CORD__BIND_CORD)
    return;
  e.code = (uint32_t)-code;
  e.detail = (char *)detail;
  f.body_case = CORD__V1__FRAME__BODY_ERROR;
  f.error = &e;
  (void)queue_pbc(k, &f, false);
}

/* ---- failure ------------------------------------------------------------------------------ */

static void vfail(core_t *k, int code, bool tell, const char *fmt, va_list ap) {
  if (k->fail_code || k->in == CORD__IN_ENDED)
    return;
  k->fail_code = code;
  vsnprintf(k->fail_detail, sizeof k->fail_detail, fmt, ap);
  k->best_effort = true;
  in_to(k, CORD__IN_ENDED);
  cord__rxq_close_fds(&k->rx); /* spec FD-9 */
  if (k->out == CORD__OUT_ENDED)
    return;
  /* Spec END-11: an Error frame, after the frame being written and
   * instead of everything behind it, when the code is one the wire
   * carries and our direction is still open. */
  uint64_t at = cord__txq_boundary(&k->tx);
  cord__txq_truncate(&k->tx, at);
  k->last_len = 0;
  k->pong_due = false;
  /* An answer being written is finished; no other goes. */
  k->answers_n = k->answer_off ? 1 : 0;
  if (tell && k->cfg.binding == CORD__BIND_CORD && k->out == CORD__OUT_OPEN && -code >= 1000 && -code < 2000) {
    Cord__V1__Error e = CORD__V1__ERROR__INIT;
    Cord__V1__Frame f = CORD__V1__FRAME__INIT;
    e.code = (uint32_t)-code;
    e.detail = k->fail_detail;
    f.body_case = CORD__V1__FRAME__BODY_ERROR;
    f.error = &e;
    set_last(k, &f, at);
    k->last_is_error = true;
  }
  if (k->out == CORD__OUT_OPEN)
    out_to(k, CORD__OUT_ENDING);
}

void cord__core_fail(core_t *k, int code, bool tell, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(k, code, tell, fmt, ap);
  va_end(ap);
}

static void fail(core_t *k, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(core_t *k, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(k, code, true, fmt, ap);
  va_end(ap);
}

void cord__core_peer_gone(core_t *k) {
  if (k->in != CORD__IN_ENDED && !k->eof)
    cord__core_rx_eof(k);
  k->best_effort = true;
}

/* ---- the handshake ------------------------------------------------------------------------ */

static void copy_text(char *dst, size_t cap, cord_scan_span_t s) {
  size_t n = 0;
  /* Spec SEC-7: what the peer claims is shown bounded and printable. */
  for (; n < s.n && n + 1 < cap; n++)
    dst[n] = (s.p[n] >= 0x20 && s.p[n] < 0x7f) ? (char)s.p[n] : '?';
  dst[n] = '\0';
}

/* Messages queued before the peer's Hello could not be checked against its
 * limits. Now they can: each one it would refuse is dropped, with an error
 * event, and a REPLY failure for a request (spec FRAME-2, FD-1). The
 * events are made room for first; without memory the channel fails
 * instead, and nothing is lost. */
static void check_early_queue(core_t *k) {
  cord__txq_t *q = &k->tx;
  unsigned drop = 0;
  for (int pass = 0; pass < 2; pass++) {
    uint64_t pos = k->hello_end > q->pos ? k->hello_end : q->pos;
    size_t mk = q->mhead;
    while (pos < cord__txq_end(q)) {
      uint8_t *b = q->p + q->head + (size_t)(pos - q->pos);
      size_t len = cord_wire_get_prefix(b);
      unsigned nfds = 0;
      while (mk < q->mtail && q->marks[mk].pos < pos)
        mk++;
      if (mk < q->mtail && q->marks[mk].pos == pos)
        nfds = q->marks[mk].n;
      if (len <= k->peer.max_frame && nfds <= k->peer.max_fds) {
        pos += CORD_WIRE_PREFIX + len;
        continue;
      }
      if (pass == 0) {
        drop++;
        pos += CORD_WIRE_PREFIX + len;
        continue;
      }
      cord_scan_frame_t f;
      uint64_t id = cord_scan(b + CORD_WIRE_PREFIX, len, &f, NULL, NULL) == 0 && f.body == CORD_SCAN_MESSAGE
                        ? f.v[1] : 0;
      cord__owed_t *o = &k->owed[k->owed_tail++];
      o->type = CORD_EV_ERROR;
      o->size = (uint32_t)len;
      o->limit = nfds > k->peer.max_fds ? k->peer.max_fds : k->peer.max_frame;
      o->fds = nfds > k->peer.max_fds;
      o->id = 0;
      if (id && cord__idset_del(&k->outstanding, id)) {
        cord__owed_t *rep = &k->owed[k->owed_tail++];
        *rep = *o;
        rep->type = CORD_EV_REPLY;
        rep->id = id;
      }
      cord__txq_remove(q, pos, CORD_WIRE_PREFIX + len); /* the next frame is now at pos */
    }
    if (pass == 0) {
      if (!drop)
        return;
      /* Two events per dropped frame at most: an ERROR and a REPLY. */
      if (2 * drop > sizeof k->owed_inline / sizeof k->owed_inline[0]) {
        cord__owed_t *v = cord__malloc(2 * drop * sizeof *v);
        if (!v) {
          fail(k, -ENOMEM, "out of memory for the events of %u messages the child cannot take", drop);
          return;
        }
        k->owed = v;
      }
      k->owed_head = k->owed_tail = 0;
    }
  }
}

/* Checks the child's Hello, the first frame (whose bytes, prefix included,
 * are `raw`, for the preview of spec HELLO-7). */
static void handshake(core_t *k, const cord_scan_frame_t *f, const uint8_t *raw, size_t n) {
  uint32_t min_v = (uint32_t)f->v[2], max_v = (uint32_t)f->v[3], max_frame = (uint32_t)f->v[4];
  uint32_t v = max_v < CORD_WIRE_VERSION_MAX ? max_v : CORD_WIRE_VERSION_MAX;
  uint32_t lo = min_v > CORD_WIRE_VERSION_MIN ? min_v : CORD_WIRE_VERSION_MIN;

  if (f->v[1] != CORD_WIRE_MAGIC) {
    char pv[CORD_PREVIEW_MAX];
    cord_preview(raw, n, pv, sizeof pv);
    fail(k, CORD_ENOTCORD, "the child's Hello has magic 0x%08x, not 0x%08x: %s", (unsigned)f->v[1], CORD_WIRE_MAGIC,
         pv);
    return;
  }
  if (min_v > max_v || max_frame < CORD_WIRE_MIN_FRAME || max_frame > CORD_WIRE_MAX_FRAME) {
    fail(k, CORD_EPROTOCOL, "invalid Hello: versions %u..%u, max_frame %u", min_v, max_v, max_frame);
    return;
  }
  if (v < lo) {
    /* Spec HELLO-8: name both ranges. */
    fail(k, CORD_EVERSION, "no common version: we speak %u..%u, peer speaks %u..%u", CORD_WIRE_VERSION_MIN,
         CORD_WIRE_VERSION_MAX, min_v, max_v);
    return;
  }
  k->peer.version = v;
  k->peer.max_frame = max_frame;
  k->peer.max_fds = f->v[5] > CORD_FDS_MAX ? CORD_FDS_MAX : (uint32_t)f->v[5];
  k->peer.capabilities = f->v[6];
  k->peer.pid = (uint32_t)f->v[7];
  copy_text(k->peer.impl_name, sizeof k->peer.impl_name, f->s[0]);
  copy_text(k->peer.impl_version, sizeof k->peer.impl_version, f->s[1]);
  in_to(k, CORD__IN_OPEN);
  k->hs = true;
  check_early_queue(k);
}

/* ---- frames in --------------------------------------------------------------------------------- */

/* Fills the payload of an event from a scanned Message; the bytes stay in
 * the receive buffer, which is pinned until the next step. */
static int fill_payload(core_t *k, cord_event_t *ev, const cord_scan_frame_t *f) {
  ev->payload = f->payload;
  ev->data = f->s[1].n ? f->s[1].p : NULL;
  ev->len = f->s[1].n;
  if (f->payload == CORD_PAYLOAD_TYPED) {
    /* The name is handed out NUL-terminated: short ones from the core,
     * longer ones from a buffer kept for the next. */
    size_t n = f->s[0].n;
    char *t = k->tname_inline;
    if (n >= sizeof k->tname_inline) {
      if (n >= k->tname_cap) {
        char *x = cord__realloc(k->tname, n + 1);
        if (!x)
          return -ENOMEM;
        k->tname = x;
        k->tname_cap = n + 1;
      }
      t = k->tname;
    }
    memcpy(t, f->s[0].p, n);
    t[n] = '\0';
    ev->type_name = t;
  }
  return 0;
}

/* Takes the n oldest queued descriptors for a frame (spec FD-6, FD-7). */
static int claim_fds(core_t *k, cord_event_t *ev, uint64_t n) {
  if (n > k->cfg.max_fds || n > cord__rxq_nfds(&k->rx))
    return CORD_EFDMISMATCH;
  cord__rxq_take_fds(&k->rx, k->evfds, (unsigned)n);
  ev->fds = n ? k->evfds : NULL;
  ev->nfds = (unsigned)n;
  return 0;
}

static void drop_fds(cord_event_t *ev) {
  for (unsigned i = 0; i < ev->nfds; i++)
    close(ev->fds[i]);
  ev->fds = NULL;
  ev->nfds = 0;
}

/* Handles one whole frame body. Returns 1 with *ev filled, or 0. */
static int on_frame(core_t *k, const uint8_t *body, size_t len, cord_event_t *ev) {
  cord_scan_frame_t f;
  const char *why;
  size_t at;
  int r;

  if (cord_scan(body, len, &f, &why, &at) < 0) {
    if (k->first) {
      char pv[CORD_PREVIEW_MAX];
      cord_preview(body - CORD_WIRE_PREFIX, len + CORD_WIRE_PREFIX, pv, sizeof pv);
      fail(k, CORD_ENOTCORD, "the child's first bytes are not a Cord frame: %s", pv);
    } else {
      fail(k, CORD_EPROTOCOL, "a frame of %zu bytes is not a valid cord.v1.Frame: %s (at byte %zu)", len, why, at);
    }
    return 0;
  }
  if (k->in == CORD__IN_HELLO) {
    if (f.body != CORD_SCAN_HELLO)
      fail(k, CORD_EUNEXPECTED, "the child's first frame is not a Hello (body %d)", f.body); /* spec HELLO-6 */
    else
      handshake(k, &f, body - CORD_WIRE_PREFIX, len + CORD_WIRE_PREFIX);
    return 0;
  }
  if (k->in == CORD__IN_GOODBYE) {
    fail(k, CORD_EUNEXPECTED, "a frame after the child's Goodbye"); /* spec END-2 */
    return 0;
  }
  switch (f.body) {
  case CORD_SCAN_HELLO:
    fail(k, CORD_EUNEXPECTED, "a second Hello"); /* spec HELLO-10 */
    return 0;

  case CORD_SCAN_MESSAGE: {
    uint64_t id = f.v[1], reply_to = f.v[2];
    uint32_t status = (uint32_t)f.v[3];
    if ((id && reply_to) || (status && !reply_to)) {
      fail(k, CORD_EPROTOCOL, "a message with id %llu, reply_to %llu and status %u", (unsigned long long)id,
           (unsigned long long)reply_to, status); /* spec MSG-5 */
      return 0;
    }
    if (id && cord__idset_has(&k->incoming, id)) {
      fail(k, CORD_EPROTOCOL, "request id %llu is already outstanding", (unsigned long long)id); /* REQ-4 */
      return 0;
    }
    if ((r = claim_fds(k, ev, f.v[4])) < 0) {
      fail(k, r, "a message announces %llu descriptors; %u arrived, %u are accepted", (unsigned long long)f.v[4],
           cord__rxq_nfds(&k->rx), k->cfg.max_fds);
      return 0;
    }
    if (reply_to && !cord__idset_has(&k->outstanding, reply_to)) {
      /* Spec REQ-5: not delivered; reported to the child and the app. */
      drop_fds(ev);
      cord__core_set_detail(k, "reply to unknown request %llu", (unsigned long long)reply_to);
      report(k, CORD_EUNKNOWNREQ, k->detail);
      memset(ev, 0, sizeof *ev);
      ev->type = CORD_EV_ERROR;
      ev->error = CORD_EUNKNOWNREQ;
      ev->detail = k->detail;
      return 1;
    }
    /* Room first: past this point nothing can fail, and no state has changed. */
    if ((id && cord__idset_reserve(&k->incoming) < 0) || fill_payload(k, ev, &f) < 0) {
      drop_fds(ev);
      fail(k, -ENOMEM, "out of memory for a message of %zu bytes", len);
      return 0;
    }
    if (reply_to) {
      cord__idset_del(&k->outstanding, reply_to);
      ev->type = CORD_EV_REPLY;
      ev->id = reply_to;
      ev->status = status;
      return 1;
    }
    if (id)
      (void)cord__idset_add(&k->incoming, id);
    ev->type = CORD_EV_MESSAGE;
    ev->id = id;
    return 1;
  }

  case CORD_SCAN_CANCEL:
    if (!cord__idset_has(&k->incoming, f.v[1]))
      return 0; /* spec REQ-8: crossed its reply, or never ours */
    ev->type = CORD_EV_CANCEL;
    ev->id = f.v[1];
    return 1;

  case CORD_SCAN_PING:
    if (k->out == CORD__OUT_OPEN)
      pong(k, f.v[1]); /* spec PING-2 */
    return 0;

  case CORD_SCAN_PONG:
    if (!cord__idset_del(&k->pings, f.v[1]))
      return 0; /* spec PING-3 */
    ev->type = CORD_EV_PONG;
    ev->id = f.v[1];
    return 1;

  case CORD_SCAN_GOODBYE:
    in_to(k, CORD__IN_GOODBYE); /* its outstanding requests and Pings come as CLOSED (END-3, PING-7) */
    if (k->incoming.count == 0)
      cord__core_end(k, CORD__V1__GOODBYE__REASON__REASON_DONE);
    return 0;

  case CORD_SCAN_ERROR: {
    /* A code above 2147483647 is in no range: unknown, so not fatal
     * (spec ERR-2, ERR-5). */
    uint32_t code = (uint32_t)f.v[1];
    int err = code > INT_MAX ? INT_MIN : -(int)code;
    char text[160];
    copy_text(text, sizeof text, f.s[0]);
    if (cord_err_is_fatal(err)) {
      cord__core_fail(k, err, false, "the child reports %s: %s", cord_err_name(err), *text ? text : cord_strerror(err));
      return 0;
    }
    ev->type = CORD_EV_ERROR;
    ev->error = err;
    ev->status = code;
    cord__core_set_detail(k, "the child reports %s: %s", cord_err_name(err), *text ? text : cord_strerror(err));
    ev->detail = k->detail;
    return 1;
  }

  default:
    return 0; /* spec FRAME-8: a body we do not know */
  }
}

/* Looks for one whole frame in the receive buffer and handles it. Returns
 * 1 with an event, 0 after a frame without one, -EAGAIN when more bytes
 * are needed. */
static int next_frame(core_t *k, cord_event_t *ev) {
  size_t avail = cord__rxq_len(&k->rx);
  const uint8_t *b;
  uint32_t len;
  int r;

  if (avail < CORD_WIRE_PREFIX)
    return -EAGAIN; /* (the buffer may not exist yet) */
  b = k->rx.p + k->rx.head;
  len = cord_wire_get_prefix(b);
  if (k->first && len > CORD_WIRE_MIN_FRAME) {
    char pv[CORD_PREVIEW_MAX];
    cord_preview(b, avail, pv, sizeof pv);
    fail(k, CORD_ENOTCORD, "the child wrote non-protocol bytes on the channel: %s", pv); /* spec HELLO-7 */
    return 0;
  }
  if (len > k->cfg.max_frame) {
    fail(k, CORD_EFRAMESIZE, "frame of %u bytes exceeds max_frame %u", len, k->cfg.max_frame); /* spec FRAME-5 */
    return 0;
  }
  /* Spec FD-8: a descriptor that arrived wholly before this frame began
   * belongs to no frame. */
  if (cord__rxq_nfds(&k->rx) && k->rx.fds[k->rx.fhead].pos <= k->rx.pos) {
    fail(k, CORD_EFDMISMATCH, "a descriptor arrived that no frame announced");
    return 0;
  }
  if (avail < (size_t)len + CORD_WIRE_PREFIX)
    return -EAGAIN;
  if (k->cfg.trace)
    k->cfg.trace(k->cfg.trace_arg, 0, b, (size_t)len + CORD_WIRE_PREFIX);
  r = on_frame(k, b + CORD_WIRE_PREFIX, len, ev);
  k->first = false;
  if (r == 1)
    k->rx.pinned = true; /* the event points into the buffer */
  cord__rxq_consume(&k->rx, (size_t)len + CORD_WIRE_PREFIX);
  return r;
}

/* An event the core owes from its state, if any. */
static int derived(core_t *k, cord_event_t *ev) {
  uint64_t id;
  if (!k->ready_told && hs_done(k)) {
    k->ready_told = true;
    ev->type = CORD_EV_READY;
    return 1;
  }
  if (k->owed_head < k->owed_tail) {
    const cord__owed_t *o = &k->owed[k->owed_head++];
    ev->type = o->type;
    ev->id = o->id;
    ev->error = CORD_ETOOBIG;
    if (o->fds)
      cord__core_set_detail(k, "a message queued before the handshake passes descriptors; the child accepts %u; "
                            "it was not sent", o->limit);
    else
      cord__core_set_detail(k, "a message queued before the handshake has %u bytes; the child accepts %u; it was "
                            "not sent", o->size, o->limit);
    ev->detail = k->detail;
    if (k->owed_head == k->owed_tail)
      k->owed_head = k->owed_tail = 0;
    return 1;
  }
  if (k->fail_code && !k->fail_told) {
    k->fail_told = true;
    ev->type = CORD_EV_ERROR;
    ev->error = k->fail_code;
    ev->detail = k->fail_detail;
    return 1;
  }
  /* Spec REQ-9: once the child's direction has ended, each outstanding
   * request of the parent fails with CLOSED, exactly once. */
  if (k->in >= CORD__IN_GOODBYE && (id = cord__idset_pop(&k->outstanding)) != 0) {
    ev->type = CORD_EV_REPLY;
    ev->id = id;
    ev->error = CORD_ECLOSED;
    cord__core_set_detail(k, "request %llu: %s", (unsigned long long)id, cord_strerror(CORD_ECLOSED));
    ev->detail = k->detail;
    return 1;
  }
  /* Spec PING-7: and no Pong can come for its Pings either. */
  if (k->in >= CORD__IN_GOODBYE && (id = cord__idset_pop(&k->pings)) != 0) {
    ev->type = CORD_EV_PONG;
    ev->id = id;
    ev->error = CORD_ECLOSED;
    return 1;
  }
  if (k->drain_due) {
    k->drain_due = false;
    ev->type = CORD_EV_DRAIN;
    return 1;
  }
  return 0;
}

int cord__core_next(core_t *k, cord_event_t *ev) {
  for (;;) {
    int r;
    memset(ev, 0, sizeof *ev);
    if (derived(k, ev))
      return 1;
    if (k->in == CORD__IN_ENDED)
      return 0;
    if (k->budget == 0)
      return CORD__MORE;
    k->budget--;
    r = k->cfg.binding == CORD__BIND_CORD ? next_frame(k, ev) : cord__node_next(k, ev);
    if (r == 1)
      return 1;
    if (r == -EAGAIN)
      return 0;
  }
}

void cord__core_handshake_only(core_t *k) {
  cord_event_t unused;
  while (k->in == CORD__IN_HELLO && k->cfg.binding == CORD__BIND_CORD && next_frame(k, &unused) == 0)
    ;
}

void cord__core_flush_input(core_t *k) {
  if (k->cfg.binding == CORD__BIND_CORD)
    cord__core_handshake_only(k);
  else if (k->in != CORD__IN_ENDED)
    cord__node_flush_input(k);
}

void cord__core_release(core_t *k) {
  cord__rxq_unpin(&k->rx);
  k->budget = CORD__BUDGET;
}

/* ---- bytes in ------------------------------------------------------------------------------------- */

int cord__core_rx_space(core_t *k, uint8_t **p, size_t *n) {
  size_t live = cord__rxq_len(&k->rx), want = k->chunk;
  /* The frame being read needs the rest of its bytes; memory is taken
   * as they arrive, at most doubling what is already there, so that a
   * peer announcing a large frame and sending little costs little. */
  if ((k->cfg.binding == CORD__BIND_CORD || (k->cfg.binding == CORD__BIND_NODE_ADVANCED && !k->skipping)) &&
      live >= CORD_WIRE_PREFIX) {
    size_t whole = k->tx.frame_len(k->rx.p + k->rx.head, live);
    if (whole > live + want) {
      /* At most doubling what is there; the whole rest when that is no
       * more than twice as much, so that the last growth is exact. */
      size_t more = whole - live, grow = live > want ? live : want;
      want = more <= 2 * grow ? more : grow;
    }
  }
  if (cord__rxq_space(&k->rx, want, p, n) < 0) {
    fail(k, -ENOMEM, "out of memory for %zu bytes of the channel", want);
    return -ENOMEM;
  }
  return 0;
}

void cord__core_rx_commit(core_t *k, size_t n, const int *fds, const uint8_t *kinds, unsigned nfds) {
  /* Reads that fill what was offered ask for more next time, up to 64 KiB. */
  if (n >= k->chunk && k->chunk < ((size_t)64 << 10))
    k->chunk *= 2;
  cord__rxq_commit(&k->rx, n);
  /* Spec SEC-2: no more descriptors are held than two frames can claim. */
  unsigned limit = 2 * k->cfg.max_fds;
  for (unsigned i = 0; i < nfds; i++) {
    if (k->in == CORD__IN_ENDED || cord__rxq_push_fd(&k->rx, fds[i], kinds ? kinds[i] : CORD__FD_OTHER, limit) < 0) {
      if (k->in == CORD__IN_ENDED)
        close(fds[i]);
      else
        fail(k, CORD_EFDMISMATCH, "more descriptors arrived than the frames they came with may pass (at most %u)",
             k->cfg.max_fds);
    }
  }
}

void cord__core_rx_lost_fds(core_t *k) {
  /* On a Node.js binding, the NODE_HANDLE whose descriptor was lost is
   * answered NACK and reported when it is read (spec NODE-8). */
  if (k->cfg.binding == CORD__BIND_CORD)
    fail(k, CORD_EFDMISMATCH, "descriptors were lost in transit (MSG_CTRUNC)"); /* spec FD-7 */
}

void cord__core_rx_eof(core_t *k) {
  size_t left = cord__rxq_len(&k->rx);
  k->eof = true;
  if (k->in == CORD__IN_ENDED)
    return;
  if (left && !k->skipping) {
    /* Spec FRAME-12, NODE-10. */
    cord__core_fail(k, CORD_ETRUNCATED, false, "the channel ended %zu bytes into a %s", left,
                    k->cfg.binding == CORD__BIND_NODE_JSON ? "line" : "frame");
    return;
  }
  if (k->in == CORD__IN_HELLO) {
    cord__core_fail(k, CORD_ENOTCORD, false,
                    "the channel ended before the child's Hello (it exited, or is not a Cord child)");
    return;
  }
  bool said_goodbye = k->in == CORD__IN_GOODBYE;
  in_to(k, CORD__IN_ENDED); /* spec END-4 */
  cord__rxq_close_fds(&k->rx);
  if (said_goodbye && k->incoming.count) {
    /* The child said Goodbye and shut down its writing side, but it still
     * reads: the requests it sent are still owed their replies (REQ-2).
     * Our direction ends with the last one. */
    return;
  }
  /* Without a Goodbye the child is gone or has closed: what we still send
   * goes if it can, now. */
  if (!said_goodbye)
    k->best_effort = true;
  cord__core_end(k, CORD__V1__GOODBYE__REASON__REASON_DONE);
}

/* ---- bytes out ---------------------------------------------------------------------------------- */

size_t cord__core_tx_peek(core_t *k, const uint8_t **p, const int **fds, unsigned *nfds) {
  const cord__mark_t *m;
  size_t len;
  *fds = NULL;
  *nfds = 0;
  if (k->out == CORD__OUT_ENDED)
    return 0;
  if (k->cfg.binding != CORD__BIND_CORD) {
    len = cord__node_tx_peek(k, p, &m);
    if (m) {
      *fds = m->fds;
      *nfds = m->n;
    }
    return len;
  }
  len = cord__txq_peek(&k->tx, p, &m);
  if (!hs_done(k)) {
    /* Spec HELLO-5: nothing but the Hello before the child's Hello. */
    uint64_t allowed = k->hello_end > k->tx.pos ? k->hello_end - k->tx.pos : 0;
    if (len > allowed)
      len = (size_t)allowed;
  }
  if (len) {
    k->peek_last = false;
    if (m) {
      *fds = m->fds;
      *nfds = m->n;
    }
    return len;
  }
  if (k->last_off < k->last_len && cord__txq_end(&k->tx) == k->tx.pos && k->tx.pos >= k->last_at &&
      (hs_done(k) || k->last_is_error)) {
    k->peek_last = true;
    *p = k->last + k->last_off;
    return k->last_len - k->last_off;
  }
  return 0;
}

void cord__core_tx_done(core_t *k, size_t n) {
  if (k->peek_last) {
    k->last_off += n;
    if (k->last_off == k->last_len && k->cfg.trace)
      k->cfg.trace(k->cfg.trace_arg, 1, k->last, k->last_len);
    return;
  }
  if (k->cfg.binding != CORD__BIND_CORD)
    cord__node_tx_done(k, n);
  else
    cord__txq_consume(&k->tx, n);
  if (k->pong_due && k->out == CORD__OUT_OPEN && cord__txq_len(&k->tx) < k->cfg.queue_limit) {
    k->pong_due = false;
    pong(k, k->pong_nonce);
  }
  if (k->above_hw && cord__txq_len(&k->tx) < k->cfg.high_water) {
    k->above_hw = false;
    k->drain_due = true;
  }
}

bool cord__core_tx_pending(const core_t *k) {
  const uint8_t *p;
  const int *fds;
  unsigned nfds;
  return cord__core_tx_peek((core_t *)k, &p, &fds, &nfds) > 0;
}

bool cord__core_tx_finished(const core_t *k) {
  return k->out == CORD__OUT_ENDING && cord__txq_len(&k->tx) == 0 && k->last_off == k->last_len &&
         k->answers_n == 0;
}

void cord__core_tx_closed(core_t *k) {
  if (k->out == CORD__OUT_ENDED)
    return;
  /* Spec END-6: the peer's end is closed; what is queued is dropped, and
   * requests in it fail as CLOSED when the peer's direction ends. */
  cord__txq_truncate(&k->tx, k->tx.pos);
  k->last_len = k->last_off = 0;
  k->pong_due = false;
  k->answers_n = 0;
  k->answer_off = 0;
  k->handle_end = 0;
  k->ack_due = false;
  out_to(k, CORD__OUT_ENDED);
}

/* ---- the channel -------------------------------------------------------------------------------- */

bool cord__core_done(const core_t *k) {
  return k->in == CORD__IN_ENDED && k->out == CORD__OUT_ENDED && (!k->fail_code || k->fail_told) &&
         k->outstanding.count == 0 && k->pings.count == 0 && k->owed_head == k->owed_tail &&
         (k->ready_told || !hs_done(k));
}

int cord__core_end_code(const core_t *k) { return k->fail_code; }

const char *cord__core_end_detail(core_t *k) {
  return k->fail_code ? k->fail_detail : "the channel ended";
}

int cord__core_init(core_t *k, const cord__core_cfg_t *cfg) {
  memset(k, 0, sizeof *k);
  k->cfg = *cfg;
  k->first = true;
  k->chunk = 1024;
  k->budget = CORD__BUDGET;
  k->owed = k->owed_inline;
  k->tx.trace = cfg->trace;
  k->tx.trace_arg = cfg->trace_arg;
  if (cfg->binding != CORD__BIND_CORD) {
    k->tx.frame_len = cfg->binding == CORD__BIND_NODE_JSON ? cord__node_line_len : cord__node_frame_len;
    cord_arena_init(&k->arena, 0);
    /* Node's channel has no handshake: the child is ready at once. It
     * takes one descriptor per message, as a handle (spec NODE-8). */
    k->peer.max_frame = CORD_WIRE_MAX_FRAME;
    k->peer.max_fds = cfg->max_fds ? 1 : 0;
    in_to(k, CORD__IN_OPEN);
    k->hs = true;
    return 0;
  }
  k->tx.frame_len = cord_frame_len;

  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  h.magic = CORD_WIRE_MAGIC;
  h.min_version = CORD_WIRE_VERSION_MIN;
  h.max_version = CORD_WIRE_VERSION_MAX;
  h.max_frame = cfg->max_frame;
  h.max_fds = cfg->max_fds;
  h.capabilities = CORD__V1__CAPABILITY__CAPABILITY_CANCEL;
  h.pid = cfg->pid;
  h.impl_name = (char *)(cfg->impl_name ? cfg->impl_name : "cord-c");
  h.impl_version = (char *)(cfg->impl_version ? cfg->impl_version : CORD_VERSION_STRING);
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  if (cord__v1__frame__get_packed_size(&f) > CORD_WIRE_MIN_FRAME)
    return -EINVAL; /* impl_name or impl_version too long (spec HELLO-4) */
  int r = queue_pbc(k, &f, true); /* spec HELLO-1 */
  k->hello_end = cord__txq_end(&k->tx);
  return r;
}

void cord__core_free(core_t *k) {
  cord__txq_free(&k->tx);
  cord__rxq_free(&k->rx);
  cord__idset_free(&k->outstanding);
  cord__idset_free(&k->incoming);
  cord__idset_free(&k->pings);
  if (k->owed != k->owed_inline)
    cord__free(k->owed);
  cord__free(k->tname);
  cord__node_free(k);
  k->owed = k->owed_inline;
  k->tname = NULL;
}
