/* test_node_json.c: the Node.js json binding: lines in, lines out, internal messages kept out (spec section 13). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

int cord__node_internal(const uint8_t *p, size_t n, void *parts);

#define RAW(fd, s) fp_raw((fd), (s), strlen(s))

static int node(size_t rx_len) {
  int p = fp_channel(1, NULL);
  cr_assert_eq(fp_child_open(&ch, rx_len, 1024, 4, 0), 0);
  cr_assert(cord_chan_is_node(&ch));
  cr_expect_null(getenv("NODE_CHANNEL_FD"), "NODE-2: removed");
  cr_expect_null(getenv("NODE_CHANNEL_SERIALIZATION_MODE"));
  return p;
}

static void expect_line(const char *want) {
  cr_assert_eq(cord_chan_recv(&ch, &m), 1, "waiting for %s", want);
  cr_assert_eq(m.type, CORD_CHAN_EV_MESSAGE);
  cr_expect_eq(m.payload, CORD_PAYLOAD_JSON);
  cr_expect_eq(m.data.len, strlen(want), "[%.*s] for [%s]", (int)m.data.len, m.data.ptr, want);
  cr_expect_arr_eq(m.data.ptr, want, strlen(want));
}

Test(node_json, no_handshake_and_lines_in, .timeout = 10) {
  int p = node(1024);
  char buf[64];
  /* NODE-5: many lines in one read, a line over several, 0d kept, U+2028 not a break. */
  RAW(p, "{\"a\":1}\n[2]\n\"x");
  expect_line("{\"a\":1}");
  expect_line("[2]");
  RAW(p, "\xe2\x80");
  cr_assert_eq(cord_chan_step(&ch, &m), -EAGAIN, "half a line is not a message");
  RAW(p, "\xa8y\"\r\n");
  expect_line("\"x\xe2\x80\xa8y\"\r");
  RAW(p, "\n\n7\n"); /* empty lines are no JSON text: skipped */
  expect_line("7");
  /* Nothing of Cord went the other way: no Hello on the binding. */
  cr_assert_eq(cord_chan_send_json(&ch, "{\"b\":2}", 7), 0);
  cr_assert_eq(fp_line(p, buf, sizeof buf), 7);
  cr_expect_str_eq(buf, "{\"b\":2}");
}

Test(node_json, too_long_line_is_discarded_and_reported, .timeout = 10) {
  static char big[700];
  int p = node(256);
  memset(big, '1', sizeof big);
  big[sizeof big - 1] = '\n';
  RAW(p, "2\n");
  fp_raw(p, big, sizeof big);
  RAW(p, "3\n");
  expect_line("2");
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_ERROR, "NODE-6: reported");
  cr_expect_eq(m.status, 1001u, "as FRAME_TOO_LARGE");
  expect_line("3"); /* reported once, discarded to its 0a, and the channel goes on */
  cr_expect_eq(cord_chan_exit_status(&ch), 0);
}

Test(node_json, longest_line_that_fits, .timeout = 10) {
  static char line[256];
  int p = node(256);
  memset(line, '4', 255);
  line[255] = '\n';
  fp_raw(p, line, 256);
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_MESSAGE);
  cr_expect_eq(m.data.len, 255u, "a buffer of n bytes takes lines of n - 1");
}

Test(node_json, internal_messages_are_not_delivered, .timeout = 10) {
  int p = node(1024);
  RAW(p, "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\"}\n");
  RAW(p, "{ \"a\" : [1,{\"cmd\":\"x\"}], \"cmd\" : \"NODE_X\" }\n");
  RAW(p, "{\"cmd\":\"NODE_\"}\n");
  expect_line("{\"cmd\":\"NODE_\"}"); /* NODE-7: more than 5 characters */
}

