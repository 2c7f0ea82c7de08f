/* cord_child.c: the Cord child channel: finding it, the handshake, the frame reader, dispatch and sends. */
/* POSIX.1-2008 for unsetenv(), MSG_NOSIGNAL and the CMSG_* macros under -std=c11. */
#define _POSIX_C_SOURCE 200809L
#include "cord_child_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <pb_decode.h>

#include "cord_wire.h"

_Static_assert(sizeof(cord_span_t) == sizeof(cord__span_t) &&
                   offsetof(cord_chan_msg_t, data) == offsetof(cord_chan_msg_t, type_name) + sizeof(cord_span_t),
               "a frame's two spans copy onto a message's type_name and data");

/* The spec's numbers, defined once for both SDKs (cord_wire.h). */
#define MAGIC CORD_WIRE_MAGIC     /* "CORD" [HELLO-2] */
#define VERSION CORD_WIRE_VERSION_MAX /* the only version this SDK speaks [HELLO-3] */
#define MAX_LEN CORD_WIRE_MAX_FRAME /* the largest max_frame [FRAME-3] */
_Static_assert(CORD_MIN_FRAME == CORD_WIRE_MIN_FRAME, "the config header's copy of the smallest max_frame");

#ifdef CORD_CHILD_NO_NODE
#define NODE(ch) 0
#else
#define NODE(ch) ((ch)->flags & CORD__F_NODE)
#endif

/* Failure paths are rare: kept out of line and optimised for size. */
#define COLD __attribute__((cold, noinline))

/* ---- diagnostic texts ------------------------------------------------------ */

#ifdef CORD_CHILD_NO_ERRSTR
#define SAY(ch, ...) ((void)(ch))
#define SAY_AT(ch, at, ...) ((void)(ch), (void)(at))
#else
#define SAY(ch, ...) say(ch, (char *)(ch)->rx, __VA_ARGS__)
#define SAY_AT(ch, at, ...) say(ch, at, __VA_ARGS__)

/*
 * Writes a failure's text at p and makes it the detail. SAY() writes at
 * the start of the receive buffer, which outlives the call: it is for
 * failures that end the channel, after which nothing there is read again.
 * A report the channel survives must not touch the receive buffer, which
 * may hold frames not handled yet: SAY_AT() names other memory. In fmt, each \1 stands for the next argument in
 * decimal and each \2 for the next argument as a string, of which at most
 * 64 bytes are copied. One formatter serves every text, so each caller is
 * one call. Returns the end of the text, where a NUL now is.
 */
static COLD char *say(cord_chan_t *ch, char *p, const char *fmt, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t arg[3] = {a, b, c}, *next = arg, v;
  char t[21], *q;
  const char *s;
  unsigned n;
  ch->detail = p;
  for (; *fmt; fmt++) {
    if (*fmt > 2) {
      *p++ = *fmt;
      continue;
    }
    /* An argument: a string, or a number spelled into t, last digit first. */
    v = *next++;
    s = (const char *)(uintptr_t)v;
    if (*fmt == 1) {
      q = t + 20;
      *q = 0;
      do
        *--q = (char)('0' + v % 10);
      while ((v /= 10) != 0);
      s = q;
    }
    for (n = 64; *s && n--;)
      *p++ = *s++;
  }
  *p = 0;
  return p;
}
#endif

/* ---- sending ----------------------------------------------------------------- */

/* Codes the spec marks fatal (section 11): they end the channel. */
static int fatal(uint32_t code) { return code - 1000u <= 8u && code != 1007u; }

/* The one encode path: every frame is encoded straight into the transmit
 * buffer, after the frames queued there, refused whole if it exceeds the
 * parent's max_frame [FRAME-2] (256 until its Hello [FRAME-4]) or the
 * buffer, and written whole, now or with the queue (cord__queue()). */
CORD__CHECK static int emit(cord_chan_t *ch, cord__frame_t *fr, const int *fds, unsigned nfds) {
  size_t cap = ch->peer_max + (size_t)4, n;
  int r;
  if (ch->flags & (CORD__F_GOODBYE | CORD__F_NOWRITE))
    return CORD_ECLOSED; /* the own direction has ended */
  if (cap > ch->tx_len)
    cap = ch->tx_len;
  n = cord__frame_encode(fr, ch->tx + ch->txn, cap < ch->tx_len - ch->txn ? cap : ch->tx_len - ch->txn);
  if (!n && ch->txn) { /* no room behind the queue: it goes first */
    if ((r = cord__flush(ch)) < 0)
      return r;
    n = cord__frame_encode(fr, ch->tx, cap);
  }
  return n ? cord__queue(ch, n, fds, nfds) : CORD_ETOOBIG;
}

