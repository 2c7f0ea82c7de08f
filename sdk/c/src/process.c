/* process.c: the child process's lifetime: started, signalled, stopped by steps (spec END-9), reaped (END-10); its output pipes. */
#define _GNU_SOURCE
#include "process.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Without a pidfd nothing becomes readable when the child exits, so a
 * child that is still running is looked at again this often. */
#define EXIT_POLL_MS 50

/* Bytes of output handed over per OUTPUT event. */
#define OUT_CHUNK 4096

int cord__process_start(cord__process_t *pr, int *chan_fd, const char *module, const char *const *args,
                        const cord_options_t *o) {
  cord__spawned_t sp;
  int r;
  memset(pr, 0, sizeof *pr);
  pr->pidfd = -1;
  for (int i = 0; i < CORD_STDIO_MAX; i++)
    pr->stdio[i] = -1;
  pr->detached = (o->flags & CORD_OPT_DETACHED) != 0;
  pr->kill_signal = o->kill_signal ? o->kill_signal : SIGTERM;
  pr->grace_ms = o->grace_ms ? o->grace_ms : CORD__DEF_GRACE_MS;
  if ((r = cord__spawn_process(&sp, module, args, o)) < 0)
    return r;
  for (int i = 0; i < CORD_STDIO_MAX; i++) {
    pr->stdio[i] = sp.stdio[i];
    if (i > 0 && sp.stdio[i] >= 0)
      pr->nstdio_open++;
  }
  if (pr->nstdio_open && !(pr->out_chunk = cord__malloc(OUT_CHUNK))) {
    /* Spawned, but no room for its output: undo, as if it had not started. */
    cord__process_close(pr);
    close(sp.chan_fd);
    cord__spawn_errorf("out of memory");
    return -ENOMEM;
  }
  pr->pid = sp.pid;
  pr->pidfd = sp.pidfd;
  pr->state = CORD__PROC_RUNNING;
  if (o->timeout_ms)
    pr->timeout_at = cord__now_ms() + o->timeout_ms;
  *chan_fd = sp.chan_fd;
  return 0;
}

bool cord__process_reap(cord__process_t *pr) {
  siginfo_t si;
  if (pr->state != CORD__PROC_RUNNING)
    return pr->state != CORD__PROC_NONE;
  memset(&si, 0, sizeof si);
  if ((pr->pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pr->pidfd, &si, WEXITED | WNOHANG)
                      : waitid(P_PID, (id_t)pr->pid, &si, WEXITED | WNOHANG)) < 0) {
    if (errno != ECHILD)
      return false;
    /* Someone else reaped it (SIGCHLD ignored, or a waitpid(-1)): the
     * status is lost, but the child is gone. */
    si.si_pid = pr->pid;
    si.si_code = CLD_EXITED;
    si.si_status = -1;
  }
  if (si.si_pid == 0) {
    if (pr->pidfd < 0)
      pr->poll_at = cord__now_ms() + EXIT_POLL_MS;
    return false;
  }
  if (si.si_code == CLD_EXITED) {
    pr->exit_status = si.si_status;
    pr->term_signal = 0;
  } else {
    pr->exit_status = -1;
    pr->term_signal = si.si_status;
  }
  pr->timeout_at = pr->stop_at = pr->poll_at = 0;
  if (pr->pidfd >= 0) {
    close(pr->pidfd); /* which also takes it out of any epoll set */
    pr->pidfd = -1;
  }
  pr->state = CORD__PROC_EXITED;
  return true;
}

int cord__process_kill(cord__process_t *pr, int sig) {
  if (pr->state != CORD__PROC_RUNNING)
    return -ESRCH;
  /* A pidfd names this very process; without one (kernels before 5.3,
   * valgrind), the pid does too as long as the SDK has not reaped it. */
  if (pr->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, pr->pidfd, sig, NULL, 0) < 0 : kill(pr->pid, sig) < 0)
    return -errno;
  return 0;
}

void cord__process_stop(cord__process_t *pr, int64_t now) {
  if (pr->state != CORD__PROC_RUNNING || pr->stop != CORD__STOP_NONE)
    return;
  pr->stop = CORD__STOP_GRACE;
  pr->stop_at = now + pr->grace_ms;
}

