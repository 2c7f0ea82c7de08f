/* c_bench_child.c: the bench child on the C child SDK, so that the Go bench child is measured beside it by the same parent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cord_child.h"

CORD_CHAN_BUFFER(rx, 65536);
CORD_CHAN_BUFFER(tx, 65536);

static int is(const cord_chan_msg_t *m, const char *word) {
  size_t n = strlen(word);
  return m->payload == CORD_PAYLOAD_RAW && m->data.len >= n && memcmp(m->data.ptr, word, n) == 0;
}

int main(int argc, char **argv) {
  (void)argc;
  cord_chan_t ch;
  int fdq[4];
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx, .fdq = fdq, .fdq_len = 4};
  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  static uint8_t body[65536];
  unsigned long count = 0;
  cord_chan_msg_t m;
  int r;
  while ((r = cord_chan_recv(&ch, &m)) > 0) {
    if (m.type != CORD_CHAN_EV_MESSAGE)
      continue;
    if (m.id == 0) { /* one-way: counted, never answered */
      count++;
      continue;
    }
    if (is(&m, "count") && m.data.len == 5) {
      char text[32];
      int len = snprintf(text, sizeof text, "%lu", count);
      count = 0;
      cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = text, .len = (size_t)len};
      r = cord_chan_reply(&ch, m.id, &o);
    } else if (is(&m, "send ")) {
      char text[64];
      size_t len = m.data.len < sizeof text - 1 ? m.data.len : sizeof text - 1;
      memcpy(text, m.data.ptr, len);
      text[len] = 0;
      unsigned long n = 0, size = 0;
      uint64_t id = m.id;
      if (sscanf(text, "send %lu %lu", &n, &size) != 2 || size > sizeof body) {
        cord_chan_out_t e = {.status = 1010};
        r = cord_chan_reply(&ch, id, &e);
      } else {
        cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = body, .len = size};
        for (unsigned long i = 0; i < n && r >= 0; i++)
          r = cord_chan_send(&ch, &o);
        if (r >= 0)
          r = cord_chan_reply(&ch, id, NULL);
      }
    } else { /* every other request: an echo */
      cord_chan_out_t o = {.payload = m.payload, .data = m.data.ptr, .len = m.data.len,
                           .type_name = (const char *)m.type_name.ptr, .type_name_len = m.type_name.len};
      r = cord_chan_reply(&ch, m.id, &o);
    }
    if (r < 0)
      break;
  }
  return cord_chan_close(&ch);
}