/* Sends a frame with one scalar: a Ping, Pong or Cancel nonce or id (one
 * uint64 at the same place in each), an Error code with its detail, or a
 * Goodbye (v = 0: REASON_DONE). */
CORD__CHECK static int simple(cord_chan_t *ch, pb_size_t body, uint64_t v, const char *detail) {
  cord__frame_t fr;
  memset(&fr, 0, sizeof fr);
  fr.f.which_body = body;
  if (body == cord_v1_Frame_error_tag)
    fr.f.body.error.code = (uint32_t)v;
  else
    fr.f.body.ping.nonce = v;
  if (detail) {
    fr.s[0].ptr = (const uint8_t *)detail;
    fr.s[0].len = strlen(detail);
  }
  return emit(ch, &fr, NULL, 0);
}

/* Sends a user message: one-way (id and reply_to 0), a request, or a reply
 * with this status; o NULL is an empty message. */
CORD__CHECK static int message(cord_chan_t *ch, uint64_t id, uint64_t reply_to, uint32_t status,
                               const cord_chan_out_t *o) {
  cord__frame_t fr;
  cord_v1_Message *mm = &fr.f.body.message;
  const int *fds = NULL;
  unsigned nfds = 0;
#ifndef CORD_CHILD_NO_NODE
  if (NODE(ch))
    return cord__node_send(ch, id | reply_to, o);
#endif
  memset(&fr, 0, sizeof fr);
  fr.f.which_body = cord_v1_Frame_message_tag;
  mm->id = id;
  mm->reply_to = reply_to;
  mm->status = status; /* 0 unless a reply [MSG-5] */
  if (o) {
    fds = o->fds;
    nfds = o->nfds;
#ifndef CORD_CHILD_NO_FDS
    if (nfds > ch->peer_fds || nfds > CORD_CHILD_MAX_FDS)
      return CORD_ETOOBIG; /* [FD-1] */
#else
    if (nfds)
      return -ENOTSUP;
#endif
    if (o->payload == CORD_PAYLOAD_TYPED) {
      if (!o->type_name)
        return -EINVAL;
      fr.s[0].ptr = (const uint8_t *)o->type_name;
      fr.s[0].len = o->type_name_len ? o->type_name_len : strlen(o->type_name);
      fr.value_fields = o->fields;
      fr.value_struct = o->src;
    }
    mm->fds = nfds;
    fr.kind = (uint8_t)o->payload;
    fr.s[1].ptr = o->data;
    fr.s[1].len = o->len;
  }
  return emit(ch, &fr, fds, nfds);
}

/* Finds v in a request table; v = 0 finds a free slot. */
static uint64_t *slot(uint64_t *t, unsigned n, uint64_t v) {
  for (; n; n--, t++)
    if (*t == v)
      return t;
  return NULL;
}

/* ---- ending ---------------------------------------------------------------------- */

/* Closes the received descriptors not handed to the program [FD-9]. */
static void drop(cord_chan_t *ch) {
#ifndef CORD_CHILD_NO_FDS
  while (ch->nq)
    close(ch->fdq[ch->head + --ch->nq]);
#else
  (void)ch;
#endif
}

/* Moves the waiting descriptors to the front of the queue, over those the
 * last frame claimed: they were the program's, or closed by cord__discard(). */
static void settle(cord_chan_t *ch) {
#ifndef CORD_CHILD_NO_FDS
  if (ch->head) { /* else nothing moves, and fdq may be NULL */
    memmove(ch->fdq, ch->fdq + ch->head, ch->nq * sizeof(int));
    ch->head = 0;
  }
#else
  (void)ch;
#endif
}

#ifndef CORD_CHILD_NO_FDS
void cord__discard(cord_chan_t *ch) {
  for (unsigned i = 0; i < ch->head; i++)
    close(ch->fdq[i]);
  settle(ch);
}

void cord__claim(cord_chan_t *ch, unsigned n) {
  unsigned left = ch->nq - n;
  ch->head = (uint8_t)n;
  ch->nq = (uint8_t)left;
  if (n >= ch->n0) { /* the first batch is gone: the second is first */
    ch->n0 = (uint8_t)left;
    ch->p0 = ch->p1;
  } else {
    ch->n0 = (uint8_t)(ch->n0 - n);
  }
}
#endif

