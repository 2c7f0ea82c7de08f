/* echo.c: the smallest Cord child: every message it receives goes back to the parent unchanged. */
#include <unistd.h>

#include "cord_child.h"

/* The receive buffer's size is the largest frame this child accepts. */
CORD_CHAN_BUFFER(rx, 4096);
CORD_CHAN_BUFFER(tx, 4096);

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  cord_chan_t ch;
  cord_chan_msg_t m;
  (void)argc;

  /* Without a parent this prints one line and exits 64 (spec CHAN-7). */
  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while (cord_chan_recv(&ch, &m) > 0) {
    cord_chan_out_t o = {.payload = m.payload,
                         .type_name = (const char *)m.type_name.ptr,
                         .type_name_len = m.type_name.len,
                         .data = m.data.ptr,
                         .len = m.data.len};
    for (unsigned i = 0; i < m.nfds; i++) /* passed descriptors are ours to close */
      close(m.fds[i]);
    if (m.type != CORD_CHAN_EV_MESSAGE || m.reply_to)
      continue; /* cancels come too late (every request is answered at once), and no request is made */
    if (m.id)
      cord_chan_reply(&ch, m.id, &o);
    else
      cord_chan_send(&ch, &o);
  }
  /* Goodbye, close, and the exit status of spec END-8: 0, or 76. */
  return cord_chan_close(&ch);
}
