/* cord_child_codec.c: encodes and decodes Cord frames with nanopb, leaving strings and bytes in place. */
#include "cord_child_codec.h"

#include <stddef.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

/*
 * Where the callback fields of each body lie, as offsets into the body
 * union: the field s[0] stands for, then the one s[1] stands for (0: none;
 * no callback field starts a body). A row per body member, by its field
 * number; the message row is for json and raw, which share the union's
 * first callback with typed.type, and TYPED_ROW for a typed payload.
 * Decoding and encoding share this one map, so they cannot disagree on it.
 */
#define TYPED_ROW 8
#define AT(type, field) ((uint8_t)offsetof(type, field))
static const uint8_t map[TYPED_ROW + 1][2] = {
    [cord_v1_Frame_hello_tag] = {AT(cord_v1_Hello, impl_name), AT(cord_v1_Hello, impl_version)},
    [cord_v1_Frame_message_tag] = {0, AT(cord_v1_Message, payload.json)},
    [cord_v1_Frame_goodbye_tag] = {AT(cord_v1_Goodbye, detail), 0},
    [cord_v1_Frame_error_tag] = {AT(cord_v1_Error, detail), 0},
    [TYPED_ROW] = {AT(cord_v1_Message, payload.typed.type), AT(cord_v1_Message, payload.typed.value)},
};

/* Records where a variable-length field lies in the buffer being decoded;
 * arg is the span it fills. Decoding always reads from a buffer stream,
 * whose state is the current read pointer. */
static bool span_decode(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__span_t *sp = *arg;
  (void)field;
  sp->ptr = s->state;
  sp->len = s->bytes_left;
  return pb_read(s, NULL, s->bytes_left);
}

/* Writes a span as its field; proto3 leaves empty strings and bytes off
 * the wire. */
static bool span_encode(pb_ostream_t *s, const pb_field_t *field, void *const *arg) {
  const cord__span_t *sp = *arg;
  return !sp->len || (pb_encode_tag_for_field(s, field) && pb_encode_string(s, sp->ptr, sp->len));
}

/* Points the callback fields of map row `row` at the function in fn
 * (span_decode or span_encode), each with its span as the argument. */
static void bind(cord__frame_t *fr, unsigned row, pb_callback_t fn) {
  unsigned i;
  for (i = 0; i < 2; i++)
    if (map[row][i]) {
      pb_callback_t *cb = (pb_callback_t *)((uint8_t *)&fr->f.body + map[row][i]);
      cb->funcs = fn.funcs;
      cb->arg = &fr->s[i];
    }
}

#define DECODE_SPANS ((pb_callback_t){.funcs.decode = span_decode})
#define ENCODE_SPANS ((pb_callback_t){.funcs.encode = span_encode})

/* The union's first callback: typed.type inside a Typed, or else json or
 * raw, whose field number is then the payload kind. Json or raw replacing
 * a Typed leaves s[0] as it was: the kind says which payload counts. */
static bool first_decode(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  void *sp = &fr->s[0];
  if (field->tag != cord_v1_Typed_type_tag) {
    fr->kind = (uint8_t)field->tag;
    sp = &fr->s[1];
  }
  return span_decode(s, field, &sp);
}

/*
 * Runs before nanopb decodes a body member or a message's Typed payload,
 * which it first zeroes: points that member's callback fields at the span
 * recorders. The Typed payload is told apart by where it lies.
 */
static bool hook(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  cord_v1_Message *mm = &fr->f.body.message;
  unsigned row = field->tag;
  (void)s;
  if (field->pData == &mm->payload.typed) {
    /* A payload replaced by a later member of the oneof leaves no span
     * behind; a Typed merged into an earlier Typed keeps its own. */
    if (fr->kind != cord_v1_Message_typed_tag)
      memset(fr->s, 0, sizeof fr->s);
    fr->kind = cord_v1_Message_typed_tag;
    row = TYPED_ROW;
  } else if (fr->body != row) {
    /* A new member replaces the body (nanopb has zeroed it), so nothing
     * may survive from the old one; the same member again is merged, as
     * protobuf merges a repeated submessage, and keeps what it had. */
    fr->body = (uint8_t)row;
    fr->kind = 0;
    memset(fr->s, 0, sizeof fr->s);
  }
  bind(fr, row, DECODE_SPANS);
  if (row == TYPED_ROW || row == cord_v1_Frame_message_tag) {
    mm->cb_payload.funcs.decode = hook;
    mm->cb_payload.arg = fr;
    mm->payload.json.funcs.decode = first_decode; /* also typed.type */
    mm->payload.json.arg = fr;
  }
  return true;
}

int cord__frame_decode(cord__frame_t *fr, const uint8_t *buf, size_t len) {
  pb_istream_t s = pb_istream_from_buffer(buf, len);

  memset(fr, 0, sizeof *fr);
  fr->f.cb_body.funcs.decode = hook;
  fr->f.cb_body.arg = fr;
  if (!pb_decode_ex(&s, cord_v1_Frame_fields, &fr->f, PB_DECODE_NOINIT))
    return 0;
  /* A string or bytes field sent with a scalar wire type reaches its
   * callback through a copy on nanopb's stack, gone by now: only spans
   * inside the frame are real, anything else is a malformed frame. */
  for (unsigned i = 0; i < 2; i++)
    if (fr->s[i].len && (fr->s[i].ptr < buf || fr->s[i].ptr + fr->s[i].len > buf + len))
      return 0;
  /* A later member of the oneof replaces an earlier one, as protobuf says. */
  fr->body = (uint8_t)fr->f.which_body;
  return 1;
}

/* Writes the program's nanopb struct as typed.value, straight into the frame. */
static bool struct_encode(pb_ostream_t *s, const pb_field_t *field, void *const *arg) {
  const cord__frame_t *fr = *arg;
  return pb_encode_tag_for_field(s, field) &&
         pb_encode_submessage(s, fr->value_fields, fr->value_struct);
}

size_t cord__frame_encode(cord__frame_t *fr, uint8_t *buf, size_t cap) {
  unsigned body = fr->f.which_body;
  uint32_t n;
  if (cap < 4)
    return 0;
  pb_ostream_t s = pb_ostream_from_buffer(buf + 4, cap - 4);

  /* A frame may come straight from the decoder: its hooks go, and the
   * payload member is the kind. */
  fr->f.cb_body.funcs.encode = NULL;
  if (body == cord_v1_Frame_message_tag) {
    fr->f.body.message.cb_payload.funcs.encode = NULL;
    fr->f.body.message.which_payload = fr->kind;
    if (fr->kind == cord_v1_Message_typed_tag)
      body = TYPED_ROW;
  }
  bind(fr, body, ENCODE_SPANS);
  if (fr->value_fields) { /* set with a typed payload only */
    fr->f.body.message.payload.typed.value.funcs.encode = struct_encode;
    fr->f.body.message.payload.typed.value.arg = fr;
  }
  if (!pb_encode(&s, cord_v1_Frame_fields, &fr->f))
    return 0;
  n = (uint32_t)s.bytes_written;
  buf[0] = (uint8_t)(n >> 24);
  buf[1] = (uint8_t)(n >> 16);
  buf[2] = (uint8_t)(n >> 8);
  buf[3] = (uint8_t)n;
  return n + 4;
}
