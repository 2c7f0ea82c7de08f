/* describe.c: prints an encoded Cord frame as one line of protobuf text format, for people and for logs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cord.pb-c.h"
#include "cord_int.h"
#include "cord_scan.h"

/* Long strings and bytes are cut: a log line is for reading. */
#define SHOWN_MAX 64

typedef struct {
  char *out;
  size_t cap, len;
} sink_t;

static void put(sink_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sink_t *s, const char *fmt, ...) {
  va_list ap;
  int n;
  if (s->len >= s->cap)
    return;
  va_start(ap, fmt);
  n = vsnprintf(s->out + s->len, s->cap - s->len, fmt, ap);
  va_end(ap);
  if (n > 0)
    s->len = s->len + (size_t)n < s->cap ? s->len + (size_t)n : s->cap - 1;
}

/* Quotes bytes the way protoc's text format does (C escapes, octal for
 * anything else outside printable ASCII). */
static void put_quoted(sink_t *s, const uint8_t *b, size_t n) {
  size_t shown = n > SHOWN_MAX ? SHOWN_MAX : n;
  put(s, "\"");
  for (size_t i = 0; i < shown; i++) {
    uint8_t c = b[i];
    switch (c) {
    case '\n': put(s, "\\n"); break;
    case '\r': put(s, "\\r"); break;
    case '\t': put(s, "\\t"); break;
    case '"': put(s, "\\\""); break;
    case '\'': put(s, "\\'"); break;
    case '\\': put(s, "\\\\"); break;
    default:
      if (c < 0x20 || c >= 0x7f)
        put(s, "\\%03o", c);
      else
        put(s, "%c", c);
    }
  }
  put(s, "\"");
  if (shown < n)
    put(s, "...(%zu bytes)", n);
}

static void put_message(sink_t *s, const ProtobufCMessage *m);

static bool is_zero(const ProtobufCFieldDescriptor *f, const void *v) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
  case PROTOBUF_C_TYPE_FLOAT:
    return *(const uint32_t *)v == 0;
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
    return *(const uint64_t *)v == 0;
  case PROTOBUF_C_TYPE_BOOL:
    return *(const protobuf_c_boolean *)v == 0;
  case PROTOBUF_C_TYPE_STRING:
    return !*(char *const *)v || !**(char *const *)v;
  case PROTOBUF_C_TYPE_BYTES:
    return ((const ProtobufCBinaryData *)v)->len == 0;
  case PROTOBUF_C_TYPE_MESSAGE:
    return *(void *const *)v == NULL;
  }
  return true;
}

static void put_value(sink_t *s, const ProtobufCFieldDescriptor *f, const void *v) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    put(s, "%d", *(const int32_t *)v); break;
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
    put(s, "%u", *(const uint32_t *)v); break;
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    put(s, "%lld", (long long)*(const int64_t *)v); break;
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
    put(s, "%llu", (unsigned long long)*(const uint64_t *)v); break;
  case PROTOBUF_C_TYPE_FLOAT:
    put(s, "%g", (double)*(const float *)v); break;
  case PROTOBUF_C_TYPE_DOUBLE:
    put(s, "%g", *(const double *)v); break;
  case PROTOBUF_C_TYPE_BOOL:
    put(s, "%s", *(const protobuf_c_boolean *)v ? "true" : "false"); break;
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
    if (ev)
      put(s, "%s", ev->name);
    else
      put(s, "%d", *(const int *)v);
    break;
  }
  case PROTOBUF_C_TYPE_STRING: {
    const char *str = *(char *const *)v;
    put_quoted(s, (const uint8_t *)(str ? str : ""), str ? strlen(str) : 0);
    break;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    const ProtobufCBinaryData *bd = v;
    put_quoted(s, bd->data, bd->len);
    break;
  }
  case PROTOBUF_C_TYPE_MESSAGE:
    put(s, "{ ");
    put_message(s, *(const ProtobufCMessage *const *)v);
    put(s, "}");
    break;
  }
}

static size_t value_size(const ProtobufCFieldDescriptor *f) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
    return 8;
  case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
    return sizeof(void *);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  default:
    return 4;
  }
}

/* Fields in the order of their numbers, each only if present, as protoc. */
static void put_message(sink_t *s, const ProtobufCMessage *m) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  uint32_t last = 0;
  for (unsigned done = 0; done < d->n_fields; done++) {
    const ProtobufCFieldDescriptor *f = NULL;
    for (unsigned i = 0; i < d->n_fields; i++)
      if (d->fields[i].id > last && (!f || d->fields[i].id < f->id))
        f = &d->fields[i];
    last = f->id;
    const uint8_t *base = (const uint8_t *)m;
    const void *v = base + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)(base + f->quantifier_offset);
      const uint8_t *arr = *(const uint8_t *const *)v;
      for (size_t k = 0; k < n; k++) {
        put(s, f->type == PROTOBUF_C_TYPE_MESSAGE ? "%s " : "%s: ", f->name);
        put_value(s, f, arr + k * value_size(f));
        put(s, " ");
      }
      continue;
    }
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
        continue;
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
               f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
      if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
        continue;
    } else if (is_zero(f, v)) {
      continue;
    }
    put(s, f->type == PROTOBUF_C_TYPE_MESSAGE ? "%s " : "%s: ", f->name);
    put_value(s, f, v);
    put(s, " ");
  }
}

int cord_frame_describe(const void *body, size_t len, char *out, size_t outlen) {
  sink_t s = {out, outlen, 0};
  Cord__V1__Frame *f;
  if (!out || outlen == 0)
    return -EINVAL;
  out[0] = '\0';
  /* protobuf-c reads only what the spec's one reading accepts: it would
   * allocate for each repeated member of a oneof (a frame of them costs
   * far more than its size), and version 1.4.1 shifts a signed int out of
   * range for a field number of 2^28 or more (its parse_tag_and_wiretype). */
  cord_scan_frame_t scanned;
  if (cord_scan(body, len, &scanned, NULL, NULL) < 0 || scanned.top_field >= (1u << 28))
    return CORD_EPROTOCOL;
  f = cord__v1__frame__unpack(NULL, len, body);
  if (!f)
    return CORD_EPROTOCOL;
  put_message(&s, &f->base);
  while (s.len && out[s.len - 1] == ' ')
    out[--s.len] = '\0';
  cord__v1__frame__free_unpacked(f, NULL);
  return (int)s.len;
}