int cord__stop(cord_chan_t *ch, int code, int send) {
  /* A parent whose direction has ended will not answer our handle: what
   * waits behind it goes now, or never [NODE-15]. */
  ch->flags &= (uint16_t)~CORD__F_HOLD;
  if (code < 0) {
    if (send)
      CORD__IGNORE(simple(ch, cord_v1_Frame_error_tag, (uint32_t)-code, ch->detail));
    /* What was queued, the Error last, is written before the end [END-7];
     * nothing may follow a failure. */
    CORD__IGNORE(cord__flush(ch));
    ch->flags |= CORD__F_NOWRITE | (fatal((uint32_t)-code) ? CORD__F_FATAL : 0);
    /* The parent sees end of file now, even if the program lingers before
     * it closes the channel [END-11]. */
    shutdown(ch->fd, SHUT_RDWR);
    drop(ch);
  } else if (ch->state == CORD__HANDSHAKE) {
    ch->flags |= CORD__F_NOWRITE; /* nothing but the Hello precedes the parent's [HELLO-5] */
  }
  ch->state = CORD__ENDED;
  ch->err = code;
  return 0;
}

/* A fatal protocol error found here: the channel ends with an Error frame
 * that reports it. Returns 0, as cord__stop(). */
static COLD int fail(cord_chan_t *ch, int code) { return cord__stop(ch, code, 1); }

/* After the parent's direction has ended: each own outstanding request is
 * reported CLOSED once [REQ-9], so is an unanswered Ping [PING-7], then
 * the end itself, as often as asked. */
static int ended(cord_chan_t *ch, cord_chan_msg_t *m) {
  uint64_t *t;
  m->status = (uint32_t)-CORD_ECLOSED;
  for (t = ch->out; t < ch->out + CORD_CHILD_OUT_REQS; t++)
    if (*t) {
      m->type = CORD_CHAN_EV_CLOSED;
      m->reply_to = *t;
      *t = 0;
      return 1;
    }
  if (ch->flags & CORD__F_PING) {
    ch->flags &= (uint16_t)~CORD__F_PING;
    m->type = CORD_CHAN_EV_PONG;
    m->id = ch->ping;
    return 1;
  }
  m->status = 0;
  return ch->err;
}

/* HELLO-7: the first bytes are not Cord. The report previews them: the
 * first frame starts the stream, so they are at the start of the receive
 * buffer, as many as the first reads brought. */
static COLD int not_cord(cord_chan_t *ch) {
#ifndef CORD_CHILD_NO_ERRSTR
  /* The bytes to preview go where the text cannot reach: it takes at most
   * 10 + CORD_PREVIEW_MAX bytes, the buffer has 256. */
  uint8_t *b = ch->rx + CORD_MIN_FRAME - 32;
  size_t n = ch->fill < 32 ? ch->fill : 32;
  memmove(b, ch->rx, n);
  cord_preview(b, (unsigned long)n, SAY(ch, "not Cord: ", 0, 0, 0), CORD_PREVIEW_MAX);
#endif
  return fail(ch, CORD_ENOTCORD);
}

/* ---- receiving ------------------------------------------------------------------- */

/* Claims the n oldest queued descriptors for the frame just read, which
 * ends at the stream position pos + start [FD-6]: they become fdq[0, n).
 * A descriptor left waiting that came with a read ending at or before
 * that position arrived with this frame's bytes or earlier ones, so no
 * later frame can claim it [FD-8]: the channel fails on this frame, before
 * anything of it is delivered, as FD-8 lets a receiver that knows sooner.
 * Returns 0, or 1 when the channel has failed [FD-7]. */
static int take(cord_chan_t *ch, uint32_t n) {
#ifndef CORD_CHILD_NO_FDS
  uint32_t end = ch->pos + ch->start, left = ch->nq - n;
  if (n > ch->nq || n > ch->max_fds || (left && (int32_t)((n < ch->n0 ? ch->p0 : ch->p1) - end) <= 0))
    return !fail(ch, CORD_EFDMISMATCH);
  cord__claim(ch, n);
  return 0;
#else
  (void)ch;
  return n ? !fail(ch, CORD_EFDMISMATCH) : 0;
#endif
}

/* Checks the parent's Hello [HELLO-2, HELLO-7..HELLO-9]. Returns 1 when it
 * is accepted, 0 when the channel has failed. */
