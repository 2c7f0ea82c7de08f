/* test_build_mismatch.c: a program compiled with other knobs than libcord-child is refused at open with a text naming the knob. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>

#include "fake_parent.h"

/* This file is compiled with CORD_CHILD_NO_FDS and CORD_CHILD_NO_NODE,
 * and linked with the default library, which has both features: the two
 * disagree on the layout of cord_chan_t. */
#if !defined(CORD_CHILD_NO_FDS) || !defined(CORD_CHILD_NO_NODE)
#error "test_build_mismatch.c must be compiled with CORD_CHILD_NO_FDS and CORD_CHILD_NO_NODE"
#endif

CORD_CHAN_BUFFER(rx, 512);
CORD_CHAN_BUFFER(tx, 512);

Test(build_mismatch, open_refuses_and_names_the_knob, .timeout = 10) {
  /* The program's cord_chan_t is the smaller one; a guard after it shows
   * the library wrote nothing past it. */
  struct {
    cord_chan_t ch;
    unsigned char guard[256];
  } s;
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  int p = fp_channel(0, NULL);
  memset(&s, 0x5a, sizeof s);
  cr_assert_eq(cord_chan_open(&s.ch, &cfg), CORD_EBUILD);
  cr_expect_str_eq(cord_chan_detail(&s.ch), "the program and libcord-child differ in CORD_CHILD_NO_FDS");
  for (size_t i = 0; i < sizeof s.guard; i++)
    cr_assert_eq(s.guard[i], 0x5a, "byte %zu past the program's cord_chan_t was written", i);
  cr_expect_str_eq(cord_strerror(CORD_EBUILD), "program and library were built with different options");
  /* Nothing reached the channel: not even a Hello. */
  char b;
  cr_expect_eq(recv(p, &b, 1, MSG_DONTWAIT), -1);
  close(p);
}

Test(build_mismatch, open_or_exit_says_why_and_exits_1, .timeout = 10) {
  int err[2];
  cr_assert_eq(pipe(err), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    cord_chan_t ch;
    cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
    dup2(err[1], 2);
    fp_channel(0, NULL);
    cord_chan_open_or_exit(&ch, &cfg, "worker");
    _exit(99); /* not reached */
  }
  close(err[1]);
  char line[256] = {0};
  size_t n = 0;
  ssize_t k;
  while (n < sizeof line - 1 && (k = read(err[0], line + n, sizeof line - 1 - n)) > 0)
    n += (size_t)k;
  close(err[0]);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
  /* The first line is the SDK's (a sanitizer may add its own after it). */
  char *nl = strchr(line, '\n');
  if (nl)
    nl[1] = '\0';
  cr_expect_str_eq(line, "worker: the program and libcord-child differ in CORD_CHILD_NO_FDS\n");
}
