/* test_testee_contract.c: the conformance testee follows conformance/README.md (T-1..T-5), run as a real child. */
#include "testee_run.h"

#include <string.h>

#include "fake_parent.h"

static void command(int p, uint64_t id, const char *text) {
  fp_msg(p, id, 0, 0, 5, "cord.conformance.Command", text, strlen(text));
}

static Cord__V1__Frame *reply_to(int p, uint64_t id, uint32_t status) {
  Cord__V1__Frame *f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, id);
  cr_expect_eq(f->message->status, status, "reply to %lu", (unsigned long)id);
  return f;
}

static int start(const char *path, pid_t *pid) {
  int p = run_child(path, pid);
  Cord__V1__Frame *f;
  fp_hello(p);
  f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  cr_expect_eq(f->hello->capabilities, 1u, "the testee acts on Cancel");
  fp_free(f);
  return p;
}

static void data_and_commands(const char *path, int fds) {
  pid_t pid;
  int p = start(path, &pid);
  Cord__V1__Frame *f;

  /* T-1, T-2: data comes back as it went. */
  fp_msg(p, 1, 0, 0, 7, NULL, "raw", 3);
  f = reply_to(p, 1, 0);
  cr_expect_eq(f->message->payload_case, CORD__V1__MESSAGE__PAYLOAD_RAW);
  cr_expect_arr_eq(f->message->raw.data, "raw", 3);
  fp_free(f);
  fp_msg(p, 2, 0, 0, 5, "x.Data", "\x08\x01", 2);
  f = reply_to(p, 2, 0);
  cr_expect_str_eq(f->message->typed->type, "x.Data");
  fp_free(f);
  fp_json(p, 0, "{\"one\":\"way\"}");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->id, 0u);
  cr_expect_str_eq(f->message->json, "{\"one\":\"way\"}");
  fp_free(f);

  /* send N KIND */
  command(p, 3, "send 2 typed");
  for (int i = 1; i <= 2; i++) {
    f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
    cr_expect_str_eq(f->message->typed->type, "cord.conformance.Seq");
    cr_expect_eq(f->message->typed->value.data[0], '0' + i);
    fp_free(f);
  }
  fp_free(reply_to(p, 3, 0));
  command(p, 4, "send 1 json");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_str_eq(f->message->json, "{\"i\":1}");
  fp_free(f);
  fp_free(reply_to(p, 4, 0));

  /* request: its reply's status and payload come back on the command. */
  command(p, 5, "request");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->id, 1u);
  cr_expect_eq(f->message->raw.len, 1u);
  fp_free(f);
  fp_msg(p, 0, 1, 10001, 7, NULL, "ans", 3);
  f = reply_to(p, 5, 10001);
  cr_expect_arr_eq(f->message->raw.data, "ans", 3);
  fp_free(f);

  /* hold, then Cancel: CANCELLED. A Ping in between is answered. */
  command(p, 6, "hold");
  fp_ping(p, 8);
  f = fp_expect(p, CORD__V1__FRAME__BODY_PONG);
  cr_expect_eq(f->pong->nonce, 8u);
  fp_free(f);
  fp_cancel(p, 6);
  fp_free(reply_to(p, 6, 1009));

  command(p, 7, "fail 10042");
  fp_free(reply_to(p, 7, 10042));
  command(p, 8, "ping 99");
  f = fp_expect(p, CORD__V1__FRAME__BODY_PING);
  cr_expect_eq(f->ping->nonce, 99u);
  fp_free(f);
  fp_pong(p, 99);
  fp_free(reply_to(p, 8, 0));

  command(p, 9, "env");
  f = reply_to(p, 9, 0);
  cr_expect_str_eq(f->message->json, "{\"channel_env\":false,\"cloexec\":true}");
  fp_free(f);
  command(p, 10, "dance");
  fp_free(reply_to(p, 10, 1010));

  if (fds) {
    int pp[2], got[4];
    unsigned n = 0;
    char c;
    cr_assert_eq(pipe(pp), 0);
    fp_msg_fds(p, 11, 0, 1, &pp[1], 1);
    close(pp[1]);
    /* fp_msg_fds sends raw "fd", not a command: data, which comes back with
     * its descriptor (T-1), and the testee's own copy closed. */
    f = fp_get_fds(p, got, &n);
    cr_assert_not_null(f);
    cr_expect_eq(f->message->reply_to, 11u);
    cr_expect_eq(f->message->fds, 1u);
    cr_assert_eq(n, 1u, "the descriptor came back with the echo");
    fp_free(f);
    close(got[0]);
    cr_expect_eq(read(pp[0], &c, 1), 0, "the testee closed the descriptor it was given");
    close(pp[0]);
    /* The fds command: the descriptors come back. */
    uint8_t b[128];
    Cord__V1__Frame cf = CORD__V1__FRAME__INIT;
    Cord__V1__Message cm = CORD__V1__MESSAGE__INIT;
    Cord__V1__Typed ct = CORD__V1__TYPED__INIT;
    cr_assert_eq(pipe(pp), 0);
    ct.type = "cord.conformance.Command";
    ct.value.data = (uint8_t *)"fds";
    ct.value.len = 3;
    cm.id = 12;
    cm.fds = 1;
    cm.payload_case = CORD__V1__MESSAGE__PAYLOAD_TYPED;
    cm.typed = &ct;
    cf.body_case = CORD__V1__FRAME__BODY_MESSAGE;
    cf.message = &cm;
    size_t len = fp_pack(&cf, b, sizeof b);
    union {
      struct cmsghdr h;
      char c[CMSG_SPACE(sizeof(int))];
    } u;
    struct iovec v = {.iov_base = b, .iov_len = len};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof u.c};
    memset(&u, 0, sizeof u);
    u.h.cmsg_level = SOL_SOCKET;
    u.h.cmsg_type = SCM_RIGHTS;
    u.h.cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(&u.h), &pp[1], sizeof(int));
    cr_assert_eq(sendmsg(p, &h, 0), (ssize_t)len);
    close(pp[1]);
    n = 0;
    f = fp_get_fds(p, got, &n);
    cr_assert_not_null(f);
    cr_expect_eq(f->message->reply_to, 12u);
    cr_expect_eq(f->message->fds, 1u);
    cr_assert_eq(n, 1u, "the descriptor came back");
    cr_assert_eq(write(got[0], "z", 1), 1);
    cr_expect(read(pp[0], &c, 1) == 1 && c == 'z');
    fp_free(f);
  }

  /* goodbye: reply, Goodbye, then the end once the parent's direction ends. */
  command(p, 20, "goodbye");
  fp_free(reply_to(p, 20, 0));
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_goodbye(p);
  fp_expect_eof(p);
  cr_expect_eq(reap(pid), 0, "T-5");
}

