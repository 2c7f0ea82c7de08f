/* pass_socket.c: a parent that opens one listening TCP socket and passes it to N children, which all accept on it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord.h"

/*
 * Usage: pass_socket CHILDREN CONNECTIONS CHILD-PROGRAM [ARG...]
 *
 * The parent listens on 127.0.0.1 (a port the kernel picks), passes the
 * listening descriptor to every child with a {"listen":true} message (spec
 * section 8), then connects CONNECTIONS times itself. Each child accepts
 * connections on the shared socket and answers each with one line naming
 * itself, so the output shows the kernel spreading the connections over
 * the children. The parent then stops them all.
 */
int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: pass_socket CHILDREN CONNECTIONS CHILD-PROGRAM [ARG...]\n");
    return 2;
  }
  int n = atoi(argv[1]), conns = atoi(argv[2]), ready = 0, closed = 0, failed = 0;
  cord_proc_t *kids = calloc((size_t)n, sizeof *kids);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cord_event_t ev;

  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 64) < 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
    perror("pass_socket: listen");
    return 1;
  }
  for (int i = 0; i < n; i++) {
    cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "{\"listen\":true}", .len = 15, .fds = &lfd, .nfds = 1};
    if (cord_spawn(&kids[i], argv[3], (const char *const *)argv + 4, NULL) < 0) {
      fprintf(stderr, "pass_socket: %s\n", cord_spawn_error());
      return 1;
    }
    /* Queued now, checked against the child's max_fds when its Hello comes. */
    cord_send(&kids[i], &m);
  }
  /* The parent's copy is no longer needed: the children hold theirs. */
  close(lfd);
  for (int i = 0; i < n; i++) {
    while (cord_wait(&kids[i], &ev, 10000) == 1 && ev.type != CORD_EV_MESSAGE)
      if (ev.type == CORD_EV_ERROR || ev.type == CORD_EV_CLOSE) {
        fprintf(stderr, "pass_socket: child %d: %s\n", (int)kids[i].pid, ev.detail ? ev.detail : "closed");
        return 1;
      }
    ready++; /* its {"listening":...} message */
  }

  for (int k = 0; k < conns; k++) {
    char line[128] = "";
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ssize_t got;
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
      perror("pass_socket: connect");
      failed++;
      continue;
    }
    got = read(s, line, sizeof line - 1);
    if (got <= 0)
      failed++;
    else
      printf("connection %d: %s", k + 1, line);
    close(s);
  }

  for (int i = 0; i < n; i++)
    cord_disconnect(&kids[i]);
  for (int i = 0; i < n; i++) {
    while (cord_wait(&kids[i], &ev, 10000) == 1)
      if (ev.type == CORD_EV_CLOSE)
        closed++;
    cord_proc_close(&kids[i]);
  }
  printf("%d children listening, %d connections served, %d failed, %d children closed\n", ready, conns - failed,
         failed, closed);
  free(kids);
  return failed || closed != n ? 1 : 0;
}
