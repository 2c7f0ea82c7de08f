/* c_parent.c: the C parent SDK forks the Go example worker and exchanges typed and JSON messages and descriptors with it.
 *
 * Usage: go-c-parent worker PATH   (the full example worker, Cord and Node.js bindings)
 *        go-c-parent hello PATH    (the README's smallest child: an echo)
 * Exits 0 when every exchange went as expected, 1 with a line on stderr
 * otherwise. Waits are bounded generously so that a hang fails rather
 * than stalls; nothing is paced by time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cord.h"
#include "job.pb-c.h"

#define WAIT_MS 60000

static const char *program;

#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "c_parent: %s:%d: ", __FILE__, __LINE__);   \
      fprintf(stderr, __VA_ARGS__);                               \
      fputc('\n', stderr);                                        \
      exit(1);                                                    \
    }                                                             \
  } while (0)

/* next_event waits for the next event of a type other than OUTPUT and DRAIN. */
static void next_event(cord_proc_t *c, cord_event_t *ev) {
  for (;;) {
    int r = cord_wait(c, ev, WAIT_MS);
    CHECK(r == 1, "waiting for an event: %s", r == 0 ? "the child is gone" : cord_strerror(r));
    if (ev->type != CORD_EV_OUTPUT && ev->type != CORD_EV_DRAIN)
      return;
  }
}

/* expect waits for an event of one type; every other event fails the test. */
static void expect(cord_proc_t *c, cord_event_t *ev, cord_event_type_t type) {
  next_event(c, ev);
  CHECK(ev->type == type, "expected %s, got %s (error %d: %s)", cord_event_name(type),
        cord_event_name(ev->type), ev->error, ev->detail ? ev->detail : "");
}

/* reply_to sends a request and waits for its reply. */
static void request(cord_proc_t *c, const cord_msg_t *m, cord_event_t *ev) {
  uint64_t id;
  int r = cord_request(c, m, &id);
  CHECK(r >= 0, "cord_request: %s", cord_strerror(r));
  expect(c, ev, CORD_EV_REPLY);
  CHECK(ev->id == id && ev->error == 0, "reply to %llu: id %llu, error %d", (unsigned long long)id,
        (unsigned long long)ev->id, ev->error);
}

static int payload_is(const cord_event_t *ev, cord_payload_t kind, const char *text) {
  return ev->payload == kind && ev->len == strlen(text) && memcmp(ev->data, text, ev->len) == 0;
}

/* read_all reads a descriptor to its end into buf (NUL-terminated). */
static void read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    CHECK(r >= 0, "read: %s", strerror(errno));
    if (r == 0)
      break;
    n += (size_t)r;
    CHECK(n < cap - 1, "more data than expected");
  }
  buf[n] = 0;
}

/* finish ends the parent's direction and checks the child's clean exit. */
static void finish(cord_proc_t *c) {
  cord_event_t ev;
  CHECK(cord_disconnect(c) == 0, "cord_disconnect");
  int exited = 0, disconnected = 0;
  for (;;) {
    next_event(c, &ev);
    if (ev.type == CORD_EV_DISCONNECT) {
      CHECK(ev.error == 0, "the channel failed: %s", ev.detail ? ev.detail : "");
      disconnected = 1;
    } else if (ev.type == CORD_EV_EXIT) {
      CHECK(ev.exit_status == 0, "the child exited with %d (signal %d)", ev.exit_status, ev.term_signal);
      exited = 1;
    } else if (ev.type == CORD_EV_CLOSE) {
      break;
    } else {
      CHECK(0, "unexpected %s at the end", cord_event_name(ev.type));
    }
  }
  CHECK(exited && disconnected, "the end came without EXIT and DISCONNECT");
  cord_proc_close(c);
}

