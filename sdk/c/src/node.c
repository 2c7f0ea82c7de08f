/* node.c: the core's Node.js json binding: one JSON text per line, internal NODE_ messages, handles refused (spec section 13). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "node_codec.h"

size_t cord__node_line_len(const uint8_t *p, size_t avail) {
  const uint8_t *nl = avail ? memchr(p, '\n', avail) : NULL;
  return nl ? (size_t)(nl - p) + 1 : 0;
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

/* Queues one line: the text and its newline, within the queue's bound. */
static int queue_line(cord__core_t *k, const void *text, size_t len, bool forced) {
  uint8_t *w;
  if (!forced && cord__txq_len(&k->tx) && cord__txq_len(&k->tx) + len + 1 > k->cfg.queue_limit)
    return -ENOBUFS;
  if (cord__txq_reserve(&k->tx, len + 1, &w) < 0)
    return -ENOMEM;
  memcpy(w, text, len);
  w[len] = '\n';
  cord__txq_commit(&k->tx, len + 1);
  return 0;
}

int cord__node_send(cord__core_t *k, const cord_msg_t *m) {
  int r;
  uint8_t *w;
  size_t scratch;
  if (m->payload != CORD_PAYLOAD_JSON || m->nfds)
    return cord__core_refuse(k, CORD_ENODE, "Node.js's json channel carries one-way JSON messages only (NODE-9)");
  if ((r = cord__core_check_msg(k, m)) < 0)
    return r;
  if (cord__txq_len(&k->tx) && cord__txq_len(&k->tx) + m->len + 1 > k->cfg.queue_limit)
    return -ENOBUFS;
  /* The line's room in the queue, and past it the checker's scratch for a
   * text nested deeper than its own bits reach: checked, then copied, and
   * nothing allocated beside the queue. */
  scratch = CORD__JSON_SCRATCH(m->len);
  if (cord__txq_reserve(&k->tx, m->len + 1 + scratch, &w) < 0)
    return -ENOMEM;
  if ((r = check_json(k, m->data, m->len, w + m->len + 1, scratch)) < 0)
    return r;
  memcpy(w, m->data, m->len);
  w[m->len] = '\n';
  cord__txq_commit(&k->tx, m->len + 1);
  return cord__core_after_queue(k);
}

/* Whether a line is one of Node's internal messages, by Node's own rule
 * and without a parse that could fail for valid JSON (NODE-7). */
static bool internal(const uint8_t *b, size_t len, bool *handle) {
  cord__node_msg_t m;
  cord__node_kind_t kind = cord__node_scan(b, len, &m);
  *handle = kind == CORD__NODE_HANDLE;
  return kind != CORD__NODE_USER;
}

static int line_error(cord__core_t *k, cord_event_t *ev, int code) {
  ev->type = CORD_EV_ERROR;
  ev->error = code;
  ev->detail = k->detail;
  return 1;
}

/* One line is one message (spec NODE-5 to NODE-8). Returns 1 with an
 * event, 0 after a line without one, -EAGAIN when more bytes are needed. */
int cord__node_next(cord__core_t *k, cord_event_t *ev) {
  size_t avail = cord__rxq_len(&k->rx), len;
  if (!avail)
    return -EAGAIN; /* (the buffer may not exist yet) */
  const uint8_t *b = k->rx.p + k->rx.head;
  size_t whole = cord__node_line_len(b, avail);
  bool handle;

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
    k->skipping = true;
    cord__rxq_consume(&k->rx, avail);
    cord__core_set_detail(k, "a line longer than max_frame %u was discarded", k->cfg.max_frame);
    return line_error(k, ev, CORD_EFRAMESIZE);
  }
  len = whole - 1;
  if (k->cfg.trace)
    k->cfg.trace(k->cfg.trace_arg, 0, b, whole);
  cord__rxq_close_fds(&k->rx); /* this binding accepts no handles (spec NODE-8) */
  if (len > k->cfg.max_frame) {
    cord__rxq_consume(&k->rx, whole);
    cord__core_set_detail(k, "a line of %zu bytes exceeds max_frame %u and was discarded", len, k->cfg.max_frame);
    return line_error(k, ev, CORD_EFRAMESIZE);
  }
  if (len == 0 || (len == 1 && b[0] == '\r')) {
    cord__rxq_consume(&k->rx, whole);
    cord__core_set_detail(k, "an empty line was discarded");
    return line_error(k, ev, CORD_ENODE);
  }
  if (internal(b, len, &handle)) {
    cord__rxq_consume(&k->rx, whole);
    if (handle && k->out == CORD__OUT_OPEN) {
      static const char nack[] = "{\"cmd\":\"NODE_HANDLE_NACK\"}";
      /* Node.js withholds every later message until this answer comes,
       * and sends no other handle meanwhile: a peer that sends handles
       * faster than it reads the answers is not Node.js. */
      if (queue_line(k, nack, sizeof nack - 1, false) < 0)
        cord__core_fail(k, CORD_EPROTOCOL, false, "NODE_HANDLE messages arrive faster than their answers are read");
    }
    return 0;
  }
  ev->type = CORD_EV_MESSAGE;
  ev->payload = CORD_PAYLOAD_JSON;
  ev->data = b;
  ev->len = len;
  k->rx.pinned = true; /* the event points into the buffer */
  cord__rxq_consume(&k->rx, whole);
  return 1;
}
