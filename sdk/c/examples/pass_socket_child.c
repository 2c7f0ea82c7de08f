/* pass_socket_child.c: the child of pass_socket, on the child SDK: takes the listening socket it is sent and serves connections on it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord_child.h"

CORD_CHAN_BUFFER(rx, 1024);
CORD_CHAN_BUFFER(tx, 1024);
static int fdq[4];

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx, .fdq = fdq, .fdq_len = 4};
  cord_chan_t ch;
  cord_chan_msg_t m;
  int lfd = -1, served = 0;
  (void)argc;

  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  /* One poll loop over the channel and, once it has come, the listening
   * socket: the step function never blocks. */
  for (;;) {
    int r;
    while ((r = cord_chan_step(&ch, &m)) == 1) {
      if (m.type == CORD_CHAN_EV_MESSAGE && m.nfds == 1 && lfd < 0) {
        char text[64];
        lfd = m.fds[0]; /* the program's now */
        /* Every child polls the same socket, so all wake for one
         * connection and all but one find nothing to accept: a blocking
         * accept() would hold this child there, deaf to its channel. */
        fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
        snprintf(text, sizeof text, "{\"listening\":%d}", (int)getpid());
        cord_chan_send_json(&ch, text, strlen(text));
      }
    }
    if (r != -EAGAIN)
      break; /* the parent's direction ended (0), or the channel failed */
    struct pollfd pf[2] = {{cord_chan_fd(&ch), POLLIN, 0}, {lfd, POLLIN, 0}};
    if (poll(pf, lfd >= 0 ? 2 : 1, -1) < 0)
      break;
    if (lfd >= 0 && (pf[1].revents & POLLIN)) {
      int c = accept(lfd, NULL, NULL);
      if (c >= 0) {
        char line[64];
        int len = snprintf(line, sizeof line, "served by child %d\n", (int)getpid());
        if (write(c, line, (size_t)len) == len)
          served++;
        close(c);
      }
    }
  }
  if (lfd >= 0)
    close(lfd);
  return cord_chan_close(&ch);
}
