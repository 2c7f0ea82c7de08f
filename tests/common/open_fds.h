/* open_fds.h: what the fuzzers and descriptor tests count to find a descriptor left open. */
#ifndef OPEN_FDS_H
#define OPEN_FDS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The sockets this process holds, and its pipes too when pipes is set.
 * Nothing else: libFuzzer's own thread that watches the memory opens
 * files at any moment, and a channel and what crosses it in the fuzzers
 * and tests that count are sockets and pipes. */
static inline int count_open_fds(int pipes) {
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

#endif /* OPEN_FDS_H */
