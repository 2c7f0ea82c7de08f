/* test_batch.c: with CORD_CHAN_F_BATCH sends are queued, and written before any read of the channel, on flush, at Goodbye and at close (END-7). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_parent.h"

static cord_chan_t ch;
static cord_chan_msg_t m;

/* A handshake with coalesced sends, through a transmit buffer of tx bytes. */
static int batched(size_t tx) {
  int p = fp_channel(0, NULL);
  fp_hello(p);
  cr_assert_eq(fp_child_open(&ch, 1024, tx, 4, CORD_CHAN_F_BATCH), 0);
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  return p;
}

/* Whether the child has written anything the parent could read now. */
static int written(int p) {
  struct pollfd q = {.fd = p, .events = POLLIN};
  return poll(&q, 1, 0) == 1;
}

static void send_raw(const char *text) {
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = text, .len = strlen(text)};
  cr_assert_eq(cord_chan_send(&ch, &o), 0);
}

static void expect_raw(int p, const char *text) {
  Cord__V1__Frame *f = fp_expect(p, CORD__V1__FRAME__BODY_MESSAGE);
  cr_assert_eq(f->message->payload_case, CORD__V1__MESSAGE__PAYLOAD_RAW);
  cr_expect_eq(f->message->raw.len, strlen(text));
  cr_expect_arr_eq(f->message->raw.data, text, strlen(text));
  fp_free(f);
}

Test(batch, sends_wait_for_the_next_read, .timeout = 10) {
  int p = batched(1024);
  send_raw("one");
  send_raw("two");
  cr_assert_eq(cord_chan_ping(&ch, 5), 0);
  cr_expect_not(written(p), "queued, nothing written yet");
  /* Nothing to receive: the step reads, and writes the queue first. */
  cr_assert_eq(cord_chan_step(&ch, &m), -EAGAIN);
  cr_assert(written(p));
  expect_raw(p, "one");
  expect_raw(p, "two");
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_PING));
}

Test(batch, a_receive_writes_the_request_before_its_answer_is_read, .timeout = 10) {
  int p = batched(1024);
  uint64_t id;
  cord_chan_out_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
  cr_assert_eq(cord_chan_request(&ch, &q, &id), 0);
  cr_expect_not(written(p));
  fp_msg(p, 0, id, 0, 7, NULL, "a", 1); /* the answer, already there */
  cr_assert_eq(cord_chan_recv(&ch, &m), 1);
  cr_expect_eq(m.reply_to, id);
  expect_raw(p, "q");
}

Test(batch, flush_writes_the_queue, .timeout = 10) {
  int p = batched(1024);
  send_raw("one");
  cr_expect_not(written(p));
  cr_assert_eq(cord_chan_flush(&ch), 0);
  expect_raw(p, "one");
  cr_expect_eq(cord_chan_flush(&ch), 0, "an empty queue flushes to nothing");
  cr_expect_not(written(p));
}

Test(batch, close_writes_the_queue_then_goodbye, .timeout = 10) {
  int p = batched(1024);
  send_raw("one");
  send_raw("two");
  cr_assert_eq(cord_chan_close(&ch), 0);
  expect_raw(p, "one");
  expect_raw(p, "two");
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
  fp_expect_eof(p);
}

Test(batch, a_full_buffer_writes_what_is_queued, .timeout = 10) {
  int p = batched(256);
  char text[2][100];
  for (int i = 0; i < 20; i++) {
    memset(text[i % 2], 'a' + i, 99);
    text[i % 2][99] = 0;
    send_raw(text[i % 2]);
  }
  cr_expect(written(p), "two frames fill 256 bytes: the first went when the third came");
  cr_assert_eq(cord_chan_close(&ch), 0);
  for (int i = 0; i < 20; i++) {
    memset(text[0], 'a' + i, 99);
    expect_raw(p, text[0]);
  }
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_GOODBYE));
}

Test(batch, descriptors_go_with_their_own_frame, .timeout = 10) {
  int p = batched(1024), pp[2], got[4];
  unsigned n = 0;
  Cord__V1__Frame *f;
  cr_assert_eq(pipe(pp), 0);
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = "fd", .len = 2, .fds = &pp[1], .nfds = 1};
  send_raw("before");
  cr_assert_eq(cord_chan_send(&ch, &o), 0);
  cr_expect(written(p), "a frame with descriptors is written at once, after the queue");
  f = fp_get_fds(p, got, &n);
  cr_assert_eq(n, 0u, "the queued frame goes alone [FD-3]");
  fp_free(f);
  f = fp_get_fds(p, got, &n);
  cr_assert_eq(n, 1u, "the descriptor rides with its own frame's first byte");
  cr_expect_eq(f->message->fds, 1u);
  fp_free(f);
  close(got[0]);
  close(pp[0]);
  close(pp[1]);
}

Test(batch, a_failed_write_is_reported_by_the_call_that_writes, .timeout = 10) {
  int p = batched(1024);
  send_raw("lost");
  close(p); /* the parent is gone: the queued frame cannot go */
  cr_expect_eq(cord_chan_flush(&ch), -EPIPE);
  cr_expect_eq(cord_chan_send(&ch, &(cord_chan_out_t){.payload = CORD_PAYLOAD_RAW, .data = "x", .len = 1}),
               CORD_ECLOSED, "nothing can be sent after [END-6]");
  cr_expect_eq(cord_chan_close(&ch), 0);
}

Test(batch, node_lines_are_queued_too, .timeout = 10) {
  int p = fp_channel(1, NULL);
  char line[64];
  cr_assert_eq(fp_child_open(&ch, 256, 256, 0, CORD_CHAN_F_BATCH), 0);
  cr_assert_eq(cord_chan_send_json(&ch, "{\"a\":1}", 7), 0);
  cr_assert_eq(cord_chan_send_json(&ch, "[2]", 3), 0);
  cr_expect_not(written(p));
  cr_assert_eq(cord_chan_close(&ch), 0);
  cr_assert_eq(fp_line(p, line, sizeof line), 7);
  cr_expect_str_eq(line, "{\"a\":1}");
  cr_assert_eq(fp_line(p, line, sizeof line), 3);
  cr_expect_str_eq(line, "[2]");
  cr_expect_eq(fp_line(p, line, sizeof line), -1);
}

Test(batch, without_the_flag_each_send_is_written, .timeout = 10) {
  int p = fp_start(&ch, 1024);
  send_raw("now");
  cr_expect(written(p));
  expect_raw(p, "now");
}

Test(batch, unknown_flags_are_refused, .timeout = 10) {
  fp_channel(0, NULL);
  cr_expect_eq(fp_child_open(&ch, 1024, 1024, 0, 1u << 3), -EINVAL);
}
