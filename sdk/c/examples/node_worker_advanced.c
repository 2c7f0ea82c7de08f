/* node_worker_advanced.c: the same Node.js worker on serialization 'advanced': the job carries a BigInt, the answer comes as a value. */
#include <cord.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  cord_proc_t c;
  cord_event_t ev;
  cord_arena_t a;
  cord_options_t o = {.exec_path = "node", .serialization = CORD_SERIALIZATION_ADVANCED};
  if (cord_spawn(&c, "node_worker.js", NULL, &o) < 0)
    return fprintf(stderr, "%s\n", cord_spawn_error()), 1;
  cord_arena_init(&a, 0);
  cord_value_t *job = cord_value_new(&a, CORD_VALUE_OBJECT);
  cord_value_put(&a, job, "id", cord_value_int32(&a, 2));
  cord_value_put(&a, job, "n", cord_value_bigint_i64(&a, 9007199254740993)); /* 2**53 + 1: no double holds it */
  cord_send_value(&c, job, NULL, 0);
  cord_arena_free(&a);

  while (cord_wait(&c, &ev, -1) == 1) {
    if (ev.type != CORD_EV_MESSAGE)
      continue;
    const cord_value_t *sum = cord_value_get(ev.value, "sum"), *type = cord_value_get(ev.value, "type");
    unsigned long long n = 0;                                /* a BigInt: little-endian magnitude */
    for (size_t i = sum->u.bytes.len; i-- > 0;)
      n = n << 8 | sum->u.bytes.ptr[i];
    printf("sum %s%llu, a %s\n", sum->kind ? "-" : "", n, type->u.string.ptr); /* sum 18014398509481986, a bigint */
    cord_disconnect(&c);
  }
  cord_proc_close(&c);
}
