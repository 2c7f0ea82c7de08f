/* test_stdio_rules.c: the `stdio` array: exactly one ipc entry, its index is the channel's descriptor, and each kind of entry. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "helpers.h"

Test(stdio_rules, exactly_one_ipc_entry, .timeout = 30) {
  cord_proc_t c;
  cord_options_t o = {0};
  cord_stdio_t none[] = {{CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0}};
  cord_stdio_t two[] = {{CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0},
                        {CORD_STDIO_IPC, 0},     {CORD_STDIO_IPC, 0}};
  cord_stdio_t low[] = {{CORD_STDIO_INHERIT, 0}, {CORD_STDIO_IPC, 0}, {CORD_STDIO_INHERIT, 0}};
  o.stdio = none;
  o.stdio_count = 3;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), CORD_EIPCCOUNT);
  cr_expect(strstr(cord_spawn_error(), "exactly one") != NULL, "%s", cord_spawn_error());
  o.stdio = two;
  o.stdio_count = 5;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), CORD_EIPCCOUNT);
  o.stdio = low;
  o.stdio_count = 3;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
  o.stdio_count = 0;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
}

Test(stdio_rules, entries_become_the_childs_descriptors, .timeout = 30) {
  cord_proc_t c;
  char j[16384];
  const char *args[] = {"report", NULL};
  int p[2];
  cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
  /* 0-2 ignored, 3 ignored, the channel at 4, a pipe of ours at 5. */
  cord_stdio_t st[] = {{CORD_STDIO_IGNORE, 0}, {CORD_STDIO_IGNORE, 0}, {CORD_STDIO_IGNORE, 0},
                       {CORD_STDIO_IGNORE, 0}, {CORD_STDIO_IPC, 0},    {CORD_STDIO_FD, p[1]}};
  cord_options_t o = {0};
  o.stdio = st;
  o.stdio_count = 6;
  spawn_report(&c, args, &o, j, sizeof j);
  cr_expect(has(j, "\"channel_fd\":4,"), "%s", j);
  cr_expect(has(j, "\"fds\":[0,1,2,4,5]"), "%s", j);
  cord_proc_close(&c);
  /* The parent keeps its own copy of a passed descriptor. */
  cr_expect_eq(fcntl(p[1], F_GETFD), FD_CLOEXEC);
  close(p[0]);
  close(p[1]);
}

Test(stdio_rules, bad_entries_are_refused, .timeout = 30) {
  cord_proc_t c;
  cord_stdio_t badfd[] = {{CORD_STDIO_FD, 987}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0},
                          {CORD_STDIO_IPC, 0}};
  cord_stdio_t badkind[] = {{(cord_stdio_kind_t)9, 0}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0},
                            {CORD_STDIO_IPC, 0}};
  cord_options_t o = {0};
  o.stdio = badfd;
  o.stdio_count = 4;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EBADF);
  o.stdio = badkind;
  cr_expect_eq(cord_spawn(&c, FAKE_CHILD, NULL, &o), -EINVAL);
}

Test(stdio_rules, stdio_overrides_silent, .timeout = 30) {
  cord_proc_t c;
  cord_stdio_t st[] = {{CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0},
                       {CORD_STDIO_IPC, 0}};
  cord_options_t o = {0};
  const char *args[] = {"echo", NULL};
  o.flags = CORD_OPT_SILENT;
  o.stdio = st;
  o.stdio_count = 4;
  spawn_fake(&c, args, &o);
  cr_expect_eq(cord_stdio_fd(&c, 1), -1, "as in Node, stdio wins over silent");
  cord_proc_close(&c);
}
