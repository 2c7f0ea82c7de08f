/* cord_child_node.c: Node.js's json channel (spec section 13): a line of JSON in, a line out, internal messages kept out, handles both ways. */
/* POSIX.1-2008 for unsetenv(), MSG_NOSIGNAL and the CMSG_* macros under -std=c11. */
#define _POSIX_C_SOURCE 200809L
#include "cord_child_int.h"

#ifndef CORD_CHILD_NO_NODE

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char nack[] = "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

/* Node.js's handle types [NODE-14, NODE-16], and the descriptors each may
 * be (what kind() says): 'L' a listening stream socket, 'S' another
 * stream socket, '4' and '6' a UDP socket. */
static const struct {
  char name[13];
  char kinds[3];
} types[] = {{"net.Server", "L"}, {"net.Socket", "S"}, {"net.Native", "LS"}, {"dgram.Socket", "46"},
             {"dgram.Native", "46"}};

#ifndef CORD_CHILD_NO_FDS
static const char ack[] = "{\"cmd\":\"NODE_HANDLE_ACK\"}\n";

/* What a descriptor is, as Node.js's handles see it: 'L', 'S', '4' or '6'
 * as above, or 0 for one Node.js takes as no handle (a pipe, a file, an
 * AF_UNIX datagram socket...), which would make it abort. */
static int kind(int fd) {
  struct sockaddr sa; /* only its family is read: a longer address is cut, which is no error */
  int type = 0, dom, on = 0;
  socklen_t n = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n) || (n = sizeof sa, getsockname(fd, &sa, &n)))
    return 0;
  dom = sa.sa_family;
  if (type == SOCK_DGRAM)
    return dom == AF_INET ? '4' : dom == AF_INET6 ? '6' : 0;
  if (type != SOCK_STREAM || (dom != AF_INET && dom != AF_INET6 && dom != AF_UNIX))
    return 0;
  n = sizeof on;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &n) ? 0 : on ? 'L' : 'S';
}

/* The index in types[] of the name at p (n bytes), or -1. */
static int type_index(const void *p, size_t n) {
  for (int i = 0; i < (int)(sizeof types / sizeof types[0]); i++)
    if (n == strlen(types[i].name) && !memcmp(p, types[i].name, n))
      return i;
  return -1;
}
#endif

/* Writes an answer to the parent's handle at once, before anything of
 * ours that is queued and not begun, since Node.js withholds every later
 * message until it comes [NODE-8]. A failure ends our direction only. */
static void answer(cord_chan_t *ch, const char *text, size_t n) {
  if (!(ch->flags & CORD__F_NOWRITE))
    CORD__IGNORE(cord__wr(ch, text, n, NULL, 0));
}

/*
 * Queues (or writes) one line after what is queued: the text and a 0a,
 * or, with a descriptor, Node.js's NODE_HANDLE object around the text as
 * JSON.stringify writes it (cmd, type, msg, then dgramType for a UDP
 * socket), with the descriptor on its first byte [NODE-8, NODE-14].
 */