static int hello(cord_chan_t *ch, const cord__frame_t *fr) {
  const cord_v1_Hello *h = &fr->f.body.hello;
  if (fr->body != cord_v1_Frame_hello_tag)
    return fail(ch, CORD_EUNEXPECTED); /* [HELLO-6] */
  if (h->magic != MAGIC)
    return not_cord(ch);
  if (h->min_version > h->max_version || h->max_frame < CORD_MIN_FRAME || h->max_frame > MAX_LEN)
    return fail(ch, CORD_EPROTOCOL);
  /* V = min(max_version of both); none in common if V < max(min_version). */
  if (h->max_version < VERSION || h->min_version > VERSION) {
    SAY(ch, "no common version: we speak 1..1, peer speaks \1..\1", h->min_version, h->max_version, 0);
    return fail(ch, CORD_EVERSION);
  }
  ch->peer_max = h->max_frame;
#ifndef CORD_CHILD_NO_FDS
  ch->peer_fds = (uint8_t)(h->max_fds > 255 ? 255 : h->max_fds);
#endif
  ch->state = CORD__OPEN;
  return 1;
}

/* Acts on the whole frame body at [body, body + len) in the receive buffer.
 * Returns 1 with an event in m, or 0 when there is none (the frame was
 * handled inside, or the channel has ended). */
