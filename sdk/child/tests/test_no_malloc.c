/* test_no_malloc.c: the SDK allocates nothing over whole sessions, counted by replacing the process's allocator. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc_counter.h"
#include "fake_parent.h"

/* Runs one SDK call with the counter armed. */
#define SDK(call) (alloc_armed = 1, r = (call), alloc_armed = 0, r)

static cord_chan_t ch;
static cord_chan_msg_t m;

Test(no_malloc, the_counter_counts, .timeout = 10) {
  static void *volatile sink; /* keeps the compiler from eliding the pair */
  long before = alloc_calls;
  alloc_armed = 1;
  sink = malloc(16);
  free(sink);
  alloc_armed = 0;
  cr_assert_eq(alloc_calls - before, 2, "the replacement allocator must see every call: %ld", alloc_calls - before);
}

/* A session of every kind of frame, sends written at once or coalesced. */
static void session(unsigned flags) {
  int p = fp_channel(0, NULL), r;
  uint64_t id;
  cord_v1_Ping ping = {.nonce = 5};
  cord_chan_out_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
  cord_chan_out_t ok = {.payload = CORD_PAYLOAD_JSON, .data = "{}", .len = 2};
  fp_hello(p);
  fp_json(p, 0, "{\"one\":\"way\"}");
  fp_msg(p, 1, 0, 0, 5, "cord.v1.Ping", "\x08\x07", 2);
  fp_msg(p, 2, 0, 0, 7, NULL, "held", 4);
  fp_ping(p, 3);
  fp_cancel(p, 2);
  fp_msg(p, 0, 1, 0, 7, NULL, "reply", 5);
  fp_msg(p, 0, 77, 0, 7, NULL, "unknown", 7);
  fp_error(p, 1010, "report");
  fp_pong(p, 9);
  fp_goodbye(p);

  alloc_calls = 0;
  cr_assert_eq(SDK(fp_child_open(&ch, 1024, 1024, 4, CORD_CHAN_F_CANCEL | flags)), 0);
  cr_assert_eq(SDK(cord_chan_request(&ch, &q, &id)), 0);
  cr_assert_eq(SDK(cord_chan_ping(&ch, 9)), 0);
  while (SDK(cord_chan_recv(&ch, &m)) > 0) {
    if (m.type == CORD_CHAN_EV_MESSAGE && m.payload == CORD_PAYLOAD_TYPED) {
      cord_v1_Ping in = cord_v1_Ping_init_zero;
      cr_assert_eq(SDK(cord_chan_decode_typed(&m, "cord.v1.Ping", cord_v1_Ping_fields, &in)), 0);
      cord_chan_out_t t = {.payload = CORD_PAYLOAD_TYPED, .type_name = "cord.v1.Ping",
                           .fields = cord_v1_Ping_fields, .src = &ping};
      cr_assert_eq(SDK(cord_chan_reply(&ch, m.id, &t)), 0);
    } else if (m.type == CORD_CHAN_EV_CANCEL) {
      cr_assert_eq(SDK(cord_chan_reply(&ch, m.id, &ok)), 0);
    } else if (m.type == CORD_CHAN_EV_MESSAGE && !m.id && !m.reply_to) {
      cr_assert_eq(SDK(cord_chan_send_json(&ch, (const char *)m.data.ptr, m.data.len)), 0);
    }
  }
  cr_assert_eq(r, 0);
  cr_assert_eq(SDK(cord_chan_send_typed(&ch, "cord.v1.Ping", cord_v1_Ping_fields, &ping)), 0);
  cr_assert_eq(SDK(cord_chan_close(&ch)), 0);
  cr_expect_eq(alloc_calls, 0, "the SDK allocated %ld times", alloc_calls);
  /* The session really happened: the parent sees it all, ending in Goodbye. */
  int n = 0;
  Cord__V1__Frame *f;
  while ((f = fp_get(p)) != NULL) {
    n++;
    fp_free(f);
  }
  cr_expect_geq(n, 8, "only %d frames", n);
}

Test(no_malloc, cord_session, .timeout = 10) { session(0); }
Test(no_malloc, cord_session_batched, .timeout = 10) { session(CORD_CHAN_F_BATCH); }

Test(no_malloc, failures_and_node, .timeout = 10) {
  int p = fp_channel(0, NULL), r;
  fp_raw(p, "Hello world\n", 12);
  alloc_calls = 0;
  cr_assert_eq(SDK(fp_child_open(&ch, 1024, 1024, 0, 0)), CORD_ENOTCORD);
  cr_assert_eq(SDK(cord_chan_close(&ch)), 76);

  p = fp_channel(0, NULL);
  fp_hello_ex(p, 3, 4, 1024, 0);
  cr_assert_eq(SDK(fp_child_open(&ch, 1024, 1024, 0, 0)), CORD_EVERSION);
  cr_assert_eq(SDK(cord_chan_close(&ch)), 76);

  unsetenv("CORD_CHANNEL_FD");
  cr_assert_eq(SDK(fp_child_open(&ch, 1024, 1024, 0, 0)), CORD_ENOCHANNEL);

  /* The Node.js binding: a handle with a socket (taken and passed back,
   * its answer awaited while lines are echoed), one without its
   * descriptor (refused), lines. */
  static const char h[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"b\":2}}\n";
  int sp[2], n = 0;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  p = fp_channel(1, NULL);
  fp_raw_fds(p, h, sizeof h - 1, &sp[0], 1);
  fp_raw(p, "{\"a\":1}\n{\"cmd\":\"NODE_HANDLE\"}\n[2]\n", 34);
  fp_raw(p, "{\"cmd\":\"NODE_HANDLE_ACK\"}\n", 26);
  shutdown(p, SHUT_WR);
  cr_assert_eq(SDK(fp_child_open(&ch, 256, 256, 1, 0)), 0);
  while (SDK(cord_chan_recv(&ch, &m)) > 0) {
    cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = m.data.ptr, .len = m.data.len, .fds = m.fds, .nfds = m.nfds};
    if (m.type == CORD_CHAN_EV_MESSAGE)
      cr_assert_eq(SDK(cord_chan_send(&ch, &o)), 0);
    n += m.nfds;
    if (m.nfds)
      close(m.fds[0]);
  }
  cr_expect_eq(n, 1, "the socket was handed over");
  cr_assert_eq(SDK(cord_chan_close(&ch)), 0);
  close(sp[0]);
  close(sp[1]);
  cr_expect_eq(alloc_calls, 0, "the SDK allocated %ld times", alloc_calls);
}
