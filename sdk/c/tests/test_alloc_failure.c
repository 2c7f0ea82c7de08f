/* test_alloc_failure.c: a whole session with the Nth allocation failing, for every N: no REPLY, DISCONNECT, EXIT or CLOSE is lost, and nothing leaks. */
#include <stdlib.h>

#include "helpers.h"

/* The allocator the SDK is given: it counts every call, fails the one
 * numbered `fail_at`, and keeps the number of blocks alive. */
static size_t calls, fail_at;
static long live;

static void *t_malloc(size_t n) {
  if (++calls == fail_at)
    return NULL;
  void *p = malloc(n ? n : 1);
  live += p != NULL;
  return p;
}

static void *t_calloc(size_t count, size_t n) {
  if (++calls == fail_at)
    return NULL;
  void *p = calloc(count ? count : 1, n ? n : 1);
  live += p != NULL;
  return p;
}

static void *t_realloc(void *old, size_t n) {
  if (++calls == fail_at)
    return NULL;
  void *p = realloc(old, n ? n : 1);
  live += p != NULL && !old;
  return p;
}

static void t_free(void *p) {
  live -= p != NULL;
  free(p);
}

/* What one session saw. */
typedef struct {
  int spawned;        /* cord_spawn()'s result */
  int requests;       /* requests the SDK accepted */
  int replies;        /* REPLY events */
  int disconnects, exits, closes;
  int reply_ids_ok;   /* every REPLY named an accepted request, once */
} seen_t;

/* Runs a session: a handshake, one-way messages, requests, a ping, a
 * disconnect, and the events to the end. */
static seen_t session(void) {
  const char *args[] = {"echo", NULL};
  seen_t s = {0};
  uint64_t ids[3] = {0};
  int answered[3] = {0};
  cord_proc_t c;
  cord_event_t ev;

  s.reply_ids_ok = 1;
  s.spawned = cord_spawn(&c, FAKE_CHILD, args, NULL);
  if (s.spawned < 0)
    return s;
  (void)cord_send_json(&c, "{\"before\":\"the handshake\"}");
  for (int i = 0; i < 3; i++) {
    cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = "abc", .len = 3};
    if (cord_request(&c, &m, &ids[i]) >= 0)
      s.requests++;
    else
      ids[i] = 0;
  }
  (void)cord_ping(&c, NULL);
  for (int steps = 0;; steps++) {
    int r = cord_wait(&c, &ev, WAIT_MS);
    cr_assert(r == 1 || r == 0, "wait: %s", cord_strerror(r));
    if (r == 0)
      break;
    switch (ev.type) {
    case CORD_EV_MESSAGE:
      (void)cord_send_json(&c, "{\"after\":\"a message\"}");
      break;
    case CORD_EV_REPLY:
      s.replies++;
      for (int i = 0; i < 3; i++)
        if (ids[i] && ids[i] == ev.id) {
          s.reply_ids_ok &= !answered[i];
          answered[i] = 1;
        }
      /* The last reply ends the parent's side. */
      if (s.replies == s.requests)
        (void)cord_disconnect(&c);
      break;
    case CORD_EV_DISCONNECT:
      s.disconnects++;
      break;
    case CORD_EV_EXIT:
      s.exits++;
      break;
    case CORD_EV_CLOSE:
      s.closes++;
      break;
    default:
      break;
    }
    for (unsigned i = 0; i < ev.nfds; i++)
      close(ev.fds[i]);
    if (s.requests == 0 && steps == 0)
      (void)cord_disconnect(&c);
  }
  cord_proc_close(&c);
  return s;
}

Test(alloc_failure, every_allocation_of_a_session_may_fail, .timeout = 600) {
  int fds = count_fds();
  cr_assert_eq(cord_replace_allocator(t_malloc, t_realloc, t_calloc, t_free), 0);

  /* A session with no failure gives the number of allocations. */
  calls = 0;
  fail_at = 0;
  seen_t s = session();
  size_t total = calls;
  cr_assert_eq(s.spawned, 0);
  cr_assert_eq(s.requests, 3);
  cr_assert_eq(s.replies, 3);
  cr_assert_gt(total, 5, "the session allocates (%zu calls)", total);
  cr_log_info("a session makes %zu allocations", total);
  cr_assert_eq(live, 0, "%ld blocks leaked", live);

  for (fail_at = 1; fail_at <= total + 1; fail_at++) {
    calls = 0;
    s = session();
    if (s.spawned < 0) {
      cr_expect_eq(s.spawned, -ENOMEM, "allocation %zu: spawn: %s", fail_at, cord_strerror(s.spawned));
    } else {
      /* Spec REQ-2, REQ-9: each request accepted has exactly one outcome. */
      cr_expect_eq(s.replies, s.requests, "allocation %zu: %d replies for %d requests", fail_at, s.replies,
                   s.requests);
      cr_expect(s.reply_ids_ok, "allocation %zu: a request had two outcomes", fail_at);
      cr_expect_eq(s.disconnects, 1, "allocation %zu: DISCONNECT", fail_at);
      cr_expect_eq(s.exits, 1, "allocation %zu: EXIT", fail_at);
      cr_expect_eq(s.closes, 1, "allocation %zu: CLOSE", fail_at);
    }
    cr_expect_eq(live, 0, "allocation %zu: %ld blocks leaked", fail_at, live);
    cr_expect_eq(count_fds(), fds, "allocation %zu: descriptors leaked", fail_at);
  }
  cr_assert_eq(cord_replace_allocator(malloc, realloc, calloc, free), 0);
}
