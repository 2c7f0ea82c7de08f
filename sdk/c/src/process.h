/* process.h: the child process as the parent sees it: started, signalled, stopped step by step, reaped; and its stdio pipes. */
#ifndef CORD_PROCESS_H
#define CORD_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cord_int.h"

/*
 * The process lifetime, a machine of its own beside the channel's:
 *
 *   NONE      no process (a channel attached with cord_attach())
 *   RUNNING   started, not yet seen to exit
 *   EXITED    reaped: its status is known, EXIT not yet reported
 *   REPORTED  EXIT was returned
 *
 * and the stop escalation of spec END-9, which runs while RUNNING:
 *
 *   STOP_NONE -> STOP_GRACE (Goodbye sent; waits grace_ms)
 *             -> STOP_SIGNALLED (kill signal sent; waits grace_ms)
 *             -> STOP_KILLED (SIGKILL sent)
 */
typedef enum { CORD__PROC_NONE = 0, CORD__PROC_RUNNING, CORD__PROC_EXITED, CORD__PROC_REPORTED } cord__proc_state_t;
typedef enum { CORD__STOP_NONE = 0, CORD__STOP_GRACE, CORD__STOP_SIGNALLED, CORD__STOP_KILLED } cord__stop_t;

typedef struct {
  cord__proc_state_t state;
  cord__stop_t stop;
  pid_t pid;
  int pidfd;                 /* -1 without one (kernels before 5.3, valgrind), or once reaped */
  bool detached;
  int kill_signal;
  uint32_t grace_ms;
  int exit_status, term_signal;
  int64_t timeout_at, stop_at, poll_at; /* deadlines in cord__now_ms() terms; 0: none */
  int stdio[CORD_STDIO_MAX];  /* the parent's ends of pipes, or -1 */
  int nstdio_open;            /* output pipes not yet at end of file */
  uint8_t *out_chunk;         /* OUTPUT events' bytes, taken when the child has output pipes */
} cord__process_t;

/* Starts the child: the vfork machinery of spawn.c, then the process
 * state. *chan_fd gets the parent's end of the channel. */
cord__must_check int cord__process_start(cord__process_t *pr, int *chan_fd, const char *module,
                                         const char *const *args, const cord_options_t *o);
/* Looks for the exit without waiting; true once EXITED (or later). */
bool cord__process_reap(cord__process_t *pr);
/* Sends a signal: 0, -ESRCH once reaped or without a process, or -errno. */
int cord__process_kill(cord__process_t *pr, int sig);
/* Begins (or, before the grace step, resumes at) the escalation of END-9. */
void cord__process_stop(cord__process_t *pr, int64_t now);
/* Runs the timers due at `now`: Node's `timeout`, and the escalation. */
void cord__process_timers(cord__process_t *pr, int64_t now);
/* The next deadline, or 0. */
int64_t cord__process_deadline(const cord__process_t *pr);
/* Reads one chunk of output from a pipe into an OUTPUT event; 1 with *ev,
 * 0 when no pipe has anything. */
int cord__process_output(cord__process_t *pr, cord_event_t *ev);
/* Kills (unless detached) and reaps a process still running; closes
 * every descriptor. */
void cord__process_close(cord__process_t *pr);

/* ---- spawn.c ---------------------------------------------------------------------------- */

/* What cord__spawn_process() hands over. */
typedef struct {
  pid_t pid;
  int pidfd;
  int chan_fd; /* the parent's end of the socket pair */
  int stdio[CORD_STDIO_MAX];
} cord__spawned_t;

cord__must_check int cord__spawn_process(cord__spawned_t *p, const char *module, const char *const *args,
                                         const cord_options_t *o);
void cord__spawn_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CORD_PROCESS_H */
