/* test_fd_passing.c: descriptors ride with the first byte of their frame and are matched, or closed, exactly as section 8 says. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

/* A pipe whose write end is passed: when every copy of it is closed, the
 * read end sees end of file, which proves the child closed its copy. */
static int pipe_passing(int *wr) {
  int pp[2];
  cr_assert_eq(pipe(pp), 0);
  *wr = pp[1];
  return pp[0];
}

static int closed_everywhere(int rd) {
  char c;
  int fl = fcntl(rd, F_GETFL);
  fcntl(rd, F_SETFL, fl | O_NONBLOCK);
  return read(rd, &c, 1) == 0;
}

Test(fd_passing, message_with_descriptors, .timeout = 10) {
  int p = fp_start(&ch, 1024), w1, w2, r1 = pipe_passing(&w1), r2 = pipe_passing(&w2);
  int fds[2] = {w1, w2};
  fp_msg_fds(p, 0, 0, 2, fds, 2);
  close(w1);
  close(w2);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_assert_eq(m.nfds, 2u);
  cr_expect_neq(fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC, 0, "FD-4: close-on-exec");
  cr_expect_neq(fcntl(m.fds[1], F_GETFD) & FD_CLOEXEC, 0);
  /* FD-6: in the order attached: writing to the first reaches r1. */
  cr_assert_eq(write(m.fds[0], "1", 1), 1);
  cr_assert_eq(write(m.fds[1], "2", 1), 1);
  char c;
  cr_expect(read(r1, &c, 1) == 1 && c == '1');
  cr_expect(read(r2, &c, 1) == 1 && c == '2');
  close(m.fds[0]);
  close(m.fds[1]);
  cr_expect(closed_everywhere(r1) && closed_everywhere(r2));
}

Test(fd_passing, child_passes_descriptors, .timeout = 10) {
  int p = fp_start(&ch, 1024), w, r = pipe_passing(&w), got[8];
  unsigned n = 0;
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = "fd", .len = 2, .fds = &w, .nfds = 1};
  Cord__V1__Frame *f;
  cr_assert_eq(cord_chan_send(&ch, &o), 0);
  cr_expect(fp_is_open(w), "FD-10: the sender's copy stays open");
  /* The parent reads the 4 prefix bytes first: the descriptor must come
   * with them [FD-3]. */
  f = fp_get_fds(p, got, &n);
  cr_assert_not_null(f);
  cr_expect_eq(f->message->fds, 1u, "FD-2");
  cr_assert_eq(n, 1u);
  close(w);
  cr_assert_eq(write(got[0], "x", 1), 1);
  char c;
  cr_expect(read(r, &c, 1) == 1 && c == 'x');
  fp_free(f);
}

Test(fd_passing, more_than_the_parent_accepts_is_refused, .timeout = 10) {
  int p = fp_channel(0, NULL), fds[3] = {0, 1, 2};
  cord_chan_out_t o = {.fds = fds, .nfds = 3};
  fp_hello_ex(p, 1, 1, 4096, 2);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 4, 0), 0);
  cr_expect_eq(cord_chan_send(&ch, &o), CORD_ETOOBIG, "FD-1");
  o.nfds = 2;
  cr_expect_eq(cord_chan_send(&ch, &o), 0);
}

static void mismatch(int p, int *rd, int n) {
  Cord__V1__Frame *f;
  cr_assert_eq(cord_chan_recv(&ch, &m), CORD_EFDMISMATCH);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1006u);
  fp_free(f);
  for (int i = 0; i < n; i++)
    cr_expect(closed_everywhere(rd[i]), "FD-9: descriptor %d was leaked", i);
  cr_expect_eq(cord_chan_close(&ch), 76);
}

static int opened(void) {
  int p = fp_channel(0, NULL);
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 8, 0), 0);
  return p;
}

Test(fd_passing, announced_but_missing, .timeout = 10) {
  int p = opened(), w, r = pipe_passing(&w);
  fp_msg_fds(p, 0, 0, 2, &w, 1);
  close(w);
  mismatch(p, &r, 1); /* FD-7: more announced than queued */
}

