/* test_signals_reset.c: the child starts with no blocked signal and no ignored one, whatever the parent's mask and dispositions. */
#include <signal.h>
#include <sys/wait.h>

#include "helpers.h"

Test(signals_reset, mask_and_dispositions_do_not_leak, .timeout = 30) {
  /* Changed in a process of its own, so Criterion's worker keeps its own. */
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    cord_proc_t c;
    cord_event_t ev;
    sigset_t set;
    const char *args[] = {"report", NULL};
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (cord_spawn(&c, FAKE_CHILD, args, NULL) != 0)
      _exit(10);
    do
      if (cord_wait(&c, &ev, WAIT_MS) != 1)
        _exit(11);
    while (ev.type != CORD_EV_MESSAGE);
    int ok = memmem(ev.data, ev.len, "\"blocked\":0,\"ignored\":0", 23) != NULL;
    cord_proc_close(&c);
    _exit(ok ? 0 : 12);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}
