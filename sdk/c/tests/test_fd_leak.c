/* test_fd_leak.c: no descriptor of the parent reaches the child unless named, and none is left open in the parent after close. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

Test(fd_leak, child_sees_only_stdio_and_the_channel, .timeout = 30) {
  cord_proc_t c;
  char j[16384];
  const char *args[] = {"report", NULL};
  /* Descriptors opened without O_CLOEXEC, as careless code does. */
  int leak1 = open("/dev/null", O_RDONLY);
  int p[2];
  cr_assert_eq(pipe(p), 0);
  cr_assert_geq(leak1, 0);
  spawn_report(&c, args, NULL, j, sizeof j);
  cr_expect(has(j, "\"fds\":[0,1,2,3]"), "%s", j);
  cr_expect(has(j, "\"channel_fd\":3,"), "%s", j);
  cord_proc_close(&c);
  close(leak1);
  close(p[0]);
  close(p[1]);
}

Test(fd_leak, parent_descriptors_are_the_same_after_a_full_cycle, .timeout = 60) {
  const char *modes[][3] = {{"echo", NULL}, {"exit", "2", NULL}, {"sleep", NULL}, {"stdio", NULL}};
  for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
    int before = count_fds();
    cord_proc_t c;
    cord_options_t o = {0};
    o.flags = CORD_OPT_SILENT;
    spawn_fake(&c, modes[k], &o);
    cr_expect_gt(count_fds(), before, "the child's descriptors exist while it runs");
    if (k == 0)
      cr_expect_eq(run_to_close_after_disconnect(&c), 0);
    if (k == 3)
      cr_assert_eq(cord_close_stdin(&c), 0); /* it copies its input until end of file */
    if (k == 1 || k == 3)
      run_to_close_after_disconnect(&c);
    /* k == 2: closed while it runs, which kills it. */
    cord_proc_close(&c);
    cr_expect_eq(count_fds(), before, "mode %s leaked descriptors", modes[k][0]);
  }
}

Test(fd_leak, received_descriptors_are_not_leaked_when_refused, .timeout = 30) {
  int before = count_fds();
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"fds", NULL};
  int p[2];
  cord_options_t o = {0};
  cr_assert_eq(pipe(p), 0);
  cord_msg_t m = {.payload = CORD_PAYLOAD_NONE, .fds = p, .nfds = 2};
  o.max_fds = 1; /* the child sends 2 back: refused, and closed (FD-9) */
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_assert_eq(cord_send(&c, &m), 0);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EFDMISMATCH);
  run_to_close(&c);
  cord_proc_close(&c);
  close(p[0]);
  close(p[1]);
  cr_expect_eq(count_fds(), before);
}
