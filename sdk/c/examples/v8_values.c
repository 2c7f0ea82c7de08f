/* v8_values.c: build a message for a Node.js child on the advanced channel, encode it, and read it back. */
#include <cord.h>
#include <stdio.h>

int main(void) {
  cord_arena_t a;
  cord_arena_init(&a, 1 << 20);                       /* values live here; 1 MiB at most */
  cord_value_t *job = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_t *tags = cord_value_new(&a, CORD_VALUE_SET);
  cord_value_push(&a, tags, cord_value_string(&a, "urgent", 6));
  cord_value_put(&a, job, "id", cord_value_bigint_i64(&a, 9007199254740993)); /* 2**53 + 1: a BigInt */
  cord_value_put(&a, job, "due", cord_value_date(&a, 1.7e12));
  cord_value_put(&a, job, "tags", tags);
  cord_value_put(&a, job, "data", cord_value_bytes(&a, CORD_VALUE_VIEW, CORD_VIEW_BUFFER, "\x01\x02", 2));
  cord_value_put(&a, job, "self", job);                /* a cycle travels as a reference */

  unsigned char buf[256];
  size_t len;
  cord_v8_error_t err;
  if (cord_v8_encode(job, buf, sizeof buf, &len, &err) < 0)
    return fprintf(stderr, "encode: %s\n", err.what), 1;
  printf("%zu bytes:", len);                           /* what v8.serialize() would write */
  for (size_t i = 0; i < len; i++)
    printf(" %02x", buf[i]);

  const cord_value_t *back;
  if (cord_v8_decode(&a, buf, len, 0, &back, &err) < 0)
    return fprintf(stderr, "decode: %s at %zu\n", err.what, err.offset), 1;
  const cord_value_t *id = cord_value_get(back, "id");
  printf("\nid: %s of %zu bytes, due: %.0f, tags: %u, data: %s of %zu bytes, self is itself: %d\n",
         cord_value_type_name(id->type), id->u.bytes.len, cord_value_get(back, "due")->u.number,
         (unsigned)cord_value_get(back, "tags")->u.list.count,
         cord_value_type_name(cord_value_get(back, "data")->type), cord_value_get(back, "data")->u.bytes.len,
         cord_value_get(back, "self") == back);
  cord_arena_free(&a);
  return 0;
}
