/* test_exec_failure.c: a child that cannot start is reported by cord_spawn() itself, with the errno, never as an exit 127. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static void expect_fails(const char *module, int want, const char *words) {
  cord_proc_t c;
  int before = count_fds();
  int r = cord_spawn(&c, module, NULL, NULL);
  cr_expect_eq(r, want, "%s: got %s (%s)", module, cord_strerror(r), cord_spawn_error());
  cr_expect(strstr(cord_spawn_error(), words) != NULL, "%s: message [%s]", module, cord_spawn_error());
  /* Nothing is left behind: no descriptor, no child to reap. */
  cr_expect_eq(count_fds(), before, "%s leaked descriptors", module);
  cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "%s left a child", module);
  cr_expect_eq(errno, ECHILD);
}

Test(exec_failure, missing_program_is_enoent, .timeout = 30) {
  expect_fails("/nonexistent/program", -ENOENT, "/nonexistent/program");
  expect_fails("no-such-program-in-path", -ENOENT, "no-such-program-in-path");
}

Test(exec_failure, not_executable_is_eacces, .timeout = 30) {
  char path[] = "/tmp/cord-noexec-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "#!/bin/sh\n", 10), 10);
  close(fd);
  chmod(path, 0644);
  expect_fails(path, -EACCES, "Permission denied");
  unlink(path);
  expect_fails("/tmp", -EACCES, "/tmp");
}

Test(exec_failure, bad_format_is_enoexec, .timeout = 30) {
  char path[] = "/tmp/cord-badexec-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "\x7f" "ELF garbage", 12), 12);
  close(fd);
  chmod(path, 0755);
  expect_fails(path, -ENOEXEC, "Exec format error");
  unlink(path);
}

Test(exec_failure, bad_options_are_einval, .timeout = 30) {
  cord_proc_t c;
  cord_options_t o = {0};
  o.flags = 1u << 30;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
  o.flags = 0;
  o.serialization = (cord_serialization_t)7;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
  cr_expect(strstr(cord_spawn_error(), "ADVANCED") != NULL, "%s", cord_spawn_error());
  o.serialization = CORD_SERIALIZATION_CORD;
  o.max_frame = 100;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
  o.max_frame = 0;
  o.impl_name = "a name that is far too long to fit in the sixty-four bytes a Hello allows for it";
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
  cr_expect_eq(cord_spawn(&c, NULL, NULL, NULL), -EINVAL);
  cr_expect_eq(cord_spawn(&c, "", NULL, NULL), -EINVAL);
}
