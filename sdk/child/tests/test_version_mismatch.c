/* test_version_mismatch.c: no common version fails the handshake and names both ranges (HELLO-8). */
#include <criterion/criterion.h>
#include <string.h>

#include "fake_parent.h"

static cord_chan_t ch;

static void mismatch(uint32_t min_v, uint32_t max_v, const char *want) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  fp_hello_ex(p, min_v, max_v, 4096, 0);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_EVERSION);
  cr_expect_str_eq(cord_chan_detail(&ch), want, "the report names both ranges");
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1004u);
  cr_expect_str_eq(f->error->detail, want, "the Error detail names both ranges");
  fp_free(f);
  fp_expect_eof(p);
  cr_expect_eq(cord_chan_close(&ch), CORD_EXIT_PROTOCOL);
}

Test(version_mismatch, newer_parent, .timeout = 10) {
  mismatch(2, 3, "no common version: we speak 1..1, peer speaks 2..3");
}

Test(version_mismatch, older_parent, .timeout = 10) {
  mismatch(0, 0, "no common version: we speak 1..1, peer speaks 0..0");
}

Test(version_mismatch, large_numbers, .timeout = 10) {
  mismatch(4000000000u, 4294967295u, "no common version: we speak 1..1, peer speaks 4000000000..4294967295");
}

Test(version_mismatch, overlap_is_version_1, .timeout = 10) {
  cord_chan_t c2;
  int p = fp_channel(0, NULL);
  fp_hello_ex(p, 1, 9, 4096, 0);
  cr_expect_eq(fp_child_open(&c2, 1024, 1024, 0, 0), 0);
}