/* worker_cord: typed and JSON requests, one-way messages, a descriptor each way. */
static void worker_cord(void) {
  cord_proc_t c;
  cord_event_t ev;
  int r = cord_spawn(&c, program, NULL, NULL);
  CHECK(r == 0, "cord_spawn %s: %s", program, cord_spawn_error());
  expect(&c, &ev, CORD_EV_READY);
  CHECK(strcmp(c.peer.impl_name, "cord-go") == 0, "impl_name %s", c.peer.impl_name);

  /* A typed job: the worker adds the numbers up. */
  int64_t numbers[] = {1, 2, 39};
  Cordgo__Example__V1__Job job = CORDGO__EXAMPLE__V1__JOB__INIT;
  job.name = "answer";
  job.numbers = numbers;
  job.n_numbers = 3;
  uint8_t buf[128];
  size_t len = cordgo__example__v1__job__pack(&job, buf);
  cord_msg_t m = {.payload = CORD_PAYLOAD_TYPED, .type_name = "cordgo.example.v1.Job", .data = buf, .len = len};
  request(&c, &m, &ev);
  Cordgo__Example__V1__Result *res =
      (Cordgo__Example__V1__Result *)cord_event_unpack(&ev, &cordgo__example__v1__result__descriptor);
  CHECK(res != NULL, "the reply is not a cordgo.example.v1.Result");
  CHECK(res->sum == 42 && strcmp(res->name, "answer") == 0, "result %s = %lld", res->name, (long long)res->sum);
  protobuf_c_message_free_unpacked(&res->base, NULL);

  /* A JSON request. */
  const char *upper = "{\"upper\":\"cord in go\"}";
  m = (cord_msg_t){.payload = CORD_PAYLOAD_JSON, .data = upper, .len = strlen(upper)};
  request(&c, &m, &ev);
  CHECK(payload_is(&ev, CORD_PAYLOAD_JSON, "{\"upper\":\"CORD IN GO\"}"), "json reply %.*s", (int)ev.len,
        (const char *)ev.data);

  /* Two one-way JSON messages: each is counted and the count comes back. */
  for (int i = 1; i <= 2; i++) {
    r = cord_send_json(&c, "{\"hello\":\"worker\"}");
    CHECK(r >= 0, "cord_send_json: %s", cord_strerror(r));
    expect(&c, &ev, CORD_EV_MESSAGE);
    char want[32];
    snprintf(want, sizeof want, "{\"seen\":%d}", i);
    CHECK(ev.id == 0 && payload_is(&ev, CORD_PAYLOAD_JSON, want), "one-way %d: %.*s", i, (int)ev.len,
          (const char *)ev.data);
  }

  /* A descriptor to the child: it writes into the pipe. */
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  m = (cord_msg_t){.payload = CORD_PAYLOAD_RAW, .data = "write", .len = 5, .fds = &p[1], .nfds = 1};
  request(&c, &m, &ev);
  CHECK(payload_is(&ev, CORD_PAYLOAD_RAW, "written"), "write reply");
  close(p[1]); /* the worker closed its copy: the pipe now ends */
  char text[256];
  read_all(p[0], text, sizeof text);
  close(p[0]);
  CHECK(strcmp(text, "written by the Go worker\n") == 0, "pipe held '%s'", text);

  /* A descriptor from the child: the read end of a pipe it filled. */
  m = (cord_msg_t){.payload = CORD_PAYLOAD_RAW, .data = "pipe", .len = 4};
  request(&c, &m, &ev);
  CHECK(payload_is(&ev, CORD_PAYLOAD_RAW, "pipe") && ev.nfds == 1, "pipe reply with %u fds", ev.nfds);
  int fd = ev.fds[0];
  read_all(fd, text, sizeof text);
  close(fd);
  CHECK(strcmp(text, "read from the Go worker's pipe\n") == 0, "received pipe held '%s'", text);

  /* A payload the worker does not handle is answered UNSUPPORTED. */
  m = (cord_msg_t){.payload = CORD_PAYLOAD_RAW, .data = "?", .len = 1};
  uint64_t id;
  CHECK(cord_request(&c, &m, &id) >= 0, "cord_request");
  expect(&c, &ev, CORD_EV_REPLY);
  CHECK(ev.id == id && ev.error == 0 && ev.status == 1010, "status %u", ev.status);

  finish(&c);
}

/* worker_node: the same worker on Node.js's json channel. */
static void worker_node(void) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = {.serialization = CORD_SERIALIZATION_JSON};
  int r = cord_spawn(&c, program, NULL, &o);
  CHECK(r == 0, "cord_spawn %s: %s", program, cord_spawn_error());
  expect(&c, &ev, CORD_EV_READY);
  for (int i = 1; i <= 3; i++) {
    r = cord_send_json(&c, "[\"line\",\"\xe2\x80\xa8\"]");
    CHECK(r >= 0, "cord_send_json: %s", cord_strerror(r));
    expect(&c, &ev, CORD_EV_MESSAGE);
    char want[32];
    snprintf(want, sizeof want, "{\"seen\":%d}", i);
    CHECK(payload_is(&ev, CORD_PAYLOAD_JSON, want), "json line %d: %.*s", i, (int)ev.len, (const char *)ev.data);
  }
  finish(&c);
}

/* hello: the README's echo child answers a request with its own payload. */
static void hello(void) {
  cord_proc_t c;
  cord_event_t ev;
  int r = cord_spawn(&c, program, NULL, NULL);
  CHECK(r == 0, "cord_spawn %s: %s", program, cord_spawn_error());
  expect(&c, &ev, CORD_EV_READY);
  const char *text = "{\"echo\":[1,2,3]}";
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = text, .len = strlen(text)};
  request(&c, &m, &ev);
  CHECK(payload_is(&ev, CORD_PAYLOAD_JSON, text), "echo %.*s", (int)ev.len, (const char *)ev.data);
  m = (cord_msg_t){.payload = CORD_PAYLOAD_RAW, .data = "\x00\x01raw", .len = 5};
  request(&c, &m, &ev);
  CHECK(ev.payload == CORD_PAYLOAD_RAW && ev.len == 5 && memcmp(ev.data, "\x00\x01raw", 5) == 0, "raw echo");
  finish(&c);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s worker|hello PATH\n", argv[0]);
    return 2;
  }
  program = argv[2];
  if (strcmp(argv[1], "worker") == 0) {
    worker_cord();
    worker_node();
  } else if (strcmp(argv[1], "hello") == 0) {
    hello();
  } else {
    fprintf(stderr, "usage: %s worker|hello PATH\n", argv[0]);
    return 2;
  }
  printf("c_parent: %s passed\n", argv[1]);
  return 0;
}
