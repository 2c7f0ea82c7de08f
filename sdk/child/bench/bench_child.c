/* bench_child.c: the C child SDK's bench child, as bench/README.md specifies it (counts, `count`, `send N SIZE`, echo). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cord_child.h"

/* Room for the suite's largest payload (1 MiB) with its frame around it.
 * Static buffers cost nothing until a frame touches them. */
#define BUF ((2u << 20) + 256)
CORD_CHAN_BUFFER(rx, BUF);
CORD_CHAN_BUFFER(tx, BUF);
static uint8_t fill[BUF];

/* The decimal number at *p (at most 19 digits); *p moves past it. */
static unsigned long long number(const uint8_t **p, const uint8_t *end) {
  unsigned long long v = 0;
  for (int n = 0; *p < end && **p >= '0' && **p <= '9' && n < 19; n++, (*p)++)
    v = v * 10 + (unsigned)(**p - '0');
  return v;
}

/* Whether the payload is the command `word` followed by its arguments. */
static int is(const cord_chan_msg_t *m, const char *word) {
  size_t n = strlen(word);
  return m->payload == CORD_PAYLOAD_RAW && m->data.len >= n && !memcmp(m->data.ptr, word, n) &&
         (m->data.len == n || m->data.ptr[n] == ' ');
}

int main(int argc, char **argv) {
  /* Sends are coalesced: `send N SIZE` goes out in few writes, and each
   * reply is written before the next receive waits. */
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx, .flags = CORD_CHAN_F_BATCH};
  cord_chan_t ch;
  cord_chan_msg_t m;
  unsigned long long received = 0;
  (void)argc;

  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while (cord_chan_recv(&ch, &m) > 0) {
    for (unsigned i = 0; i < m.nfds; i++)
      close(m.fds[i]);
    if (m.type != CORD_CHAN_EV_MESSAGE || m.reply_to)
      continue;
    if (!m.id) {
      received++;
    } else if (is(&m, "count")) {
      char text[24];
      int n = snprintf(text, sizeof text, "%llu", received);
      received = 0;
      cord_chan_reply(&ch, m.id, &(cord_chan_out_t){.payload = CORD_PAYLOAD_RAW, .data = text, .len = (size_t)n});
    } else if (is(&m, "send")) {
      const uint8_t *p = m.data.ptr + 5, *end = m.data.ptr + m.data.len;
      unsigned long long count = number(&p, end), size = (p++, number(&p, end));
      cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = fill, .len = size < BUF - 64 ? size : BUF - 64};
      uint64_t id = m.id;
      while (count--)
        if (cord_chan_send(&ch, &o) < 0)
          break;
      cord_chan_reply(&ch, id, NULL);
    } else {
      cord_chan_reply(&ch, m.id,
                      &(cord_chan_out_t){.payload = m.payload, .type_name = (const char *)m.type_name.ptr,
                                         .type_name_len = m.type_name.len, .data = m.data.ptr, .len = m.data.len});
    }
  }
  return cord_chan_close(&ch);
}
