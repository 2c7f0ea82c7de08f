/* cord_scan.h: reads a Cord frame body the one way the spec allows, without allocating: the rules every receiver applies, and the decoded fields. */
#ifndef CORD_SCAN_H
#define CORD_SCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Members of cord.v1.Frame's `body`, as their field numbers. */
enum {
  CORD_SCAN_NONE = 0, /* no member the schema knows [FRAME-8] */
  CORD_SCAN_HELLO = 1,
  CORD_SCAN_MESSAGE = 2,
  CORD_SCAN_CANCEL = 3,
  CORD_SCAN_PING = 4,
  CORD_SCAN_PONG = 5,
  CORD_SCAN_GOODBYE = 6,
  CORD_SCAN_ERROR = 7
};

/* A byte range inside the scanned body. */
typedef struct {
  const uint8_t *p;
  size_t n;
} cord_scan_span_t;

/*
 * A scanned frame. `body` says which member it holds; the member's scalar
 * fields are in v[] by their field numbers (Hello: 1 magic ... 7 pid;
 * Message: 1 id, 2 reply_to, 3 status, 4 fds; Cancel, Ping, Pong: 1 the id
 * or nonce; Goodbye: 1 reason; Error: 1 code); absent fields are 0, as
 * proto3 says. Variable-length fields are spans into the body:
 *   Hello:           s[0] impl_name, s[1] impl_version
 *   Message:         s[0] typed.type, s[1] the payload (json, raw, typed.value)
 *   Goodbye, Error:  s[0] detail
 * `payload` is Message's payload member as its field number (5 typed, 6
 * json, 7 raw), 0 for none.
 */
typedef struct {
  int body;
  int payload;
  uint64_t v[8];
  cord_scan_span_t s[2];
  uint32_t top_field; /* the largest field number met, known or not, at any level */
} cord_scan_frame_t;

/*
 * cord_scan: reads the frame body b[0..n) into *f, applying every rule of
 * spec FRAME-6, FRAME-7 and FRAME-14: a member of Frame.body or
 * Message.payload at most once, each known field in its own wire type,
 * varints of at most 10 bytes and within their field's type, valid tags
 * and lengths; unknown fields are skipped [FRAME-9] and repeated scalar
 * or string fields keep their last value. It never allocates, never reads
 * outside b[0..n), and takes time linear in n.
 *
 * Returns 0, or -1 when the body breaks a rule (the frame is fatal with
 * PROTOCOL), with *why (if not NULL) set to a constant text naming the rule
 * and *at (if not NULL) to the offset in the body where it broke.
 */
int cord_scan(const uint8_t *b, size_t n, cord_scan_frame_t *f, const char **why, size_t *at);

#ifdef __cplusplus
}
#endif
#endif /* CORD_SCAN_H */
