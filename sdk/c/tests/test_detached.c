/* test_detached.c: `detached` puts the child in a session of its own, where it outlives its parent. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* The child writes its pid into a FIFO: opening it for reading waits for
 * the child to open it for writing, so no polling is needed. */
static pid_t read_pid(const char *path) {
  FILE *f = fopen(path, "r");
  int pid = -1;
  if (!f)
    return -1;
  if (fscanf(f, "%d", &pid) != 1)
    pid = -1;
  fclose(f);
  return pid;
}

Test(detached, child_outlives_its_parent_in_a_new_session, .timeout = 60) {
  char dir[] = "/tmp/cord-detached-XXXXXX", path[64];
  int status;
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/pid", dir);
  cr_assert_eq(mkfifo(path, 0600), 0);
  /* Orphans come back to this process, so it can reap the child. */
  cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);

  pid_t parent = fork();
  cr_assert_neq(parent, -1);
  if (parent == 0) {
    cord_proc_t c;
    cord_options_t o = {0};
    const char *args[] = {"plain", path, NULL};
    o.flags = CORD_OPT_DETACHED;
    _exit(cord_spawn(&c, FAKE_CHILD, args, &o) == 0 ? 0 : 1);
    /* The parent exits without closing anything: as a process would. */
  }
  cr_assert_eq(waitpid(parent, &status, 0), parent);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  pid_t child = read_pid(path);
  cr_assert_gt(child, 0);
  cr_expect_eq(kill(child, 0), 0, "the detached child died with its parent");
  cr_expect_eq(getsid(child), child, "not the leader of a new session");
  cr_expect_neq(getsid(child), getsid(0));
  kill(child, SIGTERM);
  cr_assert_eq(waitpid(child, &status, 0), child);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  unlink(path);
  rmdir(dir);
}

Test(detached, default_child_shares_the_parents_session, .timeout = 30) {
  cord_proc_t c;
  char j[16384];
  const char *args[] = {"report", NULL};
  spawn_report(&c, args, NULL, j, sizeof j);
  cr_expect(has(j, "\"sid_is_pid\":false"), "%s", j);
  cord_proc_close(&c);
}

Test(detached, close_leaves_a_detached_child_running, .timeout = 30) {
  cord_proc_t c;
  cord_options_t o = {0};
  const char *args[] = {"sleep", NULL};
  cord_event_t ev;
  int status;
  o.flags = CORD_OPT_DETACHED;
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_READY);
  pid_t pid = c.pid;
  cord_proc_close(&c);
  cr_expect_eq(kill(pid, 0), 0);
  kill(pid, SIGKILL);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
}
