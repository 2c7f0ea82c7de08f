/* cord_child_codec.h: internal interface of the child SDK's zero-copy nanopb frame codec. */
#ifndef CORD_CHILD_CODEC_H
#define CORD_CHILD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <pb.h>

#include "cord.pb.h"

/* A byte range; when decoded, it points into the buffer the frame came from. */
typedef struct {
  const uint8_t *ptr;
  size_t len;
} cord__span_t;

/*
 * A frame as the child SDK holds it: nanopb's struct for the scalar fields
 * and two spans for the variable-length ones, which stay in the receive
 * buffer, or in the program's memory when sent (cord.options makes them
 * callbacks, whose room in the struct goes unused). Which field a span
 * holds depends on the body:
 *   hello:    s[0] impl_name,      s[1] impl_version
 *   message:  s[0] typed.type,       s[1] json, raw or typed.value
 *   goodbye, error: s[0] detail
 * `kind` is the payload member of a message (0 when it has none), the
 * field number of cord.v1.Message: 5 typed, 6 json, 7 raw.
 */
typedef struct {
  uint8_t body; /* decoding: the body member seen, as its field number */
  uint8_t kind;
  cord__span_t s[2];
  /* Encoding a typed payload only: when set, typed.value is encoded from
   * this nanopb message instead of from s[1], so the application's struct
   * goes onto the wire without an intermediate buffer. NULL otherwise.
   * value_size is its encoded size, which the encoder finds first. */
  const pb_msgdesc_t *value_fields;
  const void *value_struct;
  size_t value_size;
  cord_v1_Frame f; /* last: the small fields above get the short offsets */
} cord__frame_t;

/*
 * Decodes body bytes [buf, buf+len) into fr. Spans point into buf, which
 * must outlive their use. Returns 1 on success, 0 if the bytes are not a
 * valid cord.v1.Frame.
 */
__attribute__((warn_unused_result)) int cord__frame_decode(cord__frame_t *fr, const uint8_t *buf, size_t len);

/*
 * Encodes fr as a whole frame, prefix included, into out[0..cap). Set
 * fr->f.which_body, the body's scalars, fr->kind and the spans first, on
 * a zeroed fr or one cord__frame_decode() filled. Returns the frame's
 * length in bytes, or 0 if it does not fit in cap (or value_struct's own
 * encoding failed).
 */
__attribute__((warn_unused_result)) size_t cord__frame_encode(cord__frame_t *fr, uint8_t *out, size_t cap);

#endif /* CORD_CHILD_CODEC_H */