static int frame(cord_chan_t *ch, cord_chan_msg_t *m, const uint8_t *body, uint32_t len) {
  cord__frame_t fr;
  const cord_v1_Message *mm = &fr.f.body.message;
  uint64_t *t = NULL, v;

  if (!cord__frame_decode(&fr, body, len)) /* [FRAME-6, HELLO-7] */
    return ch->state == CORD__HANDSHAKE ? not_cord(ch) : fail(ch, CORD_EPROTOCOL);
  if (take(ch, fr.body == cord_v1_Frame_message_tag ? mm->fds : 0))
    return 0;
  if (ch->state == CORD__HANDSHAKE)
    return hello(ch, &fr);
  v = fr.f.body.ping.nonce; /* also Pong.nonce and Cancel.id, laid out alike */

  switch (fr.body) {
  case cord_v1_Frame_message_tag:
    /* A reply has no id; anything else has no status [MSG-5]. */
    if (mm->reply_to ? mm->id : mm->status)
      return fail(ch, CORD_EPROTOCOL);
    if (mm->reply_to) {
      t = slot(ch->out, CORD_CHILD_OUT_REQS, mm->reply_to);
      if (!t) { /* [REQ-5]: dropped, reported, the channel stays */
        char text[40]; /* not in the receive buffer, which may hold the next frames */
        cord__discard(ch);
        SAY_AT(ch, text, "unknown request \1", mm->reply_to, 0, 0);
        CORD__IGNORE(simple(ch, cord_v1_Frame_error_tag, (uint32_t)-CORD_EUNKNOWNREQ, ch->detail));
        ch->detail = NULL;
        return 0;
      }
    } else if (mm->id) {
      if (slot(ch->in, CORD_CHILD_IN_REQS, mm->id))
        return fail(ch, CORD_EPROTOCOL); /* [REQ-4] */
      t = slot(ch->in, CORD_CHILD_IN_REQS, 0);
      if (!t) { /* no room to track it: answered here, exactly once [REQ-2] */
        cord__discard(ch);
        CORD__IGNORE(message(ch, 0, mm->id, (uint32_t)-CORD_EFAILED, NULL));
        return 0;
      }
    }
    if (t)
      *t = mm->id; /* a reply frees its request's slot; a request takes one */
    m->type = CORD_CHAN_EV_MESSAGE;
    m->id = mm->id;
    m->reply_to = mm->reply_to;
    m->status = mm->status;
    m->payload = fr.kind;
    memcpy(&m->type_name, fr.s, sizeof fr.s); /* type, then data */
#ifndef CORD_CHILD_NO_FDS
    m->fds = ch->fdq;
    m->nfds = ch->head;
#endif
    return 1;

  case cord_v1_Frame_cancel_tag: /* [REQ-7, REQ-8] */
    if (!v || !slot(ch->in, CORD_CHILD_IN_REQS, v))
      return 0;
    m->type = CORD_CHAN_EV_CANCEL;
    m->id = v;
    return 1;

  case cord_v1_Frame_ping_tag: /* [PING-2]; refused inside after our Goodbye */
    CORD__IGNORE(simple(ch, cord_v1_Frame_pong_tag, v, NULL));
    return 0;

  case cord_v1_Frame_pong_tag: /* [PING-3] */
    if (!(ch->flags & CORD__F_PING) || v != ch->ping)
      return 0;
    ch->flags &= (uint16_t)~CORD__F_PING;
    m->type = CORD_CHAN_EV_PONG;
    m->id = v;
    return 1;

  case cord_v1_Frame_goodbye_tag: {
    /* Nothing may follow a Goodbye [END-2]. What is already queued behind
     * it is looked at without waiting: a parent that keeps its end open
     * after its Goodbye must not hold the child. */
    uint8_t c;
    return cord__stop(ch, ch->fill > ch->start || recv(ch->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0 ? CORD_EUNEXPECTED : 0, 1);
  }

  case cord_v1_Frame_error_tag:
    m->status = fr.f.body.error.code;
    if (fatal(m->status)) { /* [END-11]: the parent's text becomes the detail */
#ifndef CORD_CHILD_NO_ERRSTR
      if (fr.s[0].len) /* (an Error without a detail has no span) */
        memmove(ch->rx, fr.s[0].ptr, fr.s[0].len);
      ch->rx[fr.s[0].len] = 0;
      ch->detail = (const char *)ch->rx;
#endif
      return cord__stop(ch, -(int)m->status, 0);
    }
    m->type = CORD_CHAN_EV_ERROR; /* [ERR-2, ERR-3]: a report, nothing ends */
    m->data.ptr = fr.s[0].ptr;
    m->data.len = fr.s[0].len;
    return 1;

  case cord_v1_Frame_hello_tag:
    return fail(ch, CORD_EUNEXPECTED); /* [HELLO-10] */

  default:
    return 0; /* [FRAME-8]: no member this SDK knows */
  }
}

/* The reader. Each read takes whatever has arrived, up to the free end of
 * the receive buffer, and every whole frame in it is handled in place
 * before the next read [FRAME-11]; the frame in progress is moved to the
 * front only when the buffer has no room for the rest of it, and a frame
 * whose body alone fills the buffer has its prefix taken off (max_frame
 * is the whole buffer). The length is judged as soon as its prefix is
 * there, before anything more is read [FRAME-5]. What is queued to send
 * is written before each read, so that it never waits behind one. */
static int pump(cord_chan_t *ch, cord_chan_msg_t *m, int nb) {
  int r;
  memset(m, 0, sizeof *m);
  settle(ch); /* the last message's descriptors are the program's now */
  for (;;) {
    uint8_t *b = ch->rx + ch->start;
    uint32_t have = ch->fill - ch->start, pre = ch->len ? 0 : 4, need = ch->len;
    if (ch->state == CORD__ENDED)
      return ended(ch, m);
#ifndef CORD_CHILD_NO_NODE
    if (NODE(ch)) {
      if ((r = cord__node_pump(ch, m, nb)) != 0)
        return r;
      continue;
    }
#endif
    if (pre && have >= 4) {
      need = cord_wire_get_prefix(b);
      if (ch->state == CORD__HANDSHAKE && need > CORD_MIN_FRAME) {
        not_cord(ch); /* [HELLO-7] */
        continue;
      }
      if (need > ch->rx_len) {
        SAY(ch, "frame of \1 bytes exceeds max_frame \1", need, ch->rx_len, 0);
        fail(ch, CORD_EFRAMESIZE);
        continue;
      }
      if (need > ch->rx_len - 4) { /* only the body fits: the prefix goes */
        ch->start += 4;
        ch->len = need;
        continue;
      }
    }
    if (have >= pre && have - pre >= need) { /* a whole frame */
      ch->start += pre + need;
      ch->len = 0;
      if ((r = frame(ch, m, b + pre, need)) != 0)
        return r;
      continue;
    }
    /* More must be read, into room for the whole frame. */
    if (ch->start + pre + need > ch->rx_len || ch->start == ch->fill) {
#ifndef CORD_CHILD_NO_FDS
      ch->pos += ch->start;
#endif
      memmove(ch->rx, b, have);
      ch->fill = have;
      ch->start = 0;
    }
    /* A failed write ends only the own direction: reading goes on [END-6]. */
    CORD__IGNORE(cord__flush(ch));
    r = cord__rd(ch, nb);
    if (r == -EAGAIN)
      return r;
    if (r <= 0) /* [FRAME-12, END-4] */
      cord__stop(ch, r ? r : have || ch->len ? CORD_ETRUNCATED : 0, r == CORD_EFDMISMATCH);
  }
}

int cord_chan_recv(cord_chan_t *ch, cord_chan_msg_t *m) { return pump(ch, m, 0); }

int cord_chan_step(cord_chan_t *ch, cord_chan_msg_t *m) { return pump(ch, m, MSG_DONTWAIT); }

/* ---- opening ----------------------------------------------------------------------- */

/* Grandchildren must neither see nor inherit the channel [CHAN-6, CHAN-9].
 * Out of line, so that both ways out of find() share it. */
static __attribute__((noinline)) void hide(void) {
  unsetenv("CORD_CHANNEL_FD");
  unsetenv("NODE_CHANNEL_FD");
  unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
}

/* Finds the channel's descriptor as CHAN-6..CHAN-9 and NODE-2..NODE-3 say.
 * Returns it, or CORD_ENOCHANNEL with the reason in the detail. Kept apart
 * from cord_chan_open(), whose registers it would otherwise crowd. */
static __attribute__((noinline)) int find(cord_chan_t *ch, unsigned flags) {
  const char *name = "CORD_CHANNEL_FD", *v = getenv(name), *why = NULL, *s;
  struct sockaddr sa;
  socklen_t len;
  int fd = 0, type = 0;

#ifndef CORD_CHILD_NO_NODE
  if (!v && !(flags & CORD_CHAN_F_NO_NODE) && (v = getenv(name = "NODE_CHANNEL_FD")) != NULL) {
    const char *mode = getenv("NODE_CHANNEL_SERIALIZATION_MODE");
    ch->flags |= CORD__F_NODE;
    if (mode && strcmp(mode, "json")) { /* [NODE-3] */
      name = "NODE_CHANNEL_SERIALIZATION_MODE";
      v = mode;
      why = "not json";
    }
  }
#else
  (void)flags;
#endif
  if (!v) { /* [CHAN-7] */
    SAY(ch, "a Cord child, to be started by a Cord parent: no CORD_CHANNEL_FD", 0, 0, 0);
    return CORD_ENOCHANNEL;
  }
  for (s = v; *s >= '0' && *s <= '9' && fd <= 99999999; s++)
    fd = fd * 10 + (*s - '0');
  if (!why && (*s || s == v))
    why = "not a number";
  if (!why) { /* [CHAN-8] */
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
      why = errno == EBADF ? "not open" : "not an AF_UNIX stream socket";
    else if (type != SOCK_STREAM || (len = sizeof sa, getsockname(fd, &sa, &len)) || sa.sa_family != AF_UNIX)
      why = "not an AF_UNIX stream socket";
  }
  /* The text names the variable and its value before the value goes. */
  if (why)
    SAY(ch, "\2=\2: \2", (uintptr_t)name, (uintptr_t)v, (uintptr_t)why);
  hide();
  if (why)
    return CORD_ENOCHANNEL;
  /* ioctl(FIOCLEX) rather than fcntl(), which costs a static program
   * four times the code. */
  ioctl(fd, FIOCLEX);
  return fd;
}

/* The text for a program built with other knobs than this library:
 * constant, since *ch is laid out differently and only its first field,
 * the detail, is where both layouts agree. */
static COLD int build_mismatch(cord_chan_t *ch, uint64_t build) {
#ifndef CORD_CHILD_NO_ERRSTR
  uint64_t d = build ^ CORD_CHILD_BUILD;
  ch->detail = d & 1 ? "the program and libcord-child differ in CORD_CHILD_NO_FDS"
               : d & 2 ? "the program and libcord-child differ in CORD_CHILD_NO_NODE"
               : d & 0xffff00 ? "the program and libcord-child differ in CORD_CHILD_OUT_REQS or CORD_CHILD_IN_REQS"
                         : "the program and libcord-child were compiled with different layouts of cord_chan_t";
#else
  (void)build;
  ch->detail = NULL;
#endif
  return CORD_EBUILD;
}

int cord_chan_open_(cord_chan_t *ch, const cord_chan_cfg_t *cfg, uint64_t build) {
  const char *name = cfg->impl_name ? cfg->impl_name : CORD_CHILD_IMPL_NAME;
  const char *ver = cfg->impl_version ? cfg->impl_version : CORD_CHILD_IMPL_VERSION;
  size_t name_len = strlen(name), ver_len = strlen(ver);
  union { /* the Hello goes before the parent's is awaited: one space serves both */
    cord__frame_t fr;
    cord_chan_msg_t m;
  } u;
  cord__frame_t *fr = &u.fr;
  cord_v1_Hello *h = &fr->f.body.hello;
  int r;

  if (build != CORD_CHILD_BUILD)
    return build_mismatch(ch, build);
  memset(ch, 0, sizeof *ch);
  ch->fd = -1;
  if (!cfg->rx || !cfg->tx || cfg->rx_len < CORD_MIN_FRAME || cfg->rx_len > MAX_LEN ||
      cfg->tx_len < CORD_MIN_FRAME || cfg->tx_len > MAX_LEN ||
      (cfg->flags & ~(CORD_CHAN_F_CANCEL | CORD_CHAN_F_NO_NODE | CORD_CHAN_F_BATCH)) || name_len > 64 ||
      ver_len > 32)
    return -EINVAL;
  if (cfg->flags & CORD_CHAN_F_BATCH)
    ch->flags = CORD__F_BATCH;
  ch->rx = cfg->rx;
  ch->tx = cfg->tx;
  ch->rx_len = (uint32_t)cfg->rx_len;
  ch->tx_len = (uint32_t)cfg->tx_len;
  ch->peer_max = CORD_MIN_FRAME;
  ch->next_id = 1;
  if ((r = find(ch, cfg->flags)) < 0)
    return r;
  ch->fd = r;
#ifndef CORD_CHILD_NO_FDS
  if (cfg->fdq) { /* also the handles of the Node.js binding */
    ch->fdq = cfg->fdq;
    ch->fdq_len = (uint8_t)(cfg->fdq_len > 255 ? 255 : cfg->fdq_len);
    ch->max_fds = ch->fdq_len > CORD_CHILD_MAX_FDS ? CORD_CHILD_MAX_FDS : ch->fdq_len;
  }
#endif
  if (NODE(ch)) {
    ch->state = CORD__OPEN; /* the binding has no handshake */
    return 0;
  }

  memset(fr, 0, sizeof *fr); /* [HELLO-1, HELLO-2] */
  fr->f.which_body = cord_v1_Frame_hello_tag;
  h->magic = MAGIC;
  h->min_version = VERSION;
  h->max_version = VERSION;
  h->max_frame = ch->rx_len;
#ifndef CORD_CHILD_NO_FDS
  h->max_fds = ch->max_fds;
#endif
  h->capabilities = cfg->flags & CORD_CHAN_F_CANCEL; /* CAPABILITY_CANCEL is 1 */
  h->pid = (uint32_t)getpid();
  fr->s[0].ptr = (const uint8_t *)name;
  fr->s[0].len = name_len;
  fr->s[1].ptr = (const uint8_t *)ver;
  fr->s[1].len = ver_len;
  /* A parent already gone leaves the channel to report its end. */
  if ((r = emit(ch, fr, NULL, 0)) < 0 && r != -EPIPE && r != -ECONNRESET)
    return r;
  r = pump(ch, &u.m, 0);
  return r > 0 ? 0 : r;
}

void cord_chan_open_or_exit_(cord_chan_t *ch, const cord_chan_cfg_t *cfg, const char *prog, uint64_t build) {
  int r = cord_chan_open_(ch, cfg, build), i;
  const char *part[4] = {prog, ": ", cord_chan_detail(ch), "\n"};
  struct iovec v[4];
  if (r >= 0)
    return;
  if (!*part[2])
    part[2] = "cannot open the Cord channel";
  /* One write, so that the line stays whole among other processes' output. */
  for (i = 0; i < 4; i++) {
    v[i].iov_base = (void *)part[i];
    v[i].iov_len = strlen(part[i]);
  }
  CORD__IGNORE(writev(2, v, 4));
  exit(r == CORD_ENOCHANNEL ? CORD_EXIT_NOCHANNEL : r == -EINVAL || r == CORD_EBUILD ? 1 : cord_chan_close(ch));
}

/* ---- the rest of the API ------------------------------------------------------------- */

int cord_chan_fd(const cord_chan_t *ch) { return ch->fd; }

int cord_chan_is_node(const cord_chan_t *ch) {
  (void)ch;
  return NODE(ch) != 0;
}

int cord_chan_send(cord_chan_t *ch, const cord_chan_out_t *out) { return message(ch, 0, 0, 0, out); }

int cord_chan_send_json(cord_chan_t *ch, const char *json, size_t len) {
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = json, .len = len};
  return message(ch, 0, 0, 0, &o);
}