Test(node_json, a_pipe_as_handle_is_nacked_reported_and_its_message_delivered, .timeout = 10) {
  int p = node(1024), pp[2];
  char buf[64], c;
  const char *h = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"x\":1}}\n";
  cr_assert_eq(pipe(pp), 0);
  fp_raw_fds(p, h, strlen(h), &pp[1], 1);
  close(pp[1]);
  RAW(p, "{\"after\":1}\n");
  /* NODE-16: a pipe is no net.Socket: refused, reported, its message delivered. */
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.type, CORD_CHAN_EV_ERROR);
  cr_expect_eq(m.status, 1010u, "UNSUPPORTED");
  cr_expect_eq(m.data.len, strlen(h) - 1, "the refused line is the report's data");
  expect_line("{\"x\":1}");
  cr_expect_eq(m.nfds, 0u);
  expect_line("{\"after\":1}");
  cr_assert_eq(fp_line(p, buf, sizeof buf), 26);
  cr_expect_str_eq(buf, "{\"cmd\":\"NODE_HANDLE_NACK\"}", "NODE-8");
  cr_expect_eq(read(pp[0], &c, 1), 0, "NODE-8: the handle's descriptor was closed");
}

Test(node_json, what_the_binding_cannot_carry, .timeout = 10) {
  int p = node(1024);
  cord_chan_out_t raw = {.payload = CORD_PAYLOAD_RAW, .data = "r", .len = 1};
  cord_chan_out_t typed = {.payload = CORD_PAYLOAD_TYPED, .type_name = "a.B", .data = "", .len = 0};
  cord_chan_out_t json = {.payload = CORD_PAYLOAD_JSON, .data = "{}", .len = 2};
  int fd[2];
  cord_chan_out_t withfd = {.payload = CORD_PAYLOAD_JSON, .data = "{}", .len = 2, .fds = fd, .nfds = 1};
  cord_chan_out_t twofds = {.payload = CORD_PAYLOAD_JSON, .data = "{}", .len = 2, .fds = fd, .nfds = 2};
  char buf[64];
  cr_assert_eq(pipe(fd), 0);
  /* NODE-9: refused, nothing sent. */
  cr_expect_eq(cord_chan_send(&ch, &raw), CORD_ENODE);
  cr_expect_eq(cord_chan_send(&ch, &typed), CORD_ENODE);
  cr_expect_eq(cord_chan_send(&ch, &withfd), CORD_ENODE, "NODE-14: a pipe is no socket");
  cr_expect_eq(cord_chan_send(&ch, &twofds), CORD_ENODE, "one handle per message");
  cr_expect_eq(cord_chan_request(&ch, &json, NULL), CORD_ENODE);
  cr_expect_eq(cord_chan_reply(&ch, 1, &json), CORD_ENODE);
  cr_expect_eq(cord_chan_ping(&ch, 1), CORD_ENODE);
  cr_expect_eq(cord_chan_goodbye(&ch), CORD_ENODE);
  /* NODE-4: no empty line, no raw 0a. NODE-7: no internal message. */
  cr_expect_eq(cord_chan_send_json(&ch, "", 0), CORD_ENODE);
  cr_expect_eq(cord_chan_send_json(&ch, "{\"a\":\n1}", 8), CORD_ENODE);
  cr_expect_eq(cord_chan_send_json(&ch, "{\"cmd\":\"NODE_HANDLE_ACK\"}", 25), CORD_ENODE);
  cr_expect_eq(cord_chan_send_json(&ch, "{\"x\":0,\"cmd\":\"NODE_FOO\"}", 24), CORD_ENODE);
  cr_expect_eq(cord_chan_send_json(&ch, "{\"x\":{\"cmd\":\"NODE_FOO\"}}", 24), 0, "nested is user data");
  cr_assert_eq(fp_line(p, buf, sizeof buf), 24);
  cr_expect_str_eq(buf, "{\"x\":{\"cmd\":\"NODE_FOO\"}}", "only the allowed line went");
}

Test(node_json, end_of_file, .timeout = 10) {
  int p = node(1024);
  RAW(p, "1\n");
  shutdown(p, SHUT_WR);
  expect_line("1");
  cr_expect_eq(cord_chan_recv(&ch, &m), 0, "NODE-10: a disconnect");
  cr_expect_eq(cord_chan_close(&ch), 0);
  char buf[8];
  cr_expect_eq(fp_line(p, buf, sizeof buf), -1, "no Goodbye on the binding");
}

