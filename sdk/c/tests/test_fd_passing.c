/* test_fd_passing.c: descriptors sent with a message come back with the reply, in order, and the limits of spec section 8. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static ino_t inode(int fd) {
  struct stat st;
  cr_assert_eq(fstat(fd, &st), 0);
  return st.st_ino;
}

Test(fd_passing, descriptors_travel_both_ways_in_order, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"fds", NULL};
  int p1[2], p2[2], p3[2];
  uint64_t id;
  cr_assert_eq(pipe(p1), 0);
  cr_assert_eq(pipe(p2), 0);
  cr_assert_eq(pipe(p3), 0);
  int fds[] = {p1[1], p2[1], p3[1]};
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "{\"n\":3}", .len = 7, .fds = fds, .nfds = 3};

  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_expect_eq(c.peer.max_fds, 16u);
  cr_assert_eq(cord_request(&c, &m, &id), 0);
  /* A plain message in between must not take the descriptors. */
  cr_assert_eq(cord_send_json(&c, "\"between\""), 0);
  wait_for(&c, &ev, CORD_EV_REPLY);
  cr_assert_eq(ev.nfds, 3u);
  for (int i = 0; i < 3; i++) {
    cr_expect_eq(inode(ev.fds[i]), inode(fds[i]), "descriptor %d is not the one sent", i);
    cr_expect_eq(fcntl(ev.fds[i], F_GETFD), FD_CLOEXEC, "received descriptors are close-on-exec (FD-4)");
  }
  /* Writing into the returned copy reaches our pipe. */
  cr_assert_eq(write(ev.fds[1], "z", 1), 1);
  char z;
  cr_assert_eq(read(p2[0], &z, 1), 1);
  cr_expect_eq(z, 'z');
  for (unsigned i = 0; i < ev.nfds; i++)
    close(ev.fds[i]);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_eq(ev.nfds, 0u);
  /* The sender's copies are still the sender's (FD-10). */
  for (int i = 0; i < 3; i++)
    cr_expect_neq(fcntl(fds[i], F_GETFD), -1);
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
  for (int i = 0; i < 2; i++) {
    close(p1[i]);
    close(p2[i]);
    close(p3[i]);
  }
}

Test(fd_passing, child_that_takes_none_is_refused_locally, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"hello", "65536", "1", "1", "0", NULL};
  int fd = 0;
  cord_msg_t m = {.payload = CORD_PAYLOAD_NONE, .fds = &fd, .nfds = 1};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_READY);
  cr_expect_eq(c.peer.max_fds, 0u);
  cr_expect_eq(cord_send(&c, &m), CORD_ETOOBIG, "FD-1: the child declared max_fds 0");
  cord_proc_close(&c);
}

Test(fd_passing, parent_can_refuse_descriptors, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"fds", NULL};
  int p[2];
  cord_options_t o = {0};
  cr_assert_eq(pipe(p), 0);
  cord_msg_t m = {.payload = CORD_PAYLOAD_NONE, .fds = &p[0], .nfds = 1};
  o.flags = CORD_OPT_NO_FDS;
  spawn_fake(&c, args, &o);
  wait_for(&c, &ev, CORD_EV_READY);
  /* The fake child passes the descriptor back although the parent said
   * max_fds 0: the parent must treat that as FD_MISMATCH (FD-7). */
  cr_assert_eq(cord_send(&c, &m), 0);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EFDMISMATCH, "%s", ev.detail);
  cord_proc_close(&c);
  close(p[0]);
  close(p[1]);
}
