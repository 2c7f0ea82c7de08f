/* test_churn.c: ten thousand children started, used and closed leave no descriptor, memory or zombie behind. */
#include <dirent.h>
#include <stdlib.h>

#include "helpers.h"

static long rss_kib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  cr_assert_not_null(f);
  cr_assert_eq(fscanf(f, "%ld %ld", &pages, &resident), 2);
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Children of this process that have exited and not been reaped. */
static int zombies(void) {
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[300], state = 0;
    int pid, ppid;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    if (fscanf(f, "%d %*s %c %d", &pid, &state, &ppid) == 3 && ppid == getpid() && state == 'Z')
      n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

/* One cycle: spawn, and with `use`, one request answered before close. */
static void cycle(int use) {
  const char *args[] = {"echo", NULL};
  cord_proc_t c;
  cord_event_t ev;
  spawn_fake(&c, args, NULL);
  if (use) {
    cord_msg_t m = {.payload = CORD_PAYLOAD_RAW, .data = "x", .len = 1};
    cr_assert_eq(cord_request(&c, &m, NULL), 0);
    wait_for(&c, &ev, CORD_EV_REPLY);
    cr_assert_eq(ev.error, 0);
  }
  cord_proc_close(&c);
}

static void churn(int use, const char *what) {
  for (int i = 0; i < 100; i++) /* the allocator and the kernel settle */
    cycle(use);
  int fds = count_fds(), z = zombies();
  long rss = rss_kib();
  for (int i = 0; i < 10000; i++)
    cycle(use);
  int fds_after = count_fds(), z_after = zombies();
  long rss_after = rss_kib();
  cr_log_info("10,000 %s: descriptors %d -> %d, RSS %ld -> %ld KiB, zombies %d -> %d", what, fds, fds_after, rss,
              rss_after, z, z_after);
  cr_expect_eq(fds_after, fds);
  cr_expect_eq(z_after, 0);
  /* Equal but for the allocator's own noise: a leak of even 64 bytes a
   * cycle would be 640 KiB. */
  cr_expect_leq(rss_after - rss, 256, "RSS grew by %ld KiB", rss_after - rss);
}

Test(churn, spawn_request_close, .timeout = 900) { churn(1, "spawn/request/close cycles"); }

Test(churn, spawn_and_close_at_once, .timeout = 900) { churn(0, "spawn/close cycles"); }
