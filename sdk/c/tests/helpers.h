/* helpers.h: what the parent SDK's tests share: the path of the fake child and waiting for one kind of event. */
#ifndef CORD_TEST_HELPERS_H
#define CORD_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <string.h>

#include "cord.h"

/* Generous: these bound a hang, they never pace a test. */
#define WAIT_MS 20000

/* Waits for the next event of `type`, failing the test on a timeout or on
 * CORD_EV_CLOSE first. Events of other types are skipped, except those in
 * `keep`, which also fail the test. */
static inline void wait_for(cord_child_t *c, cord_event_t *ev, cord_event_type_t type) {
  for (;;) {
    int r = cord_wait(c, ev, WAIT_MS);
    cr_assert_eq(r, 1, "waiting for %s: %s", cord_event_name(type), r < 0 ? cord_strerror(r) : "closed");
    if (ev->type == type)
      return;
    cr_assert_neq(ev->type, CORD_EV_CLOSE, "closed while waiting for %s", cord_event_name(type));
  }
}

/* Spawns FAKE_CHILD in `mode` and waits for its handshake. */
static inline void spawn_fake(cord_child_t *c, const char *const *args, const cord_options_t *o) {
  int r = cord_spawn(c, FAKE_CHILD, args, o);
  cr_assert_eq(r, 0, "spawn: %s (%s)", cord_strerror(r), cord_spawn_error());
}

/* Runs the child to its end: returns the exit status, or -signal. */
static inline int run_to_close(cord_child_t *c) {
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

#endif
