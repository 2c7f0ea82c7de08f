/* test_exec_path.c: `execPath` and `execArgv` run execPath execArgv... module args..., in that order; argv0 and PATH search. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

Test(exec_path, order_is_execpath_execargv_module_args, .timeout = 30) {
  cord_proc_t c;
  char j[16384], want[4096];
  const char *exec_argv[] = {"report", "--flag", NULL};
  const char *args[] = {"a", "b c", NULL};
  cord_options_t o = {0};
  cord_event_t ev;
  o.exec_path = FAKE_CHILD;
  o.exec_argv = exec_argv;
  cr_assert_eq(cord_spawn(&c, "module.js", args, &o), 0, "%s", cord_spawn_error());
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  memcpy(j, ev.data, ev.len);
  j[ev.len] = '\0';
  snprintf(want, sizeof want, "\"argv\":[\"%s\",\"report\",\"--flag\",\"%s\",\"a\",\"b c\"]", FAKE_CHILD, "module.js");
  cr_expect(has(j, want), "%s", j);
  cord_proc_close(&c);
}

Test(exec_path, without_execpath_the_module_runs_itself, .timeout = 30) {
  cord_proc_t c;
  char j[16384], want[4096];
  const char *args[] = {"report", "x", NULL};
  spawn_report(&c, args, NULL, j, sizeof j);
  snprintf(want, sizeof want, "\"argv\":[\"%s\",\"report\",\"x\"]", FAKE_CHILD);
  cr_expect(has(j, want), "%s", j);
  cord_proc_close(&c);
}

Test(exec_path, argv0_and_path_search, .timeout = 30) {
  cord_proc_t c;
  char j[16384], dir[4096], path[4200];
  const char *args[] = {"report", NULL};
  cord_options_t o = {0};
  snprintf(dir, sizeof dir, "%s", FAKE_CHILD);
  snprintf(path, sizeof path, "PATH=/nonexistent:%s", dirname(dir));
  const char *env[] = {path, NULL};
  o.env = env;
  o.argv0 = "renamed";
  /* A bare name is looked up in the child's PATH, skipping a missing dir. */
  int r = cord_spawn(&c, "fake_child", args, &o);
  cr_assert_eq(r, 0, "%s", cord_spawn_error());
  cord_event_t ev;
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  memcpy(j, ev.data, ev.len);
  j[ev.len] = '\0';
  cr_expect(has(j, "\"argv\":[\"renamed\",\"report\"]"), "%s", j);
  cord_proc_close(&c);
}

Test(exec_path, exec_argv_needs_exec_path, .timeout = 30) {
  cord_proc_t c;
  const char *exec_argv[] = {"x", NULL};
  cord_options_t o = {0};
  o.exec_argv = exec_argv;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
}
