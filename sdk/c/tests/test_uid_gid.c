/* test_uid_gid.c: `uid` and `gid` drop the child's privileges (as root), and a uid that cannot be applied fails the spawn. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

Test(uid_gid, root_parent_starts_child_as_nobody, .timeout = 30) {
  cord_proc_t c;
  char j[16384];
  const char *args[] = {"report", NULL};
  cord_options_t o = {0};
  if (geteuid() != 0)
    cr_skip_test("needs root to change users");
  o.flags = CORD_OPT_SETUID | CORD_OPT_SETGID;
  o.uid = 65534;
  o.gid = 65534;
  spawn_report(&c, args, &o, j, sizeof j);
  cr_expect(has(j, "\"uid\":65534,\"gid\":65534,\"groups\":0"), "%s", j);
  cord_proc_close(&c);

  /* gid alone: the user stays root, the group changes, groups cleared. */
  o.flags = CORD_OPT_SETGID;
  o.gid = 4242;
  spawn_report(&c, args, &o, j, sizeof j);
  cr_expect(has(j, "\"uid\":0,\"gid\":4242,\"groups\":0"), "%s", j);
  cord_proc_close(&c);
}

/* A parent that is not root cannot make its child root: EPERM, at once. */
Test(uid_gid, unprivileged_parent_gets_eperm, .timeout = 30) {
  if (geteuid() != 0)
    cr_skip_test("needs root to become an unprivileged user first");
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    cord_proc_t c;
    cord_options_t o = {0};
    if (setgid(65534) || setuid(65534))
      _exit(10);
    o.flags = CORD_OPT_SETUID;
    o.uid = 0;
    int r = cord_spawn(&c, FAKE_CHILD, NULL, &o);
    _exit(r == -EPERM && strstr(cord_spawn_error(), "uid 0") ? 0 : 11);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}