int cord_chan_send_typed(cord_chan_t *ch, const char *type, const pb_msgdesc_t *fields,
                         const void *src) {
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_TYPED, .type_name = type, .fields = fields, .src = src};
  return message(ch, 0, 0, 0, &o);
}

int cord_chan_request(cord_chan_t *ch, const cord_chan_out_t *out, uint64_t *id) {
  uint64_t *t = slot(ch->out, CORD_CHILD_OUT_REQS, 0);
  int r = ch->state == CORD__ENDED ? CORD_ECLOSED /* [REQ-11] */
          : t                      ? message(ch, ch->next_id, 0, 0, out)
                                   : -ENOBUFS;
  if (r == 0) {
    *t = ch->next_id;
    if (id)
      *id = ch->next_id;
    ch->next_id++;
  }
  return r;
}

int cord_chan_reply(cord_chan_t *ch, uint64_t id, const cord_chan_out_t *out) {
  uint64_t *t = id ? slot(ch->in, CORD_CHILD_IN_REQS, id) : NULL;
  uint32_t s = out ? out->status : 0;
  int r;
  if (!t)
    return NODE(ch) ? CORD_ENODE : CORD_ESTATE;
  /* [ERR-1, ERR-2]: no POSIX, SDK or reserved code goes on the wire. */
  if ((s && s < 1000) || (s >= 2000 && s < CORD_APP_ERROR_MIN) || s > MAX_LEN)
    return -EINVAL;
  if ((r = message(ch, 0, id, s, out)) == 0)
    *t = 0;
  return r;
}

