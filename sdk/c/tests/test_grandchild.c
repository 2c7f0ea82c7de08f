/* test_grandchild.c: a child that exits while a descendant holds its channel still ends with DISCONNECT, EXIT and CLOSE (spec CHAN-10). */
#include "helpers.h"

Test(grandchild, channel_held_by_a_descendant, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"orphan", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_arr_eq(ev.data, "{\"orphan\":true}", ev.len);
  /* The child is gone; its grandchild still holds the socket, so no end
   * of file comes. The parent ends the channel once it has read what was
   * there, and reports the end in Node's order. */
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, 0, "%s", ev.detail);
  cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
  cr_expect_eq(ev.type, CORD_EV_EXIT, "got %s", cord_event_name(ev.type));
  cr_expect_eq(ev.exit_status, 0);
  cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
  cr_expect_eq(ev.type, CORD_EV_CLOSE, "got %s", cord_event_name(ev.type));
  cord_proc_close(&c);
}
