/* test_not_cord.c: a peer whose first bytes are not a Cord Hello is reported NOT_CORD with a preview (HELLO-7). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

static Cord__V1__Frame *not_cord(int p) {
  Cord__V1__Frame *f;
  cr_assert_eq(fp_child_open(&ch, 4096, 1024, 0, 0), CORD_ENOTCORD);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  f = fp_expect(p, CORD__V1__FRAME__BODY_ERROR);
  cr_expect_eq(f->error->code, 1003u);
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_ENOTCORD);
  cr_expect_eq(cord_chan_close(&ch), 76);
  return f;
}

Test(not_cord, text_on_the_channel, .timeout = 10) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  fp_raw(p, "Hello world\n", 12);
  f = not_cord(p);
  /* The spec's own example of the preview. */
  cr_expect(strstr(f->error->detail, "48 65 6c 6c 6f 20 77 6f 72 6c 64 0a |Hello world.|"), "[%s]",
            f->error->detail);
  cr_expect(strstr(cord_chan_detail(&ch), "48 65 6c 6c 6f 20 77 6f 72 6c 64 0a |Hello world.|"));
  fp_free(f);
}

Test(not_cord, preview_stops_at_32_bytes, .timeout = 10) {
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  const char *text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef";
  fp_raw(p, text, strlen(text));
  f = not_cord(p);
  cr_expect(strstr(f->error->detail, "|ABCDEFGHIJKLMNOPQRSTUVWXYZ012345|"), "[%s]", f->error->detail);
  fp_free(f);
}

Test(not_cord, first_prefix_over_256, .timeout = 10) {
  /* 257 is a fine length later, but not for a first frame. */
  static const uint8_t b[] = {0, 0, 1, 1, 0x0a};
  int p = fp_channel(0, NULL);
  fp_raw(p, b, sizeof b);
  fp_free(not_cord(p));
}

Test(not_cord, first_body_does_not_decode, .timeout = 10) {
  static const uint8_t b[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};
  int p = fp_channel(0, NULL);
  Cord__V1__Frame *f;
  fp_raw(p, b, sizeof b);
  f = not_cord(p);
  cr_expect(strstr(f->error->detail, "00 00 00 03 ff ff ff |.......|"), "[%s]", f->error->detail);
  fp_free(f);
}

Test(not_cord, wrong_magic, .timeout = 10) {
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame fr = CORD__V1__FRAME__INIT;
  int p = fp_channel(0, NULL);
  h.magic = 0x434f5244; /* "CORD" in the wrong byte order */
  h.min_version = h.max_version = 1;
  h.max_frame = 1024;
  fr.body_case = CORD__V1__FRAME__BODY_HELLO;
  fr.hello = &h;
  fp_put(p, &fr);
  fp_free(not_cord(p));
}
