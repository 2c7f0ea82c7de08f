/* node_codec.h: the sans-I/O pieces of the Node.js binding (JSON check, NODE-7 scanner, V8 values), as the channel calls them. */
#ifndef CORD_NODE_CODEC_H
#define CORD_NODE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cord.h"

#if defined(__GNUC__)
#define cord__nc_check __attribute__((warn_unused_result))
#else
#define cord__nc_check
#endif

/* ---- JSON texts (RFC 8259), checked without allocating -------------------- */

/* Why and where a text was refused. */
typedef struct {
  size_t offset;      /* byte offset of the fault in the text */
  const char *reason; /* a constant phrase, such as "a raw control byte in a string" */
} cord__json_err_t;

/*
 * Nesting levels whose one bit each (object or array) lives in the
 * checker's own 1 KiB of stack. Node.js's JSON.stringify writes at most
 * about 4,200 levels with its default stack; JSON.parse reads any depth.
 */
#define CORD__JSON_LOCAL_DEPTH 8192u

/*
 * Bytes of scratch that let cord__json_check() decide any text of len
 * bytes: a level costs at least two bytes of text ("[" and "]"), so a text
 * has at most len/2 levels, and the levels past the local ones need one
 * bit each. 0 for texts shorter than 16 KiB.
 */
#define CORD__JSON_SCRATCH(len) \
  ((len) / 2 > CORD__JSON_LOCAL_DEPTH ? ((len) / 2 - CORD__JSON_LOCAL_DEPTH) / 8 + 1 : 0)

/*
 * cord__json_check: 0 if text[0..len) is exactly one JSON text of RFC 8259
 * (any value at the top, surrounding whitespace allowed, strict UTF-8,
 * numbers of any size, any escape including lone surrogates), else
 * CORD_ENODE with err filled. Nesting deeper than CORD__JSON_LOCAL_DEPTH
 * keeps its bits in scratch (scratch_len bytes, may be NULL); with less
 * scratch than CORD__JSON_SCRATCH(len) a text that goes deeper is refused
 * with -ENOBUFS (err says so), never with CORD_ENODE. Allocates nothing,
 * recurses nowhere, reads nothing outside the text. err may be NULL.
 */
cord__nc_check int cord__json_check(const void *text, size_t len, void *scratch, size_t scratch_len,
                                    cord__json_err_t *err);

/* ---- NODE-7: is a JSON text one of Node.js's internal messages? ----------- */

/* What a text is, by Node.js's rule (lib/internal/child_process.js isInternal). */
typedef enum {
  CORD__NODE_USER = 0,     /* a user message: deliver it */
  CORD__NODE_HANDLE,       /* {"cmd":"NODE_HANDLE",...}: a message with a handle */
  CORD__NODE_HANDLE_ACK,   /* {"cmd":"NODE_HANDLE_ACK"} */
  CORD__NODE_HANDLE_NACK,  /* {"cmd":"NODE_HANDLE_NACK"} */
  CORD__NODE_OTHER         /* any other internal command (NODE_CLUSTER, ...) */
} cord__node_kind_t;

/* The handle types of a NODE_HANDLE message, by its "type" member. */
typedef enum {
  CORD__HANDLE_OTHER = 0,  /* absent, not a string, or a name Node.js does not know */
  CORD__HANDLE_NET_SOCKET, /* "net.Socket": a connected stream socket */
  CORD__HANDLE_NET_SERVER, /* "net.Server": a listening socket */
  CORD__HANDLE_NET_NATIVE, /* "net.Native": a raw TCP or pipe handle */
  CORD__HANDLE_DGRAM_SOCKET, /* "dgram.Socket" */
  CORD__HANDLE_DGRAM_NATIVE  /* "dgram.Native" */
} cord__handle_type_t;

/* A span of the text: [off, off + len). len 0 means absent. */
typedef struct {
  size_t off, len;
} cord__span_t;

typedef struct {
  cord__node_kind_t kind;
  cord__span_t cmd;  /* the "cmd" member's value, quotes included (internal kinds only) */
  cord__span_t msg;  /* NODE_HANDLE: the "msg" member's value, the user's message */
  cord__span_t type; /* NODE_HANDLE: the "type" member's value */
  cord__handle_type_t handle_type; /* NODE_HANDLE: the type, decoded */
} cord__node_msg_t;

/*
 * cord__node_scan: classifies text[0..len) as Node.js does: internal when
 * it is an object whose last "cmd" member (keys and values compared after
 * their escapes are decoded, as JSON.parse does) is a string of more than
 * 5 UTF-16 units starting "NODE_". No parse that can fail is involved: the
 * scan walks the top-level members once and skips nested values by
 * counting brackets outside strings, so depth, number size and escapes do
 * not matter. The result is Node.js's for any RFC 8259 text; for other
 * bytes it is some kind, and nothing outside the text is read. Returns
 * m->kind.
 */
cord__node_kind_t cord__node_scan(const void *text, size_t len, cord__node_msg_t *m);

/*
 * cord__node_value_kind: the same rule on a decoded `advanced` message.
 * For NODE_HANDLE, *msg is the "msg" member (NULL if absent) and
 * *handle_type its type. msg and handle_type may be NULL.
 */
cord__node_kind_t cord__node_value_kind(const cord_value_t *v, const cord_value_t **msg,
                                        cord__handle_type_t *handle_type);

#endif /* CORD_NODE_CODEC_H */
