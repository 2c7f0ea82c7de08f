/* server_child.c: a Cord C child of a Node.js program: it echoes messages, accepts on the server its parent passes, and passes the connection back. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord_child.h"

CORD_CHAN_BUFFER(rx, 4096);
CORD_CHAN_BUFFER(tx, 4096);
static int fdq[1]; /* room for the one descriptor of a handle */

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx, .fdq = fdq, .fdq_len = 1};
  cord_chan_t ch;
  cord_chan_msg_t m;
  (void)argc;
  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while (cord_chan_recv(&ch, &m) > 0) {
    if (m.type != CORD_CHAN_EV_MESSAGE) /* CORD_CHAN_EV_ERROR: a handle refused; CORD_CHAN_EV_HANDLE: ours answered */
      continue;
    if (m.nfds == 0) { /* a plain message goes back */
      cord_chan_send_json(&ch, (const char *)m.data.ptr, m.data.len);
      continue;
    }
    /* A net.Server: accept one connection on it, greet it, and pass it to
     * the parent as a net.Socket. */
    cord_chan_send_json(&ch, "{\"listening\":true}", 18);
    struct pollfd p = {.fd = m.fds[0], .events = POLLIN};
    int conn;
    /* Node.js made the socket non-blocking, for every process sharing it. */
    while ((conn = accept(m.fds[0], NULL, NULL)) < 0 && (errno == EAGAIN || errno == EINTR))
      poll(&p, 1, -1);
    close(m.fds[0]); /* the descriptor is the program's: one connection is all this child serves */
    if (conn < 0)
      continue;
    static const char hello[] = "accepted by the C child\n";
    if (write(conn, hello, sizeof hello - 1) == (ssize_t)(sizeof hello - 1)) {
      cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = "{\"socket\":true}", .len = 15, .fds = &conn, .nfds = 1};
      cord_chan_send(&ch, &o); /* later sends wait in tx until the parent answers it */
    }
    close(conn); /* the parent has its own */
  }
  return cord_chan_close(&ch);
}
