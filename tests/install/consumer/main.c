/* main.c: the smallest program against the installed parent SDK: start a child, exchange one message, wait for its end. */
#include <stdio.h>

#include <cord.h>

int main(int argc, char **argv) {
  cord_proc_t c;
  cord_event_t ev;
  if (argc < 2 || cord_spawn(&c, argv[1], (const char *const *)argv + 2, NULL) < 0)
    return 2;
  cord_send_json(&c, "{\"installed\":true}");
  while (cord_wait(&c, &ev, 10000) == 1) {
    if (ev.type == CORD_EV_MESSAGE) {
      printf("%.*s\n", (int)ev.len, (const char *)ev.data);
      cord_disconnect(&c);
    }
  }
  cord_proc_close(&c);
  return 0;
}
