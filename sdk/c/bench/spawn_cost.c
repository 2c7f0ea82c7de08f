/* spawn_cost.c: measures how long starting a child takes, and shows it does not grow with the parent's memory. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cord.h"

/*
 * Usage: spawn_cost CHILD [ROUNDS]
 *
 * For a parent holding a little memory and then 1 GiB (touched, so every
 * page is mapped), prints the median time of:
 *   cord     cord_spawn() until the call returns (exec done or failed)
 *   ready    cord_spawn() until the child's Hello has arrived
 *   fork     a plain fork()+execv()+waitpid() of the same program, the
 *            way a naive parent would do it, for comparison
 * CHILD must be a Cord child that answers its parent's Goodbye.
 */

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The fastest of the runs: on a busy machine, the one least disturbed by
 * other work, and the best estimate of what the call itself costs. */
static double fastest(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[0];
}

static void measure(const char *child, int rounds, double *spawn_us, double *ready_us, double *fork_us) {
  double *a = calloc((size_t)rounds, sizeof *a), *b = calloc((size_t)rounds, sizeof *b),
         *c = calloc((size_t)rounds, sizeof *c);
  for (int i = 0; i < rounds; i++) {
    cord_proc_t ch;
    cord_event_t ev;
    double t0 = now_us();
    if (cord_spawn(&ch, child, NULL, NULL) < 0) {
      fprintf(stderr, "spawn_cost: %s\n", cord_spawn_error());
      exit(1);
    }
    a[i] = now_us() - t0;
    while (cord_wait(&ch, &ev, 10000) == 1 && ev.type != CORD_EV_READY)
      ;
    b[i] = now_us() - t0;
    cord_disconnect(&ch);
    while (cord_wait(&ch, &ev, 10000) == 1)
      ;
    cord_proc_close(&ch);
  }
  for (int i = 0; i < rounds; i++) {
    /* The naive way: fork() copies the page tables of the whole parent. */
    double t0 = now_us();
    pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/true", "true", (char *)NULL);
      _exit(127);
    }
    double forked = now_us() - t0;
    waitpid(pid, NULL, 0);
    c[i] = forked;
  }
  *spawn_us = fastest(a, rounds);
  *ready_us = fastest(b, rounds);
  *fork_us = fastest(c, rounds);
  free(a);
  free(b);
  free(c);
}

int main(int argc, char **argv) {
  const char *child = argc > 1 ? argv[1] : NULL;
  int rounds = argc > 2 ? atoi(argv[2]) : 20;
  double s0, r0, f0, s1, r1, f1;
  if (!child) {
    fprintf(stderr, "usage: spawn_cost CHILD [ROUNDS]\n");
    return 2;
  }
  measure(child, rounds, &s0, &r0, &f0);

  size_t gib = (size_t)1 << 30;
  char *mem = mmap(NULL, gib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  memset(mem, 1, gib); /* touch every page */
  measure(child, rounds, &s1, &r1, &f1);
  munmap(mem, gib);

  printf("start a child (fastest of %d, microseconds)  small parent   1 GiB parent   ratio\n", rounds);
  printf("  cord_spawn() returns                     %12.0f   %12.0f   %5.2f\n", s0, s1, s1 / s0);
  printf("  cord_spawn() to the child's Hello        %12.0f   %12.0f   %5.2f\n", r0, r1, r1 / r0);
  printf("  fork() alone, for comparison             %12.0f   %12.0f   %5.2f\n", f0, f1, f1 / f0);
  return 0;
}
