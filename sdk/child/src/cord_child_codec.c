/* cord_child_codec.c: encodes and decodes Cord frames with nanopb's stream functions, leaving strings and bytes in place. */
#include "cord_child_codec.h"

#include <stddef.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "cord_wire.h"

/*
 * Why not pb_decode() and pb_encode() on cord_v1_Frame: their field
 * iterator reads every field's descriptor for every field of every frame
 * (2,500 instructions for a 64-byte message), and pb_encode() sizes each
 * submessage before writing it, once per level of nesting (a typed value
 * three levels down is encoded eight times). Here one table of rows,
 * expanded at compile time from the generator's own field lists
 * (cord.pb.h), drives nanopb's stream functions: pb_decode_tag(),
 * pb_decode_varint(), pb_skip_field(), pb_encode_tag(), pb_encode_string()
 * ... The rules are the spec's (FRAME-6, FRAME-14, FRAME-15), which are
 * nanopb's but for two: a field with the wrong wire type or an integer too
 * large for its field is an invalid frame; unknown fields are skipped; a
 * oneof member comes at most once, and a tag never exceeds 32 bits. Strings
 * and bytes are never copied: they become spans into the frame
 * (cord.options makes them callbacks, which only reserve room).
 */

/* Which message a row belongs to: a member of Frame.body by its field
 * number, FRAME for Frame itself, TYPED for Message.typed's Typed. */
#define FRAME 0
#define TYPED 8

typedef struct {
  uint8_t msg;  /* FRAME, a body member's field number, or TYPED */
  uint8_t tag;  /* field number */
  uint8_t type; /* nanopb's PB_ATYPE | PB_HTYPE | PB_LTYPE */
  uint8_t at;   /* offset in the message's struct */
  uint8_t size; /* bytes of the struct member */
} row_t;

