/* test_kill_timeout.c: kill(), Node's `timeout` and `killSignal`, and the escalation of cord_stop(). */
#include <signal.h>

#include "helpers.h"

static int exit_signal(cord_proc_t *c) {
  cord_event_t ev;
  wait_for(c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, -1);
  cr_expect_eq(c->exited, 1);
  return ev.term_signal;
}

Test(kill_timeout, kill_sends_the_signal, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"sleep", NULL};
  cord_event_t ev;
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_assert_eq(cord_kill(&c, SIGUSR1), 0);
  cr_expect_eq(exit_signal(&c), SIGUSR1);
  wait_for(&c, &ev, CORD_EV_CLOSE);
  cr_expect_eq(cord_kill(&c, SIGUSR1), -ESRCH, "a reaped child cannot be signalled");
  cord_proc_close(&c);
}

Test(kill_timeout, timeout_kills_with_sigterm_by_default, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"sleep", NULL};
  cord_options_t o = {0};
  o.timeout_ms = 300;
  spawn_fake(&c, args, &o);
  cr_expect_geq(cord_timeout(&c), 0, "a timer is pending");
  cr_expect_eq(exit_signal(&c), SIGTERM);
  cord_proc_close(&c);
}

Test(kill_timeout, timeout_uses_kill_signal, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"sleep", NULL};
  cord_options_t o = {0};
  o.timeout_ms = 200;
  o.kill_signal = SIGINT;
  spawn_fake(&c, args, &o);
  cr_expect_eq(exit_signal(&c), SIGINT);
  cord_proc_close(&c);
}

Test(kill_timeout, no_timeout_after_exit, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"exit", "4", NULL};
  cord_options_t o = {0};
  cord_event_t ev;
  o.timeout_ms = 100000;
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 4);
  cr_expect_eq(cord_timeout(&c), -1, "the timer is cleared on exit, as Node clears it");
  cord_proc_close(&c);
}

Test(kill_timeout, stop_escalates_to_sigkill, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"ignore-term", NULL};
  cord_options_t o = {0};
  cord_event_t ev;
  o.grace_ms = 150;
  spawn_fake(&c, args, &o);
  /* The child announces it ignores SIGTERM once it does. */
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_assert_eq(cord_stop(&c), 0);
  cr_expect_eq(c.connected, 0, "stop starts with a disconnect");
  cr_expect_eq(exit_signal(&c), SIGKILL, "SIGTERM is ignored, SIGKILL is not");
  wait_for(&c, &ev, CORD_EV_CLOSE);
  cord_proc_close(&c);
}

Test(kill_timeout, stop_of_a_cooperative_child_needs_no_signal, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"echo", NULL};
  cord_options_t o = {0};
  cord_event_t ev;
  o.grace_ms = 60000;
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_assert_eq(cord_stop(&c), 0);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 0, "it left on the Goodbye alone");
  cord_proc_close(&c);
}