int cord_chan_echo(cord_chan_t *ch, const cord_chan_msg_t *m) {
  cord_chan_out_t o = {.payload = m->payload,
                       .type_name = (const char *)m->type_name.ptr,
                       .type_name_len = m->type_name.len,
                       .data = m->data.ptr,
                       .len = m->data.len};
  for (unsigned i = 0; i < m->nfds; i++)
    close(m->fds[i]);
  if (m->type != CORD_CHAN_EV_MESSAGE || m->reply_to)
    return 0;
  return m->id ? cord_chan_reply(ch, m->id, &o) : cord_chan_send(ch, &o);
}

int cord_chan_cancel(cord_chan_t *ch, uint64_t id) {
  /* [REQ-6] only an outstanding request; it stays outstanding. */
  if (!id || !slot(ch->out, CORD_CHILD_OUT_REQS, id))
    return CORD_ESTATE;
  return NODE(ch) ? CORD_ENODE : simple(ch, cord_v1_Frame_cancel_tag, id, NULL);
}

int cord_chan_ping(cord_chan_t *ch, uint64_t nonce) {
  int r = NODE(ch) ? CORD_ENODE
          : ch->state == CORD__ENDED ? CORD_ECLOSED /* [PING-5] */
                                     : simple(ch, cord_v1_Frame_ping_tag, nonce, NULL);
  if (r == 0) {
    ch->ping = nonce;
    ch->flags |= CORD__F_PING;
  }
  return r;
}

