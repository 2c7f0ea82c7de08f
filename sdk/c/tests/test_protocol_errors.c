/* test_protocol_errors.c: a child that is not Cord, speaks another version, never says Hello, or dies inside a frame. */
#include <signal.h>

#include "helpers.h"

static void expect_failure(const char *const *args, const cord_options_t *o, int code, const char *words) {
  cord_proc_t c;
  cord_event_t ev;
  spawn_fake(&c, args, o);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, code, "%s: got %s: %s", args[0], cord_err_name(ev.error), ev.detail);
  cr_expect(strstr(ev.detail, words) != NULL, "%s: detail [%s]", args[0], ev.detail);
  wait_for(&c, &ev, CORD_EV_DISCONNECT);
  cr_expect_eq(ev.error, code);
  cr_expect_eq(c.connected, 0);
  cord_proc_close(&c);
}

Test(protocol_errors, non_protocol_output_is_previewed, .timeout = 30) {
  const char *args[] = {"garbage", NULL};
  expect_failure(args, NULL, CORD_ENOTCORD, "48 65 6c 6c 6f 20 77 6f 72 6c 64 0a |Hello world.|");
}

Test(protocol_errors, version_mismatch_names_both_ranges, .timeout = 30) {
  const char *args[] = {"hello", "65536", "2", "3", "0", NULL};
  expect_failure(args, NULL, CORD_EVERSION, "we speak 1..1, peer speaks 2..3");
}

Test(protocol_errors, invalid_hello_is_protocol_error, .timeout = 30) {
  const char *args[] = {"hello", "100", "1", "1", "0", NULL};
  expect_failure(args, NULL, CORD_EPROTOCOL, "max_frame 100");
}

Test(protocol_errors, silent_child_times_out, .timeout = 30) {
  const char *args[] = {"nohello", NULL};
  cord_options_t o = {0};
  o.hello_timeout_ms = 200;
  expect_failure(args, &o, CORD_ETIMEOUT, "no Hello");
}

Test(protocol_errors, crash_mid_frame_is_truncated, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"truncate", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_ETRUNCATED, "%s", ev.detail);
  cr_expect(strstr(ev.detail, "7 bytes into a frame") != NULL, "%s", ev.detail);
  wait_for(&c, &ev, CORD_EV_EXIT);
  cr_expect_eq(ev.exit_status, 3);
  cord_proc_close(&c);
}

Test(protocol_errors, reply_to_unknown_request_is_reported_not_fatal, .timeout = 30) {
  cord_proc_t c;
  cord_event_t ev;
  const char *args[] = {"unknown-reply", NULL};
  spawn_fake(&c, args, NULL);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EUNKNOWNREQ);
  cr_expect(strstr(ev.detail, "999") != NULL, "%s", ev.detail);
  /* The channel lives on. */
  cr_assert_eq(cord_send_json(&c, "\"still here\""), 0);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_expect_arr_eq(ev.data, "\"still here\"", 12);
  cr_expect_eq(run_to_close_after_disconnect(&c), 0);
  cord_proc_close(&c);
}
