/* test_silent.c: `silent` pipes the child's stdin, stdout and stderr to the parent, readable through OUTPUT events. */
#include <unistd.h>

#include "helpers.h"

Test(silent, output_comes_as_events_and_input_reaches_the_child, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"stdio", NULL};
  cord_options_t o = {0};
  char out[256] = "", err[256] = "";
  size_t nout = 0, nerr = 0;
  int eof_out = 0, eof_err = 0, closed = 0;

  o.flags = CORD_OPT_SILENT;
  spawn_fake(&c, args, &o);
  int in = cord_stdio_fd(&c, 0);
  cr_assert_geq(in, 0);
  cr_assert_geq(cord_stdio_fd(&c, 1), 0);
  cr_assert_geq(cord_stdio_fd(&c, 2), 0);
  cr_assert_eq(cord_stdio_fd(&c, 3), -1, "the channel is not a stdio pipe");
  cr_assert_eq(write(in, "typed input", 11), 11);
  cr_assert_eq(cord_close_stdin(&c), 0);
  cr_expect_eq(cord_stdio_fd(&c, 0), -1);

  while (!closed) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
    if (ev.type == CORD_EV_OUTPUT) {
      cr_assert(ev.stdio_fd == 1 || ev.stdio_fd == 2);
      if (ev.len == 0) {
        cr_expect_eq(ev.stdio_fd == 1 ? eof_out++ : eof_err++, 0, "one end of file per pipe");
      } else if (ev.stdio_fd == 1) {
        memcpy(out + nout, ev.data, ev.len);
        nout += ev.len;
      } else {
        memcpy(err + nerr, ev.data, ev.len);
        nerr += ev.len;
      }
    }
    if (ev.type == CORD_EV_READY)
      cord_disconnect(&c);
    if (ev.type == CORD_EV_CLOSE) {
      /* Node's 'close': after every pipe has ended. */
      cr_expect_eq(eof_out, 1);
      cr_expect_eq(eof_err, 1);
      closed = 1;
    }
  }
  cr_expect_str_eq(out, "outtyped input");
  cr_expect_str_eq(err, "err");
  cord_proc_close(&c);
}

Test(silent, without_silent_nothing_is_piped, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"echo", NULL};
  spawn_fake(&c, args, NULL);
  cr_expect_eq(cord_stdio_fd(&c, 0), -1);
  cr_expect_eq(cord_stdio_fd(&c, 1), -1);
  cr_expect_eq(cord_stdio_fd(&c, 2), -1);
  cr_expect_eq(cord_close_stdin(&c), -EINVAL);
  cord_proc_close(&c);
}
