/* cord_child_node.c: Node.js's json channel (spec section 13): a line of JSON in, a line out, internal messages kept out. */
/* POSIX.1-2008 for unsetenv(), MSG_NOSIGNAL and the CMSG_* macros under -std=c11. */
#define _POSIX_C_SOURCE 200809L
#include "cord_child_int.h"

#ifndef CORD_CHILD_NO_NODE

#include <errno.h>
#include <string.h>

static const char nack[] = "{\"cmd\":\"NODE_HANDLE_NACK\"}";

/* Queues (or writes) the n bytes of text and a 0a as one line, after
 * what is queued. */
static int line(cord_chan_t *ch, const void *text, size_t n) {
  int r;
  if (n >= ch->tx_len)
    return CORD_ETOOBIG;
  if (n >= ch->tx_len - ch->txn && (r = cord__flush(ch)) < 0)
    return r;
  memcpy(ch->tx + ch->txn, text, n);
  ch->tx[ch->txn + n] = '\n';
  return cord__queue(ch, n + 1, NULL, 0);
}

/* The first byte at or after k that is not JSON whitespace, or n. */
static size_t skip(const uint8_t *p, size_t k, size_t n) {
  while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
    k++;
  return k;
}

/*
 * Not a JSON parser, and it needs none: it walks the text once, skipping
 * strings whole (a quote escaped with a backslash does not end one) and
 * counting brackets, and looks for the key "cmd" directly inside the
 * outermost object, followed by a string value of more than 5 bytes that
 * starts NODE_, which is how Node.js's JSON.stringify writes its internal
 * messages. Its limits, on texts Node.js never sends: a key or a value
 * spelled with \u escapes ("c\u006dd", "\u004eODE_X") is not recognised,
 * a value whose escapes shrink it to 5 characters or fewer is taken as
 * internal, and of duplicate "cmd" keys the first counts, where JSON.parse
 * keeps the last.
 */
int cord__node_internal(const uint8_t *p, size_t n) {
  static const char handle[] = "\"NODE_HANDLE\""; /* its first 6 bytes start every internal value */
  size_t i, k;
  int depth = 0;
  for (i = 0; i < n; i++) {
    if (p[i] == '"') {
      for (k = i + 1; k < n && p[k] != '"'; k += p[k] == '\\' ? 2 : 1)
        ;
      if (k > n)
        k = n; /* a backslash ends the text: the string is unterminated */
      if (depth == 1 && k == i + 4 && !memcmp(p + i + 1, "cmd", 3)) {
        k = skip(p, k + 1, n);
        if (k < n && p[k] == ':') {
          k = skip(p, k + 1, n);
          if (k + 7 <= n && !memcmp(p + k, handle, 6) && p[k + 6] != '"')
            return k + 13 <= n && !memcmp(p + k + 6, handle + 6, 7) ? 2 : 1;
        }
        k--; /* the loop's i++ brings the scan back to byte k */
      }
      i = k;
    } else if (p[i] == '{' || p[i] == '[') {
      depth++;
    } else if (p[i] == '}' || p[i] == ']') {
      depth--;
    }
  }
  return 0;
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
      if (ch->flags & CORD__F_SKIP) {
        ch->flags &= (uint8_t)~CORD__F_SKIP;
        continue;
      }
      if (e == s)
        continue; /* an empty line is no JSON text: nothing to deliver */
      r = cord__node_internal(b + s, e - s);
      if (r == 2) /* [NODE-8]: the handle's descriptor was closed on arrival */
        CORD__IGNORE(line(ch, nack, sizeof nack - 1));
      if (r) /* [NODE-7] */
        continue;
      m->type = CORD_CHAN_EV_MESSAGE;
      m->payload = CORD_PAYLOAD_JSON;
      m->data.ptr = b + s;
      m->data.len = e - s;
      return 1;
    }
    if (ch->start) {
      memmove(b, b + ch->start, ch->fill - ch->start);
      ch->fill -= ch->start;
      ch->start = 0;
    }
    ch->scan = ch->fill;
    if (ch->fill == ch->rx_len) {
      r = !(ch->flags & CORD__F_SKIP);
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
  /* Only a one-way json message without descriptors has a line [NODE-9]. */
  if (ids || !o || o->nfds || o->payload != CORD_PAYLOAD_JSON)
    return CORD_ENODE;
  text = o->data;
  n = o->len;
  if (ch->flags & CORD__F_NOWRITE)
    return CORD_ECLOSED;
  if (!n || memchr(text, '\n', n)) /* [NODE-4]: Node.js ends the process on such a line */
    return CORD_ENODE;
  if (cord__node_internal(text, n)) /* [NODE-7] */
    return CORD_ENODE;
  return line(ch, text, n);
}

#else
/* ISO C wants something in every translation unit. */
typedef int cord__node_left_out;
#endif
