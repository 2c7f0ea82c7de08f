/* test_flood.c: many frames per read arrive whole and in order, and a one-way stream of 200,000 messages loses none. */
#include <stdlib.h>

#include "helpers.h"

Test(flood, two_hundred_thousand_messages_in_order, .timeout = 120) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"flood", "200000", NULL};
  long next = 1;
  spawn_fake(&c, args, NULL);
  while (next <= 200000) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1, "stuck after %ld", next - 1);
    if (ev.type != CORD_EV_MESSAGE)
      continue;
    char text[32];
    int n = snprintf(text, sizeof text, "{\"i\":%ld}", next);
    cr_assert_eq(ev.len, (size_t)n);
    cr_assert_arr_eq(ev.data, text, ev.len, "message %ld out of order", next);
    next++;
  }
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}
