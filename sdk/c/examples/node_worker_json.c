/* node_worker_json.c: fork an unmodified Node.js worker, give it a job, then a listening socket to serve on. */
#include <cord.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = {.exec_path = "node", .serialization = CORD_SERIALIZATION_JSON};
  if (cord_spawn(&c, "node_worker.js", NULL, &o) < 0)
    return fprintf(stderr, "%s\n", cord_spawn_error()), 1;
  cord_send_json(&c, "{\"id\":1,\"n\":21}");

  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  int srv = socket(AF_INET, SOCK_STREAM, 0);                 /* a server on 127.0.0.1, any port */
  bind(srv, (struct sockaddr *)&a, sizeof a), listen(srv, 8), getsockname(srv, (struct sockaddr *)&a, &alen);
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "{\"serve\":true}", .len = 14, .fds = &srv, .nfds = 1};
  cord_send(&c, &m);                                         /* Node: process.on('message', (m, server) => ...) */
  close(srv);

  while (cord_wait(&c, &ev, -1) == 1) {
    if (ev.type != CORD_EV_MESSAGE)
      continue;
    printf("%.*s\n", (int)ev.len, (const char *)ev.data);    /* {"id":1,"sum":42,"type":"number"}, then {"serving":true} */
    if (ev.len == 16 && !memcmp(ev.data, "{\"serving\":true}", 16)) {
      char line[64] = "";
      int s = socket(AF_INET, SOCK_STREAM, 0);
      connect(s, (struct sockaddr *)&a, sizeof a);
      read(s, line, sizeof line - 1);
      printf("%s", line);                                    /* served by the worker */
      close(s);
      cord_disconnect(&c);                                   /* the worker exits once its channel ends */
    }
  }
  cord_proc_close(&c);
}
