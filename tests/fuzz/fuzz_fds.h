/* fuzz_fds.h: what the child SDK's fuzzers count to find a descriptor left open. */
#ifndef FUZZ_FDS_H
#define FUZZ_FDS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The sockets this process holds, and its pipes too when pipes is set.
 * Nothing else: libFuzzer's own thread that watches the memory opens
 * files at any moment, and a channel and what crosses it in these
 * harnesses are sockets and pipes. */
static inline int fuzz_count_fds(int pipes) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[300], target[64];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t k = readlink(path, target, sizeof target - 1);
    if (k > 0 && (target[k] = '\0', !strncmp(target, "socket:", 7) || (pipes && !strncmp(target, "pipe:", 5))))
      n++;
  }
  closedir(d);
  return n;
}

#endif /* FUZZ_FDS_H */
