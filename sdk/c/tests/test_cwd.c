/* test_cwd.c: the `cwd` option sets the child's working directory, and a bad one fails the spawn synchronously. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

Test(cwd, child_runs_in_the_given_directory, .timeout = 30) {
  cord_proc_t c;
  char j[16384], here[PATH_MAX];
  const char *args[] = {"report", NULL};
  cord_options_t o = {0};
  o.cwd = "/usr/share";
  spawn_report(&c, args, &o, j, sizeof j);
  cr_expect(has(j, "\"cwd\":\"/usr/share\""), "%s", j);
  cr_assert_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);

  /* Without the option, the parent's directory. */
  cr_assert_not_null(getcwd(here, sizeof here));
  cr_assert_neq(strcmp(here, "/usr/share"), 0);
  spawn_report(&c, args, NULL, j, sizeof j);
  char want[PATH_MAX + 16];
  snprintf(want, sizeof want, "\"cwd\":\"%s\"", here);
  cr_expect(has(j, want), "%s", j);
  cord_proc_close(&c);
}

Test(cwd, missing_directory_fails_synchronously, .timeout = 30) {
  cord_proc_t c;
  cord_options_t o = {0};
  o.cwd = "/nonexistent/cord/dir";
  cr_assert_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -ENOENT);
  cr_expect(strstr(cord_spawn_error(), "/nonexistent/cord/dir") != NULL, "%s", cord_spawn_error());
  o.cwd = "/etc/passwd";
  cr_assert_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -ENOTDIR);
}
