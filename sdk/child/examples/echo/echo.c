/* echo.c: the smallest Cord child: every message it receives goes back to the parent unchanged. */
#include "cord_child.h"

CORD_CHAN_BUFFER(rx, 4096); /* the largest frame this child accepts */
CORD_CHAN_BUFFER(tx, 4096);

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  cord_chan_t ch;
  cord_chan_msg_t m;
  (void)argc;
  cord_chan_open_or_exit(&ch, &cfg, argv[0]); /* no parent: one line, exit 64 */
  while (cord_chan_recv(&ch, &m) > 0)
    cord_chan_echo(&ch, &m);   /* a request is answered with its payload; a one-way message goes back */
  return cord_chan_close(&ch); /* Goodbye, close, and 0, or 76 after a fatal protocol error */
}
