/* cord_child_codec.c: encodes and decodes Cord frames with nanopb, leaving strings and bytes in place. */
#include "cord_child_codec.h"

#include <stddef.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

/*
 * Where the callback fields of each body lie, as offsets into the body
 * union: the field s[0] stands for, then the one s[1] stands for (0: none;
 * no callback field starts a body). Row 0 is a message with a typed
 * payload; a message row without it has json and raw, which share the
 * union's first callback with typed.type. Decoding and encoding share this
 * one map, so they cannot disagree on it.
 */
#define AT(type, field) ((uint8_t)offsetof(type, field))
static const uint8_t map[8][2] = {
    {AT(cord_v1_Message, payload.typed.type), AT(cord_v1_Message, payload.typed.value)},
    [cord_v1_Frame_hello_tag] = {AT(cord_v1_Hello, impl_name), AT(cord_v1_Hello, impl_version)},
    [cord_v1_Frame_message_tag] = {0, AT(cord_v1_Message, payload.json)},
    [cord_v1_Frame_goodbye_tag] = {AT(cord_v1_Goodbye, detail), 0},
    [cord_v1_Frame_error_tag] = {AT(cord_v1_Error, detail), 0},
};
#define TYPED_ROW 0

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

/* A json or raw payload: the field's number is the payload kind. */
static bool json_decode(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  void *sp = &fr->s[1];
  fr->kind = (uint8_t)field->tag;
  return span_decode(s, field, &sp);
}

/* Runs before nanopb decodes a Typed payload, which it first zeroes. */
static bool typed_hook(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  (void)s;
  (void)field;
  /* A payload replaced by a later member of the oneof leaves no span
   * behind; a Typed merged into an earlier Typed keeps its own. */
  if (fr->kind != cord_v1_Message_typed_tag)
    memset(fr->s, 0, sizeof fr->s);
  fr->kind = cord_v1_Message_typed_tag;
  bind(fr, TYPED_ROW, DECODE_SPANS);
  return true;
}

/* Runs before nanopb decodes a body member, which it first zeroes: points
 * that member's callback fields at the span recorders. */
static bool body_hook(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  cord_v1_Message *mm = &fr->f.body.message;
  (void)s;
  /* A new member replaces the body (nanopb has zeroed it), so nothing may
   * survive from the old one; the same member again is merged, as
   * protobuf merges a repeated submessage, and keeps what it had. */
  if (fr->body != field->tag) {
    fr->body = (uint8_t)field->tag;
    fr->kind = 0;
    memset(fr->s, 0, sizeof fr->s);
  }
  bind(fr, field->tag, DECODE_SPANS);
  if (field->tag == cord_v1_Frame_message_tag) {
    mm->cb_payload.funcs.decode = typed_hook;
    mm->cb_payload.arg = fr;
    mm->payload.json.funcs.decode = json_decode; /* json and raw alike */
    mm->payload.json.arg = fr;
  }
  return true;
}

int cord__frame_decode(cord__frame_t *fr, const uint8_t *buf, size_t len) {
  pb_istream_t s = pb_istream_from_buffer(buf, len);

  memset(fr, 0, sizeof *fr);
  fr->f.cb_body.funcs.decode = body_hook;
  fr->f.cb_body.arg = fr;
  if (!pb_decode_ex(&s, cord_v1_Frame_fields, &fr->f, PB_DECODE_NOINIT))
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
  pb_ostream_t s = pb_ostream_from_buffer(buf + 4, cap - 4);
  unsigned body = fr->f.which_body;
  uint32_t n;

  if (body == cord_v1_Frame_message_tag && fr->f.body.message.which_payload == cord_v1_Message_typed_tag)
    body = TYPED_ROW;
  bind(fr, body, ENCODE_SPANS);
  if (fr->value_fields) { /* set for a typed payload only */
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
