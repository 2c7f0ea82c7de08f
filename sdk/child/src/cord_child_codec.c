/* cord_child_codec.c: encodes and decodes Cord frames with nanopb, leaving strings and bytes in place. */
#include "cord_child_codec.h"

#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

/* Records where a variable-length field lies in the buffer being decoded.
 * Every callback field of the schema comes here; the field's number and
 * the body it belongs to say which span it fills. Decoding always reads
 * from a buffer stream, whose state is the current read pointer. */
static bool span_decode(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  cord__span_t *sp = &fr->s[0];

  switch (field->tag) {
  case cord_v1_Hello_impl_version_tag: /* 9 */
  case cord_v1_Typed_value_tag:        /* 2, also Goodbye/Error.detail */
    if (fr->body == cord_v1_Frame_hello_tag || fr->body == cord_v1_Frame_message_tag)
      sp = &fr->s[1];
    break;
  case cord_v1_Message_json_tag:
  case cord_v1_Message_raw_tag:
    fr->kind = (uint8_t)field->tag;
    sp = &fr->s[1];
    break;
  default:
    break;
  }
  sp->ptr = s->state;
  sp->len = s->bytes_left;
  return pb_read(s, NULL, s->bytes_left);
}

static void point(pb_callback_t *cb, cord__frame_t *fr) {
  cb->funcs.decode = span_decode;
  cb->arg = fr;
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
  point(&fr->f.body.message.payload.typed.type, fr);
  point(&fr->f.body.message.payload.typed.value, fr);
  return true;
}

/* Runs before nanopb decodes a body member, which it first zeroes: points
 * that member's callback fields at span_decode. */
static bool body_hook(pb_istream_t *s, const pb_field_t *field, void **arg) {
  cord__frame_t *fr = *arg;
  (void)s;
  /* A new member replaces the body (nanopb has zeroed it), so nothing may
   * survive from the old one; the same member again is merged, as
   * protobuf merges a repeated submessage, and keeps what it had. */
  if (fr->body != field->tag) {
    fr->body = (uint8_t)field->tag;
    fr->kind = 0;
    memset(fr->s, 0, sizeof fr->s);
  }
  switch (field->tag) {
  case cord_v1_Frame_hello_tag:
    point(&fr->f.body.hello.impl_name, fr);
    point(&fr->f.body.hello.impl_version, fr);
    break;
  case cord_v1_Frame_message_tag:
    fr->f.body.message.cb_payload.funcs.decode = typed_hook;
    fr->f.body.message.cb_payload.arg = fr;
    /* json and raw share the union's first callback with typed.type. */
    point(&fr->f.body.message.payload.typed.type, fr);
    break;
  case cord_v1_Frame_goodbye_tag:
    point(&fr->f.body.goodbye.detail, fr);
    break;
  case cord_v1_Frame_error_tag:
    point(&fr->f.body.error.detail, fr);
    break;
  default:
    break;
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
  if (fr->f.which_body != fr->body)
    fr->body = (uint8_t)fr->f.which_body;
  return 1;
}

static bool span_encode(pb_ostream_t *s, const pb_field_t *field, void *const *arg) {
  const cord__span_t *sp = *arg;
  if (sp->len == 0)
    return true; /* proto3 leaves empty strings and bytes off the wire */
  return pb_encode_tag_for_field(s, field) && pb_encode_string(s, sp->ptr, sp->len);
}

static bool struct_encode(pb_ostream_t *s, const pb_field_t *field, void *const *arg) {
  const cord__frame_t *fr = *arg;
  return pb_encode_tag_for_field(s, field) &&
         pb_encode_submessage(s, fr->value_fields, fr->value_struct);
}

static void out(pb_callback_t *cb, const cord__span_t *sp) {
  cb->funcs.encode = span_encode;
  cb->arg = (void *)sp;
}

size_t cord__frame_encode(const cord__frame_t *fr, uint8_t *buf, size_t cap) {
  cord_v1_Frame f = fr->f;
  pb_ostream_t s;
  size_t n;

  if (cap < 4)
    return 0;
  f.cb_body.funcs.encode = NULL;
  switch (f.which_body) {
  case cord_v1_Frame_hello_tag:
    out(&f.body.hello.impl_name, &fr->s[0]);
    out(&f.body.hello.impl_version, &fr->s[1]);
    break;
  case cord_v1_Frame_message_tag:
    f.body.message.which_payload = fr->kind;
    f.body.message.cb_payload.funcs.encode = NULL;
    if (fr->kind == cord_v1_Message_typed_tag) {
      out(&f.body.message.payload.typed.type, &fr->s[0]);
      out(&f.body.message.payload.typed.value, &fr->s[1]);
      if (fr->value_fields) {
        f.body.message.payload.typed.value.funcs.encode = struct_encode;
        f.body.message.payload.typed.value.arg = (void *)fr;
      }
    } else {
      out(&f.body.message.payload.json, &fr->s[1]); /* json and raw alike */
    }
    break;
  case cord_v1_Frame_goodbye_tag:
    out(&f.body.goodbye.detail, &fr->s[0]);
    break;
  case cord_v1_Frame_error_tag:
    out(&f.body.error.detail, &fr->s[0]);
    break;
  default:
    break;
  }
  s = pb_ostream_from_buffer(buf + 4, cap - 4);
  if (!pb_encode(&s, cord_v1_Frame_fields, &f))
    return 0;
  n = s.bytes_written;
  buf[0] = (uint8_t)(n >> 24);
  buf[1] = (uint8_t)(n >> 16);
  buf[2] = (uint8_t)(n >> 8);
  buf[3] = (uint8_t)n;
  return n + 4;
}