Test(node_json, partial_line_at_eof_is_truncated, .timeout = 10) {
  int p = node(1024);
  RAW(p, "{\"cut");
  shutdown(p, SHUT_WR);
  cr_expect_eq(cord_chan_recv(&ch, &m), CORD_ETRUNCATED, "NODE-10");
  cr_expect_eq(cord_chan_close(&ch), 76);
}

static int internal(const char *s) { return cord__node_internal((const uint8_t *)s, strlen(s), NULL); }

Test(node_json, internal_scan, .timeout = 10) {
  cr_expect_eq(internal("{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\"}"), 2);
  cr_expect_eq(internal("{\"cmd\":\"NODE_HANDLE_ACK\"}"), 3);
  cr_expect_eq(internal("{\"cmd\":\"NODE_HANDLE_NACK\"}"), 4);
  cr_expect_eq(internal("{\"cmd\":\"NODE_HANDLE_X\"}"), 1);
  cr_expect_eq(internal("{\"cmd\":\"NODE_HANDLE_ACKS\"}"), 1);
  cr_expect_eq(internal("{\"cmd\":\"NODE_HANDLE"), 1, "cut in its value");
  cr_expect_eq(internal("{\"cmd\":\"NODE_X\",\"cmd\":\"y\"}"), 0, "the last of duplicate keys counts, as in JSON.parse");
  cr_expect_eq(internal("{\"cmd\":\"y\",\"cmd\":\"NODE_X\"}"), 1);
  cr_expect_eq(internal("{\"cmd\":\"NODE_CLUSTER\",\"seq\":1}"), 1);
  cr_expect_eq(internal("{\"a\":\"}\",\"cmd\":\"NODE_X\"}"), 1, "a brace inside a string");
  cr_expect_eq(internal("{\"a\":\"\\\"cmd\\\":\\\"NODE_X\\\"\"}"), 0, "escaped quotes");
  cr_expect_eq(internal("{\"a\":\"\\\\\",\"cmd\":\"NODE_X\"}"), 1, "an escaped backslash ends nothing");
  cr_expect_eq(internal("{\"cmd\":\"NODE_\"}"), 0);
  cr_expect_eq(internal("{\"cmd\":\"node_x\"}"), 0);
  cr_expect_eq(internal("{\"cmd\":1}"), 0);
  cr_expect_eq(internal("{\"cmdx\":\"NODE_X\"}"), 0);
  cr_expect_eq(internal("{\"x\":\"cmd\",\"y\":\"NODE_X\"}"), 0, "a value, not a key");
  cr_expect_eq(internal("[\"cmd\",\"NODE_X\"]"), 0);
  cr_expect_eq(internal("[{\"cmd\":\"NODE_X\"}]"), 0, "not the outermost object");
  cr_expect_eq(internal("\"cmd\""), 0);
  cr_expect_eq(internal("{\"cmd\""), 0);
  cr_expect_eq(internal("{\"cmd\":\"NODE_"), 0);
  cr_expect_eq(internal("{\"cmd\""), 0);
}

Test(node_json, scanner_stays_inside_a_text_ending_in_a_backslash, .timeout = 10) {
  /* A string cut by the end of the text after a backslash: the scanner
   * read one byte past such a text (seen by ASan, with the text alone in
   * its allocation). Every prefix of such texts is scanned in a buffer of
   * exactly its size. */
  static const char *texts[] = {"{\"a\\", "{\"cmd\\", "{\"cmd\":\"NODE_\\", "{\"\\"};
  for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
    size_t n = strlen(texts[t]);
    for (size_t len = 0; len <= n; len++) {
      uint8_t *exact = malloc(len ? len : 1);
      memcpy(exact, texts[t], len);
      int r = cord__node_internal(exact, len, NULL);
      cr_expect(r >= 0 && r <= 2, "[%.*s]", (int)len, texts[t]);
      free(exact);
    }
  }
}
