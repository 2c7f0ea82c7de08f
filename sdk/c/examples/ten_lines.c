/* ten_lines.c: start a worker, send it one job, print its answer. */
#include <cord.h>
#include <stdio.h>

int main(void) {
  cord_proc_t c;
  cord_event_t ev;
  if (cord_spawn(&c, "./worker", NULL, NULL) < 0)
    return fprintf(stderr, "%s\n", cord_spawn_error()), 1;
  cord_send_json(&c, "{\"job\":1}");
  while (cord_wait(&c, &ev, -1) == 1)          /* READY, MESSAGE, ..., CLOSE */
    if (ev.type == CORD_EV_MESSAGE)
      printf("%.*s\n", (int)ev.len, (const char *)ev.data), cord_disconnect(&c);
  cord_proc_close(&c);
}