static int line(cord_chan_t *ch, const void *text, size_t n, const int *fd, int t, int k) {
  static const char head[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"", mid[] = "\",\"msg\":",
                    udp[] = ",\"dgramType\":\"udp4\"}";
  size_t tn = fd ? strlen(types[t].name) : 0, hn = fd ? sizeof head - 1 + tn + sizeof mid - 1 : 0;
  size_t un = !fd ? 0 : k == '4' || k == '6' ? sizeof udp - 1 : 1, all = hn + n + un + 1;
  uint8_t *w;
  int r;
  if (all > ch->tx_len)
    return CORD_ETOOBIG;
  if (all > ch->tx_len - ch->txn && (r = cord__flush(ch)) < 0)
    return r;
  w = ch->tx + ch->txn;
  if (fd) {
    memcpy(w, head, sizeof head - 1);
    memcpy(w + sizeof head - 1, types[t].name, tn);
    memcpy(w + hn - (sizeof mid - 1), mid, sizeof mid - 1);
    memcpy(w + hn + n, udp + sizeof udp - 1 - un, un); /* "}" alone is udp's last byte */
    if (un > 1)
      w[hn + n + un - 3] = (uint8_t)k; /* udp4 or udp6 */
  }
  memcpy(w + hn, text, n);
  w[all - 1] = '\n';
  return cord__queue(ch, all, fd, fd ? 1 : 0);
}

/* The first byte at or after k that is not JSON whitespace, or n. */
static size_t skip(const uint8_t *p, size_t k, size_t n) {
  while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
    k++;
  return k;
}

/* The closing quote of the string whose opening quote is at i, or n when
 * the text ends first; a quote escaped with a backslash ends nothing. */
static size_t string_end(const uint8_t *p, size_t i, size_t n) {
  size_t k;
  for (k = i + 1; k < n && p[k] != '"'; k += p[k] == '\\' ? 2 : 1)
    ;
  return k > n ? n : k; /* a backslash ends the text: the string is unterminated */
}

/*
 * Not a JSON parser, and it needs none: it walks the text once, skipping
 * strings whole and counting brackets, and looks at the members directly
 * inside the outermost object: "cmd", whose string value of more than 5
 * bytes starting NODE_ makes the text internal, which is how Node.js's
 * JSON.stringify writes its internal messages, and, for a NODE_HANDLE,
 * "type" (a string) and "msg" (any value, up to the comma or brace that
 * ends it). Of duplicate keys the last counts, as with JSON.parse. Its
 * limits, on texts Node.js never sends: a key or a value spelled with \u
 * escapes ("c\u006dd", "\u004eODE_X") is not recognised, and a value
 * whose escapes shrink it to 5 characters or fewer is taken as internal.
 */
int cord__node_internal(const uint8_t *p, size_t n, cord__node_parts_t *h) {
  static const char node[] = "\"NODE_HANDLE";
  cord__node_parts_t x;
  size_t i, k, v, msg = 0; /* msg: the "msg" value starts there, its end is being looked for */
  int depth = 0, r = CORD__NODE_USER;
  if (!h)
    h = &x;
  memset(h, 0, sizeof *h);
  for (i = 0; i < n; i++) {
    if (p[i] == '"') {
      k = string_end(p, i, n);
      v = depth == 1 && k < n ? skip(p, k + 1, n) : n;
      if (v < n && p[v] == ':') { /* a key of the outermost object */
        size_t klen = k - i - 1;
        const uint8_t *key = p + i + 1;
        v = skip(p, v + 1, n);
        if (klen == 3 && !memcmp(key, "cmd", 3)) {
          r = CORD__NODE_USER;
          if (v + 7 <= n && !memcmp(p + v, node, 6) && p[v + 6] != '"') {
            const uint8_t *t = p + v + 12; /* after "NODE_HANDLE */
            r = CORD__NODE_INTERNAL;
            if (v + 12 <= n && !memcmp(p + v, node, 12))
              r = v + 13 <= n && *t == '"'                          ? CORD__NODE_HANDLE
                  : v + 17 <= n && !memcmp(t, "_ACK\"", 5)         ? CORD__NODE_ACK
                  : v + 18 <= n && !memcmp(t, "_NACK\"", 6)        ? CORD__NODE_NACK
                                                                    : CORD__NODE_INTERNAL;
          }
        } else if (klen == 4 && !memcmp(key, "type", 4)) {
          h->type_off = h->type_len = 0;
          if (v < n && p[v] == '"' && (k = string_end(p, v, n)) < n) {
            h->type_off = v + 1;
            h->type_len = k - v - 1;
          }
        } else if (klen == 3 && !memcmp(key, "msg", 3)) {
          h->msg_off = msg = v;
          h->msg_len = 0;
        }
        k = v - 1; /* the loop's i++ brings the scan to the value */
      }
      i = k;
    } else if (p[i] == '{' || p[i] == '[') {
      depth++;
    } else if (p[i] == ',' ? depth == 1 : (p[i] == '}' || p[i] == ']') && --depth == 0) {
      if (msg) { /* the end of the "msg" value */
        for (k = i; k > msg && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\r' || p[k - 1] == '\n'); k--)
          ;
        h->msg_len = k - msg;
        msg = 0;
      }
    }
  }
  return r;
}

#ifndef CORD_CHILD_NO_FDS
/* Closes the descriptors that came with reads ending at or before the
 * stream position `at`, where a line begins: they came with no
 * NODE_HANDLE, which Node.js sends only with its first byte [NODE-16]. */
static void strays(cord_chan_t *ch, uint32_t at) {
  while (ch->nq && (int32_t)(ch->p0 - at) <= 0) {
    cord__claim(ch, 1);
    cord__discard(ch);
  }
}
#endif

/*
 * A NODE_HANDLE line (p, n bytes) [NODE-8, NODE-16]: the oldest waiting
 * descriptor is its own. It is taken, answered ACK and handed over with
 * the message when it is what the type says and the message is the
 * program's; otherwise it is closed, the line is answered NACK and
 * reported as CORD_CHAN_EV_ERROR (1010, UNSUPPORTED, with the line as its
 * data), and the message, if there is one for the program, is due next.
 */
static int handle(cord_chan_t *ch, cord_chan_msg_t *m, const uint8_t *p, size_t n) {
  cord__node_parts_t h;
  int user;
  (void)cord__node_internal(p, n, &h);
  user = h.msg_len && cord__node_internal(p + h.msg_off, h.msg_len, NULL) == CORD__NODE_USER;
#ifndef CORD_CHILD_NO_FDS
  if (ch->nq) {
    int t = type_index(p + h.type_off, h.type_len), k;
    cord__claim(ch, 1);
    k = kind(ch->fdq[0]);
    if (user && t >= 0 && k && strchr(types[t].kinds, k)) {
      answer(ch, ack, sizeof ack - 1);
      m->type = CORD_CHAN_EV_MESSAGE;
      m->payload = CORD_PAYLOAD_JSON;
      m->type_name.ptr = p + h.type_off; /* the handle's type */
      m->type_name.len = h.type_len;
      m->data.ptr = p + h.msg_off;
      m->data.len = h.msg_len;
      m->fds = ch->fdq;
      m->nfds = 1;
      return 1;
    }
    cord__discard(ch);
  }
#endif
  answer(ch, nack, sizeof nack - 1);
  m->type = CORD_CHAN_EV_ERROR;
  m->status = (uint32_t)-CORD_EUNSUPPORTED;
  m->data.ptr = p;
  m->data.len = n;
  if (user)
    ch->flags |= CORD__F_DUE;
  return 1;
}

/*
 * The line reader. rx holds [start, fill): start is where the next line
 * begins, scan how far the search for its 0a has got. A line is handed
 * over in place; the line in progress moves to the front of the buffer
 * only when more must be read, once per read, so a burst of small lines
 * costs no copying. A line longer than the buffer is reported once and
 * discarded up to its 0a [NODE-6]; the channel stays open.
 */
int cord__node_pump(cord_chan_t *ch, cord_chan_msg_t *m, int nb) {
  uint8_t *b = ch->rx, *nl;
  size_t s, e;
  int r;
  for (;;) {
    nl = memchr(b + ch->scan, '\n', ch->fill - ch->scan); /* 0a only [NODE-5] */
    if (nl) {
      s = ch->start;
      e = (size_t)(nl - b);
      ch->start = ch->scan = (uint32_t)e + 1;
      if (ch->flags & CORD__F_DUE) { /* the message of the handle refused on the last call [NODE-16] */
        cord__node_parts_t h;
        ch->flags &= (uint16_t)~CORD__F_DUE;
        (void)cord__node_internal(b + s, e - s, &h);
        m->type = CORD_CHAN_EV_MESSAGE;
        m->payload = CORD_PAYLOAD_JSON;
        m->data.ptr = b + s + h.msg_off;
        m->data.len = h.msg_len;
        return 1;
      }
      if (ch->flags & CORD__F_SKIP) {
        /* The end of a line too long for the buffer. If it was a
         * NODE_HANDLE, its descriptor came with a read ending inside it,
         * and Node.js waits for an answer [NODE-6, NODE-8]. */
#ifndef CORD_CHILD_NO_FDS
        strays(ch, ch->pos + (uint32_t)e + 1);
#endif
        if (ch->flags & CORD__F_SKIPH)
          answer(ch, nack, sizeof nack - 1);
        ch->flags &= (uint16_t)~(CORD__F_SKIP | CORD__F_SKIPH);
        continue;
      }
      if (e == s)
        continue; /* an empty line is no JSON text: nothing to deliver */
#ifndef CORD_CHILD_NO_FDS
      strays(ch, ch->pos + (uint32_t)s);
#endif
      switch ((r = cord__node_internal(b + s, e - s, NULL))) {
      case CORD__NODE_USER:
        m->type = CORD_CHAN_EV_MESSAGE;
        m->payload = CORD_PAYLOAD_JSON;
        m->data.ptr = b + s;
        m->data.len = e - s;
        return 1;
      case CORD__NODE_HANDLE:
        r = handle(ch, m, b + s, e - s);
        if (ch->flags & CORD__F_DUE) { /* the line stays for its message */
          ch->start = (uint32_t)s;
          ch->scan = (uint32_t)e;
        }
        return r;
      case CORD__NODE_ACK:
      case CORD__NODE_NACK:
        /* The answer to our handle: what waits behind it goes [NODE-15].
         * One to no handle of ours is not delivered (NODE-7). */
        if (!(ch->flags & CORD__F_HOLD))
          continue;
        ch->flags &= (uint16_t)~CORD__F_HOLD;
        if (!(ch->flags & CORD__F_BATCH))
          CORD__IGNORE(cord__flush(ch));
        m->type = CORD_CHAN_EV_HANDLE;
        m->status = r == CORD__NODE_NACK ? (uint32_t)-CORD_EUNSUPPORTED : 0;
        m->data.ptr = b + s;
        m->data.len = e - s;
        return 1;
      default: /* [NODE-7] */
        continue;
      }
    }
    if (ch->start) {
      memmove(b, b + ch->start, ch->fill - ch->start);
      ch->fill -= ch->start;
#ifndef CORD_CHILD_NO_FDS
      ch->pos += ch->start;
#endif
      ch->start = 0;
    }
    ch->scan = ch->fill;
    if (ch->fill == ch->rx_len) {
      r = !(ch->flags & CORD__F_SKIP);
      if (r) {
#ifndef CORD_CHILD_NO_FDS
        strays(ch, ch->pos);
#endif
        if (cord__node_internal(b, ch->fill, NULL) == CORD__NODE_HANDLE) /* "cmd" comes first */
          ch->flags |= CORD__F_SKIPH;
      }
#ifndef CORD_CHILD_NO_FDS
      ch->pos += ch->fill;
#endif
      ch->fill = ch->scan = 0;
      ch->flags |= CORD__F_SKIP;
      if (r) {
        m->type = CORD_CHAN_EV_ERROR;
        m->status = (uint32_t)-CORD_EFRAMESIZE;
        return 1;
      }
    }
    CORD__IGNORE(cord__flush(ch)); /* what is queued goes before a wait */
    r = cord__rd(ch, nb);
    if (r == -EAGAIN)
      return r;
    if (r <= 0) { /* [NODE-10]: a partial line at the end is TRUNCATED */
      cord__stop(ch, r ? r : ch->fill || (ch->flags & CORD__F_SKIP) ? CORD_ETRUNCATED : 0, 0);
      return 0;
    }
  }
}

int cord__node_send(cord_chan_t *ch, uint64_t ids, const cord_chan_out_t *o) {
  const void *text;
  size_t n;
  int t = -1, k = 0, r;
  /* Only a one-way json message, with one socket at most, has a line [NODE-9]. */
  if (ids || !o || o->nfds > 1 || o->payload != CORD_PAYLOAD_JSON)
    return CORD_ENODE;
  text = o->data;
  n = o->len;
  if (ch->flags & CORD__F_NOWRITE)
    return CORD_ECLOSED;
  if (!n || memchr(text, '\n', n)) /* [NODE-4]: Node.js ends the process on such a line */
    return CORD_ENODE;
  if (cord__node_internal(text, n, NULL)) /* [NODE-7] */
    return CORD_ENODE;
  if (o->nfds) {
#ifdef CORD_CHILD_NO_FDS
    return -ENOTSUP;
#else
    /* [NODE-14]: the type is what the descriptor is, or the one named
     * (net.Native...) when the descriptor is what that type says. */
    k = kind(o->fds[0]);
    if (o->type_name)
      t = type_index(o->type_name, o->type_name_len ? o->type_name_len : strlen(o->type_name));
    else
      t = k == 'L' ? 0 : k == 'S' ? 1 : 3;
    if (!k || t < 0 || !strchr(types[t].kinds, k))
      return CORD_ENODE;
    if (ch->flags & CORD__F_HOLD)
      return -EAGAIN; /* one handle at a time [NODE-15] */
#endif
  }
  r = line(ch, text, n, o->nfds ? o->fds : NULL, t, k);
  if (!r && o->nfds)
    ch->flags |= CORD__F_HOLD;
  return r;
}

#else
/* ISO C wants something in every translation unit. */
typedef int cord__node_left_out;
#endif
