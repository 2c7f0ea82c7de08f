/* helpers.h: what the parent SDK's tests share: the path of the fake child and waiting for one kind of event. */
#ifndef CORD_TEST_HELPERS_H
#define CORD_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cord.h"

/* Generous: these bound a hang, they never pace a test. */
#define WAIT_MS 20000

/* Waits for the next event of `type`, failing the test on a timeout or on
 * CORD_EV_CLOSE first. Events of other types are skipped, except those in
 * `keep`, which also fail the test. */
static inline void wait_for(cord_proc_t *c, cord_event_t *ev, cord_event_type_t type) {
  for (;;) {
    int r = cord_wait(c, ev, WAIT_MS);
    cr_assert_eq(r, 1, "waiting for %s: %s", cord_event_name(type), r < 0 ? cord_strerror(r) : "closed");
    if (ev->type == type)
      return;
    cr_assert_neq(ev->type, CORD_EV_CLOSE, "closed while waiting for %s", cord_event_name(type));
  }
}

/* Spawns FAKE_CHILD in `mode` and waits for its handshake. */
static inline void spawn_fake(cord_proc_t *c, const char *const *args, const cord_options_t *o) {
  int r = cord_spawn(c, FAKE_CHILD, args, o);
  cr_assert_eq(r, 0, "spawn: %s (%s)", cord_strerror(r), cord_spawn_error());
}

/* Runs the child to its end: returns the exit status, or -signal. */
static inline int run_to_close(cord_proc_t *c) {
  cord_event_t ev;
  int status = 0x7fff;
  for (;;) {
    int r = cord_wait(c, &ev, WAIT_MS);
    cr_assert_geq(r, 0, "waiting for the end: %s", cord_strerror(r));
    if (r == 0 || ev.type == CORD_EV_CLOSE)
      break;
    if (ev.type == CORD_EV_EXIT)
      status = ev.exit_status >= 0 ? ev.exit_status : -ev.term_signal;
    for (unsigned i = 0; i < ev.nfds; i++)
      close(ev.fds[i]);
  }
  return status;
}

/* The number of descriptors this process has open (with the one that
 * lists them). */
static inline int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

#endif

/* The JSON description a `report` child sends first, NUL-terminated in
 * buf; the child is left running its echo loop. */
static inline void spawn_report(cord_proc_t *c, const char *const *args, const cord_options_t *o, char *buf,
                                size_t cap) {
  cord_event_t ev;
  spawn_fake(c, args, o);
  wait_for(c, &ev, CORD_EV_MESSAGE);
  cr_assert_eq(ev.payload, CORD_PAYLOAD_JSON);
  cr_assert_lt(ev.len, cap);
  memcpy(buf, ev.data, ev.len);
  buf[ev.len] = '\0';
}

/* Whether JSON text `j` holds the exact member text `member` (e.g.
 * "\"uid\":0,"), a check precise enough for the report's fixed layout. */
static inline int has(const char *j, const char *member) { return strstr(j, member) != NULL; }

/* Disconnects and runs the child to its end; returns as run_to_close(). */
static inline int run_to_close_after_disconnect(cord_proc_t *c) {
  int r = cord_disconnect(c);
  cr_assert(r == 0 || r == CORD_ECLOSED, "disconnect: %s", cord_strerror(r));
  return run_to_close(c);
}
