/* test_examples.c: the examples work as their READMEs say, run as real children. */
#include "testee_run.h"

#include <string.h>

#include "fake_parent.h"

Test(examples, echo, .timeout = 30) {
  pid_t pid;
  int p = run_child(CORD_ECHO, &pid);
  Cord__V1__Frame *f;
  fp_hello(p);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  fp_msg(p, 1, 0, 0, 5, "a.B", "\x08\x05", 2);
  fp_json(p, 0, "{\"x\":[1,2]}");
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 1u);
  cr_expect_str_eq(f->message->typed->type, "a.B");
  cr_expect_arr_eq(f->message->typed->value.data, "\x08\x05", 2);
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_str_eq(f->message->json, "{\"x\":[1,2]}");
  fp_free(f);
  fp_goodbye(p);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p);
  cr_expect_eq(reap(pid), 0);
}

Test(examples, typed_worker, .timeout = 30) {
  /* example.v1.Job { numbers: [1, 2, 300] (packed), label: "sum" } */
  static const uint8_t job[] = {0x0a, 0x04, 0x01, 0x02, 0xac, 0x02, 0x12, 0x03, 's', 'u', 'm'};
  /* example.v1.Result { sum: 303, label: "sum" } */
  static const uint8_t result[] = {0x08, 0xaf, 0x02, 0x12, 0x03, 's', 'u', 'm'};
  pid_t pid;
  int p = run_child(CORD_WORKER, &pid);
  Cord__V1__Frame *f;
  fp_hello(p);
  f = fp_expect(p, CORD__V1__FRAME__BODY_HELLO);
  cr_expect_eq(f->hello->max_frame, 256u);
  fp_free(f);
  fp_msg(p, 1, 0, 0, 5, "example.v1.Job", job, sizeof job);
  fp_msg(p, 2, 0, 0, 6, NULL, "{}", 2);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 1u);
  cr_expect_eq(f->message->status, 0u);
  cr_assert_eq(f->message->payload_case, CORD__V1__MESSAGE__PAYLOAD_TYPED);
  cr_expect_str_eq(f->message->typed->type, "example.v1.Result");
  cr_expect_eq(f->message->typed->value.len, sizeof result);
  cr_expect_arr_eq(f->message->typed->value.data, result, sizeof result);
  fp_free(f);
  f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_expect_eq(f->message->reply_to, 2u);
  cr_expect_eq(f->message->status, 1010u, "MSG-4: UNSUPPORTED, and the channel stays");
  fp_free(f);
  close(p);
  cr_expect_eq(reap(pid), 0);
}