void cord__process_timers(cord__process_t *pr, int64_t now) {
  if (pr->state != CORD__PROC_RUNNING)
    return;
  if (pr->poll_at && now >= pr->poll_at)
    pr->poll_at = 0; /* the step that runs the timers looks for the exit, and sets the next look */
  if (pr->timeout_at && now >= pr->timeout_at) {
    pr->timeout_at = 0;
    (void)cord__process_kill(pr, pr->kill_signal); /* Node's `timeout` */
  }
  if (pr->stop_at && now >= pr->stop_at) {
    /* Spec END-9: the kill signal, then SIGKILL. */
    assert(pr->stop == CORD__STOP_GRACE || pr->stop == CORD__STOP_SIGNALLED);
    if (pr->stop == CORD__STOP_GRACE) {
      (void)cord__process_kill(pr, pr->kill_signal);
      pr->stop = CORD__STOP_SIGNALLED;
      pr->stop_at = now + pr->grace_ms;
    } else {
      (void)cord__process_kill(pr, SIGKILL);
      pr->stop = CORD__STOP_KILLED;
      pr->stop_at = 0;
    }
  }
}

int64_t cord__process_deadline(const cord__process_t *pr) {
  int64_t d = 0;
  const int64_t all[] = {pr->timeout_at, pr->stop_at, pr->poll_at};
  if (pr->state != CORD__PROC_RUNNING)
    return 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i] && (!d || all[i] < d))
      d = all[i];
  return d;
}

int cord__process_output(cord__process_t *pr, cord_event_t *ev) {
  for (int i = 1; i < CORD_STDIO_MAX; i++) {
    ssize_t n;
    if (pr->stdio[i] < 0)
      continue;
    do
      n = read(pr->stdio[i], pr->out_chunk, OUT_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      continue;
    ev->type = CORD_EV_OUTPUT;
    ev->stdio_fd = i;
    if (n <= 0) {
      close(pr->stdio[i]); /* the caller has told its loop first */
      pr->stdio[i] = -1;
      pr->nstdio_open--;
      return 1;
    }
    ev->data = pr->out_chunk;
    ev->len = (size_t)n;
    return 1;
  }
  return 0;
}

void cord__process_close(cord__process_t *pr) {
  if (pr->state == CORD__PROC_RUNNING && !pr->detached) {
    siginfo_t si;
    (void)cord__process_kill(pr, SIGKILL);
    while ((pr->pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pr->pidfd, &si, WEXITED)
                           : waitid(P_PID, (id_t)pr->pid, &si, WEXITED)) < 0 &&
           errno == EINTR)
      ;
  }
  if (pr->pidfd >= 0)
    close(pr->pidfd);
  pr->pidfd = -1;
  for (int i = 0; i < CORD_STDIO_MAX; i++)
    if (pr->stdio[i] >= 0) {
      close(pr->stdio[i]);
      pr->stdio[i] = -1;
    }
  pr->nstdio_open = 0;
  cord__free(pr->out_chunk);
  pr->out_chunk = NULL;
}

/* ---- the public calls about the process ----------------------------------------------------- */

#include "cord.pb-c.h"
#include "proc.h"

int cord_spawn(cord_proc_t *c, const char *module, const char *const *args, const cord_options_t *opts) {
  static const cord_options_t defaults;
  if (!c)
    return -EINVAL;
  memset(c, 0, sizeof *c);
  return cord__proc_spawned(c, module, args, opts ? opts : &defaults);
}

int cord_kill(cord_proc_t *c, int sig) {
  if (!c || !c->priv)
    return -EINVAL;
  return cord__process_kill(&c->priv->proc, sig);
}

int cord_stop(cord_proc_t *c) {
  struct cord__proc_priv *p;
  if (!c || !c->priv)
    return -EINVAL;
  p = c->priv;
  if (cord__core_connected(&p->core)) {
    cord__core_end(&p->core, CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN);
    c->connected = 0;
    cord__proc_flush(c);
    cord__loop_mark_dirty(c);
  }
  cord__process_stop(&p->proc, cord__now_ms());
  cord__loop_timer_changed(c);
  return 0;
}

int cord_stdio_fd(const cord_proc_t *c, int child_fd) {
  if (!c || !c->priv || child_fd < 0 || child_fd >= CORD_STDIO_MAX)
    return -1;
  return c->priv->proc.stdio[child_fd];
}

int cord_close_stdin(cord_proc_t *c) {
  if (!c || !c->priv || c->priv->proc.stdio[0] < 0)
    return -EINVAL;
  close(c->priv->proc.stdio[0]);
  c->priv->proc.stdio[0] = -1;
  return 0;
}
