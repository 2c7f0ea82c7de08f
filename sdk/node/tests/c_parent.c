/* c_parent.c: the C parent SDK forks the TypeScript example worker and exchanges typed and JSON messages with it, on both bindings. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cord.h"
#include "job.pb-c.h"

#define WAIT_MS 30000 /* bounds a hang on a loaded machine; never paces the test */

static void spawn_worker(cord_proc_t *c, cord_serialization_t s) {
  cord_options_t o = {0};
  o.exec_path = CORD_TEST_NODE;
  o.serialization = s;
  int err = cord_spawn(c, WORKER_JS, NULL, &o);
  cr_assert_eq(err, 0, "cord_spawn: %s", cord_spawn_error());
}

/* Waits for the next event other than DRAIN and OUTPUT, failing the test on a timeout. */
static void next_event(cord_proc_t *c, cord_event_t *ev) {
  for (;;) {
    int r = cord_wait(c, ev, WAIT_MS);
    cr_assert_eq(r, 1, "cord_wait: %d", r);
    if (ev->type != CORD_EV_DRAIN && ev->type != CORD_EV_OUTPUT) return;
  }
}

static void expect_json(cord_proc_t *c, cord_event_type_t type, const char *text) {
  cord_event_t ev;
  next_event(c, &ev);
  cr_assert_eq(ev.type, type, "got %s", cord_event_name(ev.type));
  cr_assert_eq(ev.payload, CORD_PAYLOAD_JSON);
  cr_assert_eq(ev.status, 0);
  cr_assert_eq(ev.len, strlen(text), "got %.*s", (int)ev.len, (const char *)ev.data);
  cr_assert(memcmp(ev.data, text, ev.len) == 0, "got %.*s", (int)ev.len, (const char *)ev.data);
}

/* After the parent's Goodbye (or end of file) the child ends its direction and exits 0 (spec END-8). */
static void expect_clean_end(cord_proc_t *c) {
  cord_event_t ev;
  int disconnected = 0;
  cr_assert_eq(cord_disconnect(c), 0);
  do {
    next_event(c, &ev);
    if (ev.type == CORD_EV_DISCONNECT) {
      cr_assert_eq(ev.error, 0, "%s", ev.detail ? ev.detail : "");
      disconnected = 1;
    }
  } while (ev.type != CORD_EV_EXIT);
  cr_assert(disconnected);
  cr_assert_eq(ev.exit_status, 0, "exit status %d, signal %d", ev.exit_status, ev.term_signal);
  cord_proc_close(c);
}

static void send_json(cord_proc_t *c, const char *text) {
  cr_assert_geq(cord_send_json(c, text), 0);
}

static uint64_t request_json(cord_proc_t *c, const char *text) {
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = text, .len = strlen(text)};
  uint64_t id = 0;
  cr_assert_geq(cord_request(c, &m, &id), 0);
  return id;
}

Test(c_parent, typed_and_json_requests, .timeout = 120) {
  cord_proc_t c;
  cord_event_t ev;
  spawn_worker(&c, CORD_SERIALIZATION_CORD);
  next_event(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_READY, "got %s: %s", cord_event_name(ev.type), ev.detail ? ev.detail : "");
  cr_assert_str_eq(c.peer.impl_name, "example-worker");
  cr_assert_eq(c.peer.version, 1);
  expect_json(&c, CORD_EV_MESSAGE, "{\"hello\":\"example-worker\",\"binding\":\"cord\"}");

  /* A typed request, encoded with protobuf-c, answered with another type. */
  Example__V1__Job job = EXAMPLE__V1__JOB__INIT;
  job.id = 42;
  job.text = "hi";
  job.times = 2;
  uint8_t buf[64];
  size_t n = example__v1__job__pack(&job, buf);
  cord_msg_t m = {.payload = CORD_PAYLOAD_TYPED, .type_name = "example.v1.Job", .data = buf, .len = n};
  uint64_t id = 0;
  cr_assert_geq(cord_request(&c, &m, &id), 0);
  next_event(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_REPLY);
  cr_assert_eq(ev.id, id);
  cr_assert_eq(ev.error, 0);
  cr_assert_eq(ev.status, 0);
  cr_assert_eq(ev.payload, CORD_PAYLOAD_TYPED);
  cr_assert_str_eq(ev.type_name, "example.v1.JobResult");
  Example__V1__JobResult *r = example__v1__job_result__unpack(NULL, ev.len, ev.data);
  cr_assert_not_null(r);
  cr_assert_eq(r->id, 42);
  cr_assert_str_eq(r->shouted, "HIHI");
  example__v1__job_result__free_unpacked(r, NULL);

  /* A JSON request and its JSON reply. */
  id = request_json(&c, "{\"op\":\"add\",\"a\":2,\"b\":3}");
  expect_json(&c, CORD_EV_REPLY, "{\"sum\":5}");

  /* A request the worker does not handle is answered UNSUPPORTED, not dropped. */
  cord_msg_t x = {.payload = CORD_PAYLOAD_RAW, .data = "x", .len = 1};
  cr_assert_geq(cord_request(&c, &x, &id), 0);
  next_event(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_REPLY);
  cr_assert_eq(ev.status, 1010);

  /* One-way JSON both ways. */
  send_json(&c, "{\"op\":\"add\",\"a\":20,\"b\":22}");
  expect_json(&c, CORD_EV_MESSAGE, "{\"sum\":42}");
  expect_clean_end(&c);
}

/* The worker declares max_fds 0 (a Node.js child receives no descriptor safely), and the parent holds to it (spec FD-1). */
Test(c_parent, descriptors_are_refused_before_they_leave, .timeout = 120) {
  cord_proc_t c;
  cord_event_t ev;
  int p[2];
  spawn_worker(&c, CORD_SERIALIZATION_CORD);
  next_event(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_READY);
  cr_assert_eq(c.peer.max_fds, 0);
  expect_json(&c, CORD_EV_MESSAGE, "{\"hello\":\"example-worker\",\"binding\":\"cord\"}");
  cr_assert_eq(pipe(p), 0);
  const char *t = "{\"op\":\"add\",\"a\":1,\"b\":1}";
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = t, .len = strlen(t), .fds = p, .nfds = 1};
  cr_assert_eq(cord_send(&c, &m), CORD_ETOOBIG);
  close(p[0]);
  close(p[1]);
  /* Nothing of the refused send reached the worker: the next message is answered first. */
  send_json(&c, "{\"op\":\"add\",\"a\":1,\"b\":2}");
  expect_json(&c, CORD_EV_MESSAGE, "{\"sum\":3}");
  expect_clean_end(&c);
}

/* The same worker under the Node.js binding: it is then a child of Node's own channel. */
Test(c_parent, node_json_binding, .timeout = 120) {
  cord_proc_t c;
  cord_event_t ev;
  spawn_worker(&c, CORD_SERIALIZATION_JSON);
  next_event(&c, &ev);
  cr_assert_eq(ev.type, CORD_EV_READY);
  expect_json(&c, CORD_EV_MESSAGE, "{\"hello\":\"example-worker\",\"binding\":\"node-json\"}");
  send_json(&c, "{\"op\":\"add\",\"a\":40,\"b\":2}");
  expect_json(&c, CORD_EV_MESSAGE, "{\"sum\":42}");
  expect_clean_end(&c);
}