Test(fd_passing, more_than_own_max_fds, .timeout = 10) {
  int p = opened(), w[5], r[5];
  for (int i = 0; i < 5; i++)
    r[i] = pipe_passing(&w[i]);
  fp_msg_fds(p, 0, 0, 5, w, 5);
  for (int i = 0; i < 5; i++)
    close(w[i]);
  mismatch(p, r, 5); /* FD-7: over the Hello's max_fds (4) */
}

Test(fd_passing, unannounced_descriptor_fails_its_frame, .timeout = 10) {
  int p = opened(), w, r = pipe_passing(&w);
  fp_msg_fds(p, 0, 0, 0, &w, 1); /* attached, never announced */
  close(w);
  fp_json(p, 0, "{}");
  /* FD-8: no frame can claim it; nothing of the frame is delivered. */
  mismatch(p, &r, 1);
}

Test(fd_passing, fewer_announced_than_passed, .timeout = 10) {
  int p = opened(), w[2], r[2];
  r[0] = pipe_passing(&w[0]);
  r[1] = pipe_passing(&w[1]);
  fp_msg_fds(p, 0, 0, 1, w, 2);
  close(w[0]);
  close(w[1]);
  mismatch(p, r, 2); /* the claimed one is closed too: the frame is not delivered */
}

Test(fd_passing, descriptors_split_over_two_frames_are_a_mismatch, .timeout = 10) {
  int p = opened(), w, r = pipe_passing(&w);
  fp_msg_fds(p, 0, 0, 0, &w, 1); /* the descriptor of the next frame, sent one frame early */
  close(w);
  fp_msg(p, 0, 0, 0, 0, NULL, NULL, 0);
  mismatch(p, &r, 1);
}

Test(fd_passing, descriptors_on_a_discarded_reply_are_closed, .timeout = 10) {
  int p = opened(), w, r = pipe_passing(&w);
  /* A reply to nothing, carrying one descriptor: discarded whole [REQ-5, FD-9]. */
  fp_msg_fds(p, 0, 33, 1, &w, 1);
  close(w);
  fp_json(p, 0, "{}");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, 0u, "the reply was not delivered");
  cr_expect(closed_everywhere(r), "its descriptor was closed");
  cr_expect_eq(cord_chan_exit_status(&ch), 0);
}

Test(fd_passing, lost_descriptors_are_a_mismatch, .timeout = 10) {
  /* A child that accepts none has no room for any: MSG_CTRUNC [FD-7]. */
  int p = fp_channel(0, NULL), w, r = pipe_passing(&w);
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0);
  fp_msg_fds(p, 0, 0, 1, &w, 1);
  close(w);
  mismatch(p, &r, 1);
}

Test(fd_passing, queued_descriptors_are_closed_at_close, .timeout = 10) {
  int p = opened(), w, r = pipe_passing(&w);
  uint8_t b[8];
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  Cord__V1__Message msg = CORD__V1__MESSAGE__INIT;
  size_t n;
  union {
    struct cmsghdr h;
    char c[CMSG_SPACE(sizeof(int))];
  } u;
  struct iovec v;
  struct msghdr h;
  cord_chan_msg_t st;
  /* Only the first 4 bytes of a frame, with its descriptor: then the child is closed. */
  msg.fds = 1;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &msg;
  n = fp_pack(&f, b, sizeof b);
  memset(&h, 0, sizeof h);
  memset(&u, 0, sizeof u);
  v.iov_base = b;
  v.iov_len = 4;
  h.msg_iov = &v;
  h.msg_iovlen = 1;
  h.msg_control = u.c;
  h.msg_controllen = sizeof u.c;
  u.h.cmsg_level = SOL_SOCKET;
  u.h.cmsg_type = SCM_RIGHTS;
  u.h.cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(&u.h), &w, sizeof w);
  cr_assert_eq(sendmsg(p, &h, 0), 4);
  close(w);
  cr_assert_eq(cord_chan_step(&ch, &st), -EAGAIN);
  cr_expect(!closed_everywhere(r), "queued, not yet closed");
  cord_chan_close(&ch);
  cr_expect(closed_everywhere(r), "FD-9: closed with the channel");
  (void)n;
}
