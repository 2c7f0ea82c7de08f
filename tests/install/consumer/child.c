/* child.c: the smallest child against the installed child SDK, found with find_package(cord-child). */
#include <cord_child.h>

CORD_CHAN_BUFFER(rx, 1024);
CORD_CHAN_BUFFER(tx, 1024);

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  cord_chan_t ch;
  cord_chan_msg_t m;
  (void)argc;
  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while (cord_chan_recv(&ch, &m) > 0)
    cord_chan_echo(&ch, &m);
  return cord_chan_close(&ch);
}
