/* c_parent.c: the C parent SDK forks the Python example worker and exchanges a typed, a JSON and a descriptor-passing request with it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cord.h"

#define CHECK(cond, ...)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "c_parent: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                                       \
      fputc('\n', stderr);                                                                \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

/* Waits for the reply to request `id`, skipping other events. */
static cord_event_t await_reply(cord_proc_t *c, uint64_t id) {
  cord_event_t ev;
  for (;;) {
    int rc = cord_wait(c, &ev, 60000);
    CHECK(rc == 1, "no event (%d)", rc);
    if (ev.type == CORD_EV_REPLY && ev.id == id)
      return ev;
    CHECK(ev.type == CORD_EV_READY, "unexpected event %s", cord_event_name(ev.type));
  }
}

static int has(const cord_event_t *ev, const char *text) {
  size_t n = strlen(text);
  return ev->len == n && memcmp(ev->data, text, n) == 0;
}

int main(int argc, char **argv) {
  CHECK(argc == 3, "usage: c_parent PYTHON WORKER.py");
  cord_options_t o = {0};
  o.exec_path = argv[1];
  cord_proc_t c;
  int rc = cord_spawn(&c, argv[2], NULL, &o);
  CHECK(rc == 0, "spawn: %s", cord_spawn_error());

  /* Typed: google.protobuf.StringValue{value: "hello"}, encoded by hand (field 1, length 5). */
  static const uint8_t hello[] = {0x0a, 0x05, 'h', 'e', 'l', 'l', 'o'};
  cord_msg_t m = {.payload = CORD_PAYLOAD_TYPED, .type_name = "google.protobuf.StringValue",
                  .data = hello, .len = sizeof hello};
  uint64_t id;
  CHECK(cord_request(&c, &m, &id) >= 0, "typed request");
  cord_event_t ev = await_reply(&c, id);
  static const uint8_t shouted[] = {0x0a, 0x05, 'H', 'E', 'L', 'L', 'O'};
  CHECK(ev.error == 0 && ev.status == 0 && ev.payload == CORD_PAYLOAD_TYPED, "typed reply");
  CHECK(strcmp(ev.type_name, "google.protobuf.StringValue") == 0, "type %s", ev.type_name);
  CHECK(ev.len == sizeof shouted && memcmp(ev.data, shouted, sizeof shouted) == 0, "typed value");

  /* JSON. */
  const char *add = "{\"add\":[1,2,39]}";
  cord_msg_t j = {.payload = CORD_PAYLOAD_JSON, .data = add, .len = strlen(add)};
  CHECK(cord_request(&c, &j, &id) >= 0, "json request");
  ev = await_reply(&c, id);
  CHECK(ev.error == 0 && ev.status == 0 && ev.payload == CORD_PAYLOAD_JSON, "json reply");
  CHECK(has(&ev, "{\"sum\":42}"), "json value %.*s", (int)ev.len, (const char *)ev.data);

  /* A descriptor: the write end of a pipe, which the worker writes into. */
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  const char *write = "{\"write\":\"hello from python\"}";
  cord_msg_t d = {.payload = CORD_PAYLOAD_JSON, .data = write, .len = strlen(write), .fds = &p[1], .nfds = 1};
  CHECK(cord_request(&c, &d, &id) >= 0, "fd request");
  close(p[1]); /* the SDK passed its own duplicate */
  ev = await_reply(&c, id);
  CHECK(ev.error == 0 && ev.status == 0 && has(&ev, "{\"written\":17}"), "fd reply %.*s", (int)ev.len,
        (const char *)ev.data);
  char buf[64] = {0};
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  CHECK(n == 17 && strcmp(buf, "hello from python") == 0, "pipe held %zd bytes: %s", n, buf);
  close(p[0]);

  /* An unknown job fails with the application's status. */
  const char *bad = "{\"nothing\":true}";
  cord_msg_t b = {.payload = CORD_PAYLOAD_JSON, .data = bad, .len = strlen(bad)};
  CHECK(cord_request(&c, &b, &id) >= 0, "bad request");
  ev = await_reply(&c, id);
  CHECK(ev.error == 0 && ev.status == 10001, "status %u", ev.status);

  /* Stop it: Goodbye, and the worker exits 0. */
  CHECK(cord_stop(&c) == 0, "stop");
  int exit_status = -2;
  while ((rc = cord_wait(&c, &ev, 60000)) == 1)
    if (ev.type == CORD_EV_EXIT)
      exit_status = ev.exit_status;
  CHECK(rc == 0, "wait ended with %d", rc);
  CHECK(exit_status == 0, "worker exit status %d", exit_status);
  cord_proc_close(&c);
  printf("c_parent: typed, json and descriptor requests answered; worker exited 0\n");
  return 0;
}