int cord_chan_goodbye(cord_chan_t *ch) {
  int r = NODE(ch) ? CORD_ENODE : simple(ch, cord_v1_Frame_goodbye_tag, 0, NULL);
  if (r == 0)
    r = cord__flush(ch); /* the queue and the Goodbye, before the shutdown [END-7] */
  if (r == 0) { /* [END-1] */
    ch->flags |= CORD__F_GOODBYE;
    shutdown(ch->fd, SHUT_WR);
  }
  return r;
}

int cord_chan_flush(cord_chan_t *ch) { return cord__flush(ch); }

int cord_chan_close(cord_chan_t *ch) {
#ifndef CORD_CHILD_NO_NODE
  cord_chan_msg_t m;
  /* What waits behind our handle goes once the parent has answered it
   * [NODE-15, END-7]: the channel is read until then, and what comes
   * meanwhile is dropped, as after close. */
  while ((ch->flags & CORD__F_HOLD) && ch->txn && pump(ch, &m, 0) > 0)
    for (unsigned i = 0; i < m.nfds; i++)
      close(m.fds[i]);
#endif
  if (ch->fd >= 0) { /* [END-8] */
    (void)cord_chan_goodbye(ch);
    CORD__IGNORE(cord__flush(ch)); /* on the Node.js binding, which has no Goodbye */
    close(ch->fd);
    ch->fd = -1;
    drop(ch);
  }
  return cord_chan_exit_status(ch);
}

int cord_chan_exit_status(const cord_chan_t *ch) {
  return ch->flags & CORD__F_FATAL ? CORD_EXIT_PROTOCOL : CORD_EXIT_OK;
}

const char *cord_chan_detail(const cord_chan_t *ch) { return ch->detail ? ch->detail : ""; }

int cord_chan_decode_typed(const cord_chan_msg_t *m, const char *type, const pb_msgdesc_t *fields,
                           void *dest) {
  pb_istream_t s = pb_istream_from_buffer(m->data.ptr, m->data.len);
  if (m->payload != CORD_PAYLOAD_TYPED ||
      (type && (strlen(type) != m->type_name.len || memcmp(type, m->type_name.ptr, m->type_name.len))))
    return CORD_EUNSUPPORTED;
  return pb_decode(&s, fields, dest) ? 0 : -EBADMSG;
}