Test(testee_contract, default_testee, .timeout = 30) { data_and_commands(CORD_TESTEE, 1); }

Test(testee_contract, tiny_testee, .timeout = 30) { data_and_commands(CORD_TESTEE_TINY, 0); }

Test(testee_contract, exit_code, .timeout = 30) {
  pid_t pid;
  int p = start(CORD_TESTEE, &pid);
  command(p, 1, "exit 3");
  fp_free(reply_to(p, 1, 0));
  fp_expect_eof(p); /* no Goodbye */
  cr_expect_eq(reap(pid), 3);
}

Test(testee_contract, held_request_is_answered_before_the_end, .timeout = 30) {
  pid_t pid;
  int p = start(CORD_TESTEE, &pid);
  command(p, 1, "hold");
  command(p, 2, "request");
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE)); /* the testee's own request */
  fp_goodbye(p);
  /* REQ-9: the testee's own request is CLOSED, which T-3 reports on the
   * `request` command; then REQ-10: the held one is answered before the end. */
  fp_free(reply_to(p, 2, 1011));
  fp_free(reply_to(p, 1, 1009));
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p);
  cr_expect_eq(reap(pid), 0);
}

Test(testee_contract, fatal_error_exits_76, .timeout = 30) {
  static const uint8_t junk[] = {0, 0, 0, 2, 0xff, 0xff};
  pid_t pid;
  int p = start(CORD_TESTEE_TINY, &pid);
  fp_raw(p, junk, sizeof junk);
  Cord__V1__Frame *f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1000u);
  fp_free(f);
  fp_expect_eof(p);
  cr_expect_eq(reap(pid), 76, "END-8");
}

Test(testee_contract, eof_exits_0, .timeout = 30) {
  pid_t pid;
  int p = start(CORD_TESTEE, &pid);
  shutdown(p, SHUT_WR);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p);
  cr_expect_eq(reap(pid), 0);
}

Test(testee_contract, tiny_testee_declares_256, .timeout = 30) {
  pid_t pid;
  int p = run_child(CORD_TESTEE_TINY, &pid);
  fp_hello(p);
  Cord__V1__Frame *f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  cr_expect_eq(f->hello->max_frame, 256u);
  cr_expect_eq(f->hello->max_fds, 0u);
  fp_free(f);
  close(p);
  cr_expect_eq(reap(pid), 0);
}
