/* test_zombies.c: every way a child ends leaves no zombie behind. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "helpers.h"

/* Counts processes in state Z whose parent is this process. */
static int zombies(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL) {
    char path[300], state;
    int ppid;
    FILE *f;
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    if (!(f = fopen(path, "r")))
      continue;
    if (fscanf(f, "%*d (%*[^)]) %c %d", &state, &ppid) == 2 && state == 'Z' && ppid == getpid())
      n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

Test(zombies, none_after_any_ending, .timeout = 60) {
  const char *modes[][3] = {{"echo", NULL}, {"exit", "9", NULL}, {"sleep", NULL}, {"truncate", NULL}};
  for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
    cord_proc_t c;
    cord_event_t ev;
    spawn_fake(&c, modes[k], NULL);
    if (k == 0)
      run_to_close_after_disconnect(&c);
    if (k == 1 || k == 3) {
      wait_for(&c, &ev, CORD_EV_EXIT);
      /* After EXIT the child is reaped already, before close. */
      cr_expect_eq(zombies(), 0, "mode %s", modes[k][0]);
    }
    cord_proc_close(&c); /* k == 2: still running: killed and reaped */
    cr_expect_eq(zombies(), 0, "mode %s", modes[k][0]);
  }
  cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1);
  cr_expect_eq(errno, ECHILD, "no child of ours is left at all");
}