#define ROW_MSG(msg, type) msg
#define ROW_TYPE(msg, type) type
#define ROW(a, atype, htype, ltype, fieldname, tag)                                                        \
  {ROW_MSG a, tag, (uint8_t)(PB_ATYPE_##atype | PB_HTYPE_##htype | PB_LTYPE_MAP_##ltype),                 \
   (uint8_t)PB_DATA_OFFSET_##atype(_PB_HTYPE_##htype, ROW_TYPE a, fieldname),                            \
   (uint8_t)PB_DATA_SIZE_##atype(_PB_HTYPE_##htype, ROW_TYPE a, fieldname)},

static const row_t rows[] = {
    cord_v1_Frame_FIELDLIST(ROW, (FRAME, cord_v1_Frame))
    cord_v1_Hello_FIELDLIST(ROW, (cord_v1_Frame_hello_tag, cord_v1_Hello))
    cord_v1_Message_FIELDLIST(ROW, (cord_v1_Frame_message_tag, cord_v1_Message))
    cord_v1_Cancel_FIELDLIST(ROW, (cord_v1_Frame_cancel_tag, cord_v1_Cancel))
    cord_v1_Ping_FIELDLIST(ROW, (cord_v1_Frame_ping_tag, cord_v1_Ping))
    cord_v1_Pong_FIELDLIST(ROW, (cord_v1_Frame_pong_tag, cord_v1_Pong))
    cord_v1_Goodbye_FIELDLIST(ROW, (cord_v1_Frame_goodbye_tag, cord_v1_Goodbye))
    cord_v1_Error_FIELDLIST(ROW, (cord_v1_Frame_error_tag, cord_v1_Error))
    cord_v1_Typed_FIELDLIST(ROW, (TYPED, cord_v1_Typed))
};

/* Where each message's rows start, and so end: the counts of the same
 * field lists, summed at compile time. */
#define ONE(a, atype, htype, ltype, fieldname, tag) +1
#define N_FRAME (0 cord_v1_Frame_FIELDLIST(ONE, 0))
#define N_HELLO (N_FRAME cord_v1_Hello_FIELDLIST(ONE, 0))
#define N_MESSAGE (N_HELLO cord_v1_Message_FIELDLIST(ONE, 0))
#define N_CANCEL (N_MESSAGE cord_v1_Cancel_FIELDLIST(ONE, 0))
#define N_PING (N_CANCEL cord_v1_Ping_FIELDLIST(ONE, 0))
#define N_PONG (N_PING cord_v1_Pong_FIELDLIST(ONE, 0))
#define N_GOODBYE (N_PONG cord_v1_Goodbye_FIELDLIST(ONE, 0))
#define N_ERROR (N_GOODBYE cord_v1_Error_FIELDLIST(ONE, 0))
static const uint8_t first[TYPED + 2] = {0, N_FRAME, N_HELLO, N_MESSAGE, N_CANCEL, N_PING, N_PONG, N_GOODBYE,
                                         N_ERROR, sizeof rows / sizeof rows[0]};
_Static_assert(cord_v1_Frame_hello_tag == 1 && cord_v1_Frame_message_tag == 2 && cord_v1_Frame_cancel_tag == 3 &&
                   cord_v1_Frame_ping_tag == 4 && cord_v1_Frame_pong_tag == 5 && cord_v1_Frame_goodbye_tag == 6 &&
                   cord_v1_Frame_error_tag == 7,
               "rows are listed in the order of Frame.body's field numbers");

_Static_assert(cord_v1_Frame_error_tag < TYPED, "TYPED is no member of Frame.body");
_Static_assert(sizeof(cord_v1_Frame) < 256, "row offsets fit in a byte");

#define LTYPE(r) PB_LTYPE((r)->type)
#define ONEOF(r) (PB_HTYPE((r)->type) == PB_HTYPE_ONEOF)

/* The wire type of a row: the schema has unsigned varints, one fixed32
 * (Hello.magic), and length-delimited strings, bytes and submessages. */
static pb_wire_type_t wire(const row_t *r) {
  return LTYPE(r) == PB_LTYPE_UVARINT ? PB_WT_VARINT : LTYPE(r) == PB_LTYPE_FIXED32 ? PB_WT_32BIT : PB_WT_STRING;
}

/* The message inside a submessage row: the body member, or Typed. */
static unsigned inner(unsigned msg, const row_t *r) { return msg == FRAME ? r->tag : TYPED; }

/* The span a string or bytes row stands for: a oneof member (json, raw)
 * is the message's data, s[1]; any other is s[0] or s[1] in the order of
 * the message's callback fields (Hello: name, version; Typed: type, value;
 * Goodbye and Error: detail). */
static cord__span_t *span_of(cord__frame_t *fr, const row_t *r) {
  const row_t *q = r;
  unsigned i = 0;
  if (ONEOF(r))
    return &fr->s[1];
  while (q > rows && q[-1].msg == r->msg)
    i += PB_ATYPE((--q)->type) == PB_ATYPE_CALLBACK;
  return &fr->s[i];
}

/* Decodes the fields of message msg from s into the struct at base (and
 * the spans of fr). Returns 0 on anything nanopb would refuse. */
static int fields(cord__frame_t *fr, unsigned msg, uint8_t *base, pb_istream_t *s) {
  while (s->bytes_left) {
    pb_wire_type_t wt;
    uint32_t tag;
    uint64_t v;
    pb_istream_t sub;
    const row_t *r;
    /* [FRAME-14] a tag is a varint of at most 32 bits (nanopb's own
     * reader would take a sign-extended longer one) and no field is 0. */
    if (!pb_decode_varint(s, &v) || v >> 32 || !(v >> 3))
      return 0;
    wt = (pb_wire_type_t)(v & 7);
    tag = (uint32_t)(v >> 3);
    for (r = rows + first[msg]; r < rows + first[msg + 1] && r->tag != tag; r++)
      ;
    if (r == rows + first[msg + 1]) { /* [FRAME-8, FRAME-9]: unknown fields are skipped */
      /* A varint is read, not skipped: nanopb's skip has no 10-byte limit. */
      if (wt == PB_WT_VARINT ? !pb_decode_varint(s, &v) : !pb_skip_field(s, wt))
        return 0;
      continue;
    }
    if (wt != wire(r))
      return 0; /* wrong wire type */
    if (wt == PB_WT_VARINT) {
      /* Too large for its field [FRAME-14]: uint32 fields take 32 bits;
       * Goodbye.reason, the schema's one enum, is an int32 (a negative
       * value comes sign-extended to 64 bits). */
      bool is_enum = msg == cord_v1_Frame_goodbye_tag && tag == cord_v1_Goodbye_reason_tag;
      if (!pb_decode_varint(s, &v) || (r->size == 4 && (is_enum ? v + 0x80000000u > 0xffffffffu : v >> 32)))
        return 0;
      if (r->size == 4)
        *(uint32_t *)(base + r->at) = (uint32_t)v;
      else
        *(uint64_t *)(base + r->at) = v;
      continue;
    }
    if (wt == PB_WT_32BIT) {
      if (!pb_decode_fixed32(s, base + r->at))
        return 0;
      continue;
    }
    if (!pb_make_string_substream(s, &sub))
      return 0;
    if (ONEOF(r)) {
      /* [FRAME-14] a member of Frame.body or Message.payload comes at most
       * once: a second one, the same or another, makes the body invalid,
       * so that no two readers can take it differently. */
      uint8_t *cur = msg == FRAME ? &fr->body : &fr->kind;
      if (*cur)
        return 0;
      *cur = r->tag;
    }
    if (LTYPE(r) == PB_LTYPE_SUBMSG_W_CB) {
      if (!fields(fr, inner(msg, r), base + r->at, &sub))
        return 0;
    } else { /* a buffer stream's state is its read pointer */
      cord__span_t *sp = span_of(fr, r);
      sp->ptr = sub.state;
      sp->len = sub.bytes_left; /* closing the substream skips them */
    }
    if (!pb_close_string_substream(s, &sub))
      return 0;
  }
  return 1;
}

int cord__frame_decode(cord__frame_t *fr, const uint8_t *buf, size_t len) {
  pb_istream_t s = pb_istream_from_buffer(buf, len);
  memset(fr, 0, sizeof *fr);
  if (!fields(fr, FRAME, (uint8_t *)&fr->f, &s))
    return 0;
  fr->f.which_body = fr->body;
  return 1;
}

/* Writes the fields of message msg from the struct at base (and the spans
 * of fr) to s, in field order; zero scalars and empty spans are left off
 * the wire, as proto3 does, and a submessage is written only when it is
 * the oneof member chosen (the body, or a typed payload). On a sizing
 * stream nothing is written and only the count grows. */
static bool put(cord__frame_t *fr, unsigned msg, const uint8_t *base, pb_ostream_t *s) {
  const row_t *r;
  for (r = rows + first[msg]; r < rows + first[msg + 1]; r++) {
    const uint8_t *at = base + r->at;
    bool ok = true;
    if (wire(r) != PB_WT_STRING) {
      uint64_t v = r->size == 4 ? *(const uint32_t *)at : *(const uint64_t *)at;
      if (v)
        ok = pb_encode_tag(s, wire(r), r->tag) &&
             (wire(r) == PB_WT_32BIT ? pb_encode_fixed32(s, at) : pb_encode_varint(s, v));
    } else if (LTYPE(r) == PB_LTYPE_SUBMSG_W_CB) {
      pb_ostream_t z = PB_OSTREAM_SIZING;
      if (r->tag == (msg == FRAME ? fr->f.which_body : fr->kind))
        ok = put(fr, inner(msg, r), at, &z) && pb_encode_tag(s, PB_WT_STRING, r->tag) &&
             pb_encode_varint(s, z.bytes_written) && put(fr, inner(msg, r), at, s);
    } else if (msg == TYPED && r->tag == cord_v1_Typed_value_tag && fr->value_fields) {
      /* The program's own struct, encoded straight into the frame: sized
       * once before (fr->value_size), written once. */
      ok = pb_encode_tag(s, PB_WT_STRING, r->tag) && pb_encode_varint(s, fr->value_size) &&
           (s->callback ? pb_encode(s, fr->value_fields, fr->value_struct) : pb_write(s, NULL, fr->value_size));
    } else if (!ONEOF(r) || r->tag == fr->kind) {
      const cord__span_t *sp = span_of(fr, r);
      if (sp->len)
        ok = pb_encode_tag(s, PB_WT_STRING, r->tag) && pb_encode_string(s, sp->ptr, sp->len);
    }
    if (!ok)
      return false;
  }
  return true;
}

size_t cord__frame_encode(cord__frame_t *fr, uint8_t *buf, size_t cap) {
  uint32_t n;
  pb_ostream_t s;
  if (cap < 4 || (fr->value_fields && !pb_get_encoded_size(&fr->value_size, fr->value_fields, fr->value_struct)))
    return 0;
  s = pb_ostream_from_buffer(buf + 4, cap - 4);
  if (!put(fr, FRAME, (const uint8_t *)&fr->f, &s))
    return 0;
  n = (uint32_t)s.bytes_written;
  cord_wire_put_prefix(buf, n);
  return n + 4;
}
