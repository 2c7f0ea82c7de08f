/* bench_c_child.c: the bench child contract on the C child SDK, the baseline the Python bench child is measured beside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cord_child.h"

CORD_CHAN_BUFFER(rx, 65536);
CORD_CHAN_BUFFER(tx, 65536);

static int is(const cord_chan_msg_t *m, const char *word) {
  size_t n = strlen(word);
  return m->data.len >= n && memcmp(m->data.ptr, word, n) == 0;
}

int main(int argc, char **argv) {
  (void)argc;
  cord_chan_t ch;
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  static uint8_t fill[65536];
  memset(fill, 'x', sizeof fill);
  unsigned long long received = 0;
  cord_chan_msg_t m;
  while (cord_chan_recv(&ch, &m) > 0) {
    if (m.type != CORD_CHAN_EV_MESSAGE || m.reply_to)
      continue;
    if (!m.id) {
      received++;
      continue;
    }
    if (m.payload == CORD_PAYLOAD_RAW && m.data.len == 5 && is(&m, "count")) {
      char num[32];
      int n = snprintf(num, sizeof num, "%llu", received);
      received = 0;
      cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = num, .len = (size_t)n};
      cord_chan_reply(&ch, m.id, &o);
    } else if (m.payload == CORD_PAYLOAD_RAW && is(&m, "send ")) {
      char text[64] = {0};
      memcpy(text, m.data.ptr, m.data.len < sizeof text - 1 ? m.data.len : sizeof text - 1);
      unsigned long n = 0, size = 0;
      sscanf(text, "send %lu %lu", &n, &size);
      if (size > sizeof fill)
        size = sizeof fill;
      cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = fill, .len = size};
      for (unsigned long i = 0; i < n; i++)
        if (cord_chan_send(&ch, &o) < 0)
          break;
      cord_chan_reply(&ch, m.id, NULL);
    } else {
      cord_chan_out_t o = {.payload = m.payload, .data = m.data.ptr, .len = m.data.len};
      char type[256];
      if (m.payload == CORD_PAYLOAD_TYPED) {
        size_t n = m.type_name.len < sizeof type - 1 ? m.type_name.len : sizeof type - 1;
        memcpy(type, m.type_name.ptr, n);
        type[n] = 0;
        o.type_name = type;
      }
      cord_chan_reply(&ch, m.id, &o);
    }
  }
  return cord_chan_close(&ch);
}
