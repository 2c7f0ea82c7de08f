/* worker_pool.c: a parent that starts N workers on one loop, hands out jobs as requests, and gathers the replies. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cord.h"

/*
 * Usage: worker_pool WORKERS JOBS WORKER-PROGRAM [ARG...]
 *
 * Every job is a JSON request {"job":i}; a worker answers each request with
 * its result (an echo worker sends the job back, which this example
 * checks). Each worker has at most WINDOW jobs in flight, so a slow worker
 * gets fewer jobs and none sits idle while work remains.
 */
#define WINDOW 8

typedef struct {
  cord_proc_t child;
  int in_flight, done;
} worker_t;

static int next_job, jobs_total, jobs_done;

/* Gives the worker jobs until its window is full or the jobs run out; a
 * worker with nothing left to do, and nothing in flight, is let go. */
static void feed(worker_t *w) {
  while (w->in_flight < WINDOW && next_job < jobs_total) {
    char text[64];
    int n = snprintf(text, sizeof text, "{\"job\":%d}", next_job);
    cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = text, .len = (size_t)n};
    if (cord_request(&w->child, &m, NULL) < 0)
      return;
    next_job++;
    w->in_flight++;
  }
  if (w->in_flight == 0 && next_job == jobs_total && w->child.connected)
    cord_disconnect(&w->child);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: worker_pool WORKERS JOBS WORKER-PROGRAM [ARG...]\n");
    return 2;
  }
  int nworkers = atoi(argv[1]), closed = 0, failed = 0;
  jobs_total = atoi(argv[2]);
  worker_t *workers = calloc((size_t)nworkers, sizeof *workers);
  cord_loop_t loop;
  cord_proc_t *ready[64];

  if (cord_loop_init(&loop) < 0)
    return 1;
  for (int i = 0; i < nworkers; i++) {
    if (cord_spawn(&workers[i].child, argv[3], (const char *const *)argv + 4, NULL) < 0) {
      fprintf(stderr, "worker_pool: %s\n", cord_spawn_error());
      return 1;
    }
    workers[i].child.data = &workers[i];
    cord_loop_add(&loop, &workers[i].child);
  }

  while (closed < nworkers) {
    int n = cord_loop_wait(&loop, ready, 64, 30000);
    if (n <= 0) {
      fprintf(stderr, "worker_pool: no progress for 30 s\n");
      return 1;
    }
    for (int k = 0; k < n; k++) {
      worker_t *w = ready[k]->data;
      cord_event_t ev;
      while (cord_step(&w->child, &ev) == 1) {
        switch (ev.type) {
        case CORD_EV_READY:
          feed(w);
          break;
        case CORD_EV_REPLY:
          w->in_flight--;
          if (ev.error || ev.status) {
            failed++;
          } else {
            w->done++;
            jobs_done++;
          }
          feed(w);
          break;
        case CORD_EV_ERROR:
          fprintf(stderr, "worker %d: %s\n", (int)w->child.pid, ev.detail);
          break;
        case CORD_EV_CLOSE:
          closed++;
          break;
        default:
          break;
        }
      }
    }
  }

  printf("%d jobs done, %d failed, by %d workers:", jobs_done, failed, nworkers);
  for (int i = 0; i < nworkers; i++) {
    printf(" %d", workers[i].done);
    cord_proc_close(&workers[i].child);
  }
  printf("\n");
  cord_loop_close(&loop);
  free(workers);
  return jobs_done == jobs_total && failed == 0 ? 0 : 1;
}
