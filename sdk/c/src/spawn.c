/* spawn.c: starts a child with vfork semantics, applies every fork() option in it, and reports exec failures synchronously. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static __thread char spawn_err[512];

void cord__spawn_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(spawn_err, sizeof spawn_err, fmt, ap);
  va_end(ap);
}

const char *cord_spawn_error(void) { return spawn_err; }

/* The steps of the child that can fail, reported through the error pipe. */
enum { STEP_SETSID = 1, STEP_GROUPS, STEP_SETGID, STEP_SETUID, STEP_CHDIR, STEP_FDS, STEP_EXEC };

static const char *step_name(int step) {
  switch (step) {
  case STEP_SETSID: return "setsid";
  case STEP_GROUPS: return "setgroups";
  case STEP_SETGID: return "setgid";
  case STEP_SETUID: return "setuid";
  case STEP_CHDIR: return "chdir";
  case STEP_FDS: return "arranging descriptors";
  default: return "exec";
  }
}

/* A source of inherit means "leave the parent's descriptor of that number";
 * close means "no descriptor here". */
#define SRC_INHERIT (-2)
#define SRC_CLOSE (-1)

/*
 * Everything the child needs, prepared by the parent. After vfork() the
 * child shares the parent's memory and stack, so it may not allocate, take
 * locks, or call anything that touches shared state; it only reads this
 * plan and makes system calls.
 */
typedef struct {
  char **cands; /* paths to try with execve, in order */
  char **argv;
  char **envp;
  const char *cwd;
  int nfd;                  /* descriptors 0..nfd-1 are arranged */
  int src[CORD_STDIO_MAX];  /* where each comes from */
  bool set_uid, set_gid, new_session;
  uid_t uid;
  gid_t gid;
  int errfd; /* write end of the error pipe, close-on-exec */
} plan_t;

typedef struct {
  int step;
  int err;
} report_t;

__attribute__((noreturn)) static void child_fail(const plan_t *pl, int step, int err) {
  report_t r = {step, err};
  /* A failed write leaves the parent with end of file and a child that
   * exits 127, which it reports as an exec failure of unknown cause. */
  ssize_t n = write(pl->errfd, &r, sizeof r);
  (void)n;
  _exit(127);
}

/*
 * Runs in the vfork()ed child. Why each step is where it is:
 * - Signals were all blocked by the parent before vfork(), so that no
 *   handler of the parent runs on this shared stack; dispositions are reset
 *   to the default (exec keeps SIG_IGN, which a parent ignoring SIGPIPE
 *   would otherwise pass on), and the mask is cleared just before exec.
 * - Credentials change through raw system calls: glibc's setuid() and
 *   friends broadcast the change to every thread of the process, and in a
 *   vfork child "the process" is the parent's memory. Groups, then group,
 *   then user (spec SEC-6), since after setuid() the others are refused.
 * - Sources that sit where another target goes are first moved above the
 *   targets, so that no dup2() overwrites a descriptor still needed.
 * - Every other descriptor becomes close-on-exec, so nothing the parent
 *   opened without O_CLOEXEC leaks into the program.
 */
__attribute__((noinline, noreturn)) static void child_run(const plan_t *pl) {
  struct sigaction sa;
  sigset_t none;
  int src[CORD_STDIO_MAX];
  int err = ENOENT;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction(s, &sa, NULL); /* glibc's reserved signals answer EINVAL: fine */

  if (pl->new_session && setsid() < 0)
    child_fail(pl, STEP_SETSID, errno);
  /* Supplementary groups are cleared when the process may change them; a
   * process without that privilege keeps the groups it already had, and
   * the setresgid()/setresuid() below still refuse any real change. */
  if ((pl->set_uid || pl->set_gid) && syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
    child_fail(pl, STEP_GROUPS, errno);
  if (pl->set_gid && syscall(SYS_setresgid, pl->gid, pl->gid, pl->gid) < 0)
    child_fail(pl, STEP_SETGID, errno);
  if (pl->set_uid && syscall(SYS_setresuid, pl->uid, pl->uid, pl->uid) < 0)
    child_fail(pl, STEP_SETUID, errno);
  if (pl->cwd && chdir(pl->cwd) < 0)
    child_fail(pl, STEP_CHDIR, errno);

  for (int i = 0; i < pl->nfd; i++) {
    src[i] = pl->src[i];
    if (src[i] >= 0 && src[i] < pl->nfd && src[i] != i) {
      src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, pl->nfd);
      if (src[i] < 0)
        child_fail(pl, STEP_FDS, errno);
    }
  }
  for (int i = 0; i < pl->nfd; i++) {
    if (src[i] == SRC_CLOSE) {
      close(i);
    } else if (src[i] == SRC_INHERIT || src[i] == i) {
      /* dup2() onto itself would keep close-on-exec; clear it instead. A
       * descriptor the parent does not have stays absent. */
      if (fcntl(i, F_SETFD, 0) < 0 && errno != EBADF)
        child_fail(pl, STEP_FDS, errno);
    } else if (dup2(src[i], i) < 0) {
      child_fail(pl, STEP_FDS, errno);
    }
  }
  if (syscall(SYS_close_range, (unsigned)pl->nfd, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    /* Kernels before 5.11: mark them one by one. */
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = pl->nfd; fd < max; fd++)
      fcntl((int)fd, F_SETFD, FD_CLOEXEC);
  }

  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (char **c = pl->cands; *c; c++) {
    execve(*c, pl->argv, pl->envp);
    /* As execvp(): a missing candidate moves on to the next; one that
     * exists but cannot run is remembered; anything else stops. */
    if (errno == EACCES)
      err = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) {
      err = errno;
      break;
    }
  }
  child_fail(pl, STEP_EXEC, err);
}

/* vfork() returns twice on one stack; keeping it in a function of its own
 * means no variable of the caller lives across it. */
__attribute__((noinline)) static pid_t vfork_and_run(const plan_t *pl) {
  pid_t pid = vfork();
  if (pid == 0)
    child_run(pl);
  return pid;
}

/* ---- building the plan ----------------------------------------------------- */

typedef struct {
  char **v;
  size_t n, cap;
} strv_t;

static int strv_push(strv_t *s, char *x) {
  if (s->n + 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    char **v = cord__realloc(s->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = x;
  s->v[s->n] = NULL;
  return 0;
}

static int strv_pushf(strv_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int strv_pushf(strv_t *s, const char *fmt, ...) {
  va_list ap;
  char *x;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !(x = cord__malloc((size_t)n + 1)))
    return -ENOMEM;
  va_start(ap, fmt);
  vsnprintf(x, (size_t)n + 1, fmt, ap);
  va_end(ap);
  if (strv_push(s, x) < 0) {
    cord__free(x);
    return -ENOMEM;
  }
  return 0;
}

static bool is_channel_var(const char *kv) {
  static const char *names[] = {"CORD_CHANNEL_FD=", "NODE_CHANNEL_FD=",
                                "NODE_CHANNEL_SERIALIZATION_MODE="};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strncmp(kv, names[i], strlen(names[i])) == 0)
      return true;
  return false;
}

/* The environment: the base one without stale channel variables, then the
 * channel's own (spec CHAN-3, NODE-1). Returns the number of strings the
 * vector owns at its end (allocated here), or a negative code. */
static int build_env(strv_t *env, const char *const *base, int ipc_fd, const char *node_mode) {
  int owned = 0;
  for (const char *const *e = base ? base : (const char *const *)environ; e && *e; e++)
    if (!is_channel_var(*e) && strv_push(env, (char *)*e) < 0)
      return -ENOMEM;
  if (node_mode) {
    if (strv_pushf(env, "NODE_CHANNEL_FD=%d", ipc_fd) < 0 ||
        strv_pushf(env, "NODE_CHANNEL_SERIALIZATION_MODE=%s", node_mode) < 0)
      return -ENOMEM;
    owned = 2;
  } else {
    if (strv_pushf(env, "CORD_CHANNEL_FD=%d", ipc_fd) < 0)
      return -ENOMEM;
    owned = 1;
  }
  return owned;
}

/* The paths to try, as execvp() would: the name itself if it has a '/',
 * else each directory of the child's PATH in turn. */
static int build_cands(strv_t *c, const char *file, char *const *envp) {
  const char *path = NULL;
  if (strchr(file, '/'))
    return strv_pushf(c, "%s", file);
  for (char *const *e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0)
      path = *e + 5;
  if (!path)
    path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    int len = (int)(end - p);
    int r = len ? strv_pushf(c, "%.*s/%s", len, p, file) : strv_pushf(c, "./%s", file);
    if (r < 0)
      return r;
    if (!*end)
      break;
    p = end;
  }
  return 0;
}

static int check_options(const cord_options_t *o, cord_stdio_t *st, int *nst, int *ipc) {
  const unsigned known = CORD_OPT_SETUID | CORD_OPT_SETGID | CORD_OPT_DETACHED | CORD_OPT_SILENT |
                         CORD_OPT_WINDOWS_VERBATIM_ARGUMENTS | CORD_OPT_NO_FDS;
  int count = 0;

  if (o->flags & ~known) {
    cord__spawn_errorf("unknown option flags 0x%x", o->flags & ~known);
    return -EINVAL;
  }
  if (o->serialization != CORD_SERIALIZATION_CORD && o->serialization != CORD_SERIALIZATION_JSON &&
      o->serialization != CORD_SERIALIZATION_ADVANCED) {
    cord__spawn_errorf("serialization %d is none of CORD, JSON and ADVANCED", (int)o->serialization);
    return -EINVAL;
  }
  if (o->stdio) {
    if (o->stdio_count <= 0 || o->stdio_count > CORD_STDIO_MAX) {
      cord__spawn_errorf("stdio has %d entries; it needs 1 to %d", o->stdio_count, CORD_STDIO_MAX);
      return -EINVAL;
    }
    *nst = o->stdio_count;
    memcpy(st, o->stdio, (size_t)*nst * sizeof *st);
  } else {
    cord_stdio_kind_t k = (o->flags & CORD_OPT_SILENT) ? CORD_STDIO_PIPE : CORD_STDIO_INHERIT;
    *nst = 4;
    for (int i = 0; i < 3; i++)
      st[i] = (cord_stdio_t){k, -1};
    st[3] = (cord_stdio_t){CORD_STDIO_IPC, -1};
  }
  for (int i = 0; i < *nst; i++) {
    switch (st[i].kind) {
    case CORD_STDIO_IPC:
      count++;
      *ipc = i;
      break;
    case CORD_STDIO_FD:
      if (st[i].fd < 0 || fcntl(st[i].fd, F_GETFD) < 0) {
        cord__spawn_errorf("stdio[%d] names descriptor %d, which is not open", i, st[i].fd);
        return -EBADF;
      }
      break;
    case CORD_STDIO_INHERIT:
    case CORD_STDIO_PIPE:
    case CORD_STDIO_IGNORE:
      break;
    default:
      cord__spawn_errorf("stdio[%d] has unknown kind %d", i, (int)st[i].kind);
      return -EINVAL;
    }
  }
  if (count != 1) {
    cord__spawn_errorf("stdio has %d ipc entries; it needs exactly one", count);
    return CORD_EIPCCOUNT;
  }
  if (*ipc < 3) {
    cord__spawn_errorf("the ipc entry is at index %d; descriptors 0 to 2 cannot carry the channel", *ipc);
    return -EINVAL;
  }
  return 0;
}

/* argv borrows its strings; the environment owns its last `env_owned`
 * (the channel variables); the candidates own all theirs. */
static void free_vectors(strv_t *argv, strv_t *env, int env_owned, strv_t *cands) {
  cord__free(argv->v);
  for (size_t i = env->n - (size_t)env_owned; i < env->n; i++)
    cord__free(env->v[i]);
  cord__free(env->v);
  for (size_t i = 0; i < cands->n; i++)
    cord__free(cands->v[i]);
  cord__free(cands->v);
}

static void close_fd(int *fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

int cord__spawn_process(cord__spawned_t *p, const char *module, const char *const *args,
                        const cord_options_t *o) {
  cord_stdio_t st[CORD_STDIO_MAX];
  int nst = 0, ipc = -1, err, env_owned = 0;
  int sv[2] = {-1, -1}, ep[2] = {-1, -1};
  int child_end[CORD_STDIO_MAX]; /* descriptors created for the child */
  strv_t argv = {0}, env = {0}, cands = {0};
  plan_t pl;
  sigset_t all, old;
  const char *file;
  report_t rep;
  ssize_t n;
  pid_t pid;

  spawn_err[0] = '\0';
  memset(&pl, 0, sizeof pl);
  p->pid = -1;
  p->pidfd = p->chan_fd = -1;
  for (int i = 0; i < CORD_STDIO_MAX; i++)
    p->stdio[i] = child_end[i] = -1;

  if (!module || !*module) {
    cord__spawn_errorf("no module to run");
    return -EINVAL;
  }
  if ((err = check_options(o, st, &nst, &ipc)) < 0)
    return err;
  if (o->exec_argv && !o->exec_path) {
    cord__spawn_errorf("exec_argv is set without exec_path");
    return -EINVAL;
  }

  /* The channel (spec CHAN-1, CHAN-2) and the other descriptors. */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    err = -errno;
    cord__spawn_errorf("socketpair: %s", strerror(errno));
    goto fail;
  }
  pl.nfd = nst;
  for (int i = 0; i < nst; i++) {
    int pp[2];
    switch (st[i].kind) {
    case CORD_STDIO_IPC:
      pl.src[i] = sv[1];
      break;
    case CORD_STDIO_INHERIT:
      pl.src[i] = SRC_INHERIT;
      break;
    case CORD_STDIO_FD:
      pl.src[i] = st[i].fd;
      break;
    case CORD_STDIO_IGNORE:
      if (i > 2) {
        pl.src[i] = SRC_CLOSE;
        break;
      }
      child_end[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (child_end[i] < 0) {
        err = -errno;
        cord__spawn_errorf("open /dev/null: %s", strerror(errno));
        goto fail;
      }
      pl.src[i] = child_end[i];
      break;
    case CORD_STDIO_PIPE:
      if (pipe2(pp, O_CLOEXEC) < 0) {
        err = -errno;
        cord__spawn_errorf("pipe: %s", strerror(errno));
        goto fail;
      }
      /* Descriptor 0 is the child's input; every other pipe its output. */
      child_end[i] = i == 0 ? pp[0] : pp[1];
      p->stdio[i] = i == 0 ? pp[1] : pp[0];
      if (i != 0)
        fcntl(p->stdio[i], F_SETFL, O_NONBLOCK);
      pl.src[i] = child_end[i];
      break;
    }
  }

  /* argv, environment, candidates. */
  file = o->exec_path ? o->exec_path : module;
  if ((err = strv_push(&argv, (char *)(o->argv0 ? o->argv0 : file))) < 0)
    goto nomem;
  if (o->exec_path) {
    for (const char *const *a = o->exec_argv; a && *a; a++)
      if ((err = strv_push(&argv, (char *)*a)) < 0)
        goto nomem;
    if ((err = strv_push(&argv, (char *)module)) < 0)
      goto nomem;
  }
  for (const char *const *a = args; a && *a; a++)
    if ((err = strv_push(&argv, (char *)*a)) < 0)
      goto nomem;
  env_owned = build_env(&env, o->env, ipc,
                        o->serialization == CORD_SERIALIZATION_JSON       ? "json"
                        : o->serialization == CORD_SERIALIZATION_ADVANCED ? "advanced"
                                                                          : NULL);
  if ((err = env_owned) < 0) {
    env_owned = 0;
    goto nomem;
  }
  if ((err = build_cands(&cands, file, env.v)) < 0)
    goto nomem;

  pl.cands = cands.v;
  pl.argv = argv.v;
  pl.envp = env.v;
  pl.cwd = o->cwd;
  pl.set_uid = (o->flags & CORD_OPT_SETUID) != 0;
  pl.set_gid = (o->flags & CORD_OPT_SETGID) != 0;
  pl.uid = o->uid;
  pl.gid = o->gid;
  pl.new_session = (o->flags & CORD_OPT_DETACHED) != 0;
  if (pipe2(ep, O_CLOEXEC) < 0) {
    err = -errno;
    cord__spawn_errorf("pipe: %s", strerror(errno));
    goto fail;
  }
  /* The child arranges descriptors 0..nst-1; the error pipe must not sit
   * where one of them goes. */
  if (ep[1] < nst) {
    int moved = fcntl(ep[1], F_DUPFD_CLOEXEC, nst);
    if (moved < 0) {
      err = -errno;
      cord__spawn_errorf("fcntl: %s", strerror(errno));
      goto fail;
    }
    close(ep[1]);
    ep[1] = moved;
  }
  pl.errfd = ep[1];

  /* vfork(): the child borrows the parent's memory until it execs, so the
   * cost does not grow with the parent's size, unlike fork(), which copies
   * the page tables (about 30 ms from a parent holding 1 GiB). */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid = vfork_and_run(&pl);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    err = -errno;
    cord__spawn_errorf("vfork: %s", strerror(errno));
    goto fail;
  }

  close_fd(&ep[1]);
  close_fd(&sv[1]); /* spec CHAN-4 */
  for (int i = 0; i < nst; i++)
    close_fd(&child_end[i]);

  /* End of file: the exec succeeded and closed the write end. A report:
   * the child failed at some step and has exited. Under valgrind, which
   * turns vfork() into fork(), the read simply waits for one or the other. */
  do
    n = read(ep[0], &rep, sizeof rep);
  while (n < 0 && errno == EINTR);
  close_fd(&ep[0]);
  if (n != 0) {
    int status;
    if (n != (ssize_t)sizeof rep)
      rep = (report_t){STEP_EXEC, EIO};
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    err = -rep.err;
    if (rep.step == STEP_EXEC)
      cord__spawn_errorf("cannot run %s: %s", file, strerror(rep.err));
    else if (rep.step == STEP_CHDIR)
      cord__spawn_errorf("cannot change to directory %s: %s", o->cwd, strerror(rep.err));
    else if (rep.step == STEP_SETUID)
      cord__spawn_errorf("cannot set uid %u: %s", (unsigned)o->uid, strerror(rep.err));
    else if (rep.step == STEP_SETGID)
      cord__spawn_errorf("cannot set gid %u: %s", (unsigned)o->gid, strerror(rep.err));
    else
      cord__spawn_errorf("cannot start %s: %s failed: %s", file, step_name(rep.step), strerror(rep.err));
    goto fail;
  }

  p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (p->pidfd < 0 && errno == ENOSYS) {
    /* Kernels before 5.3, and valgrind, have no pidfd: the SDK then looks
     * for the exit with waitid() on the pid instead (see process.c). */
  } else if (p->pidfd < 0) {
    int status;
    err = -errno;
    cord__spawn_errorf("pidfd_open: %s", strerror(errno));
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    goto fail;
  }
  if (p->pidfd >= 0)
    fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
  fcntl(sv[0], F_SETFL, O_NONBLOCK); /* spec CHAN-5: only the parent's end */
  p->pid = pid;
  p->chan_fd = sv[0];
  free_vectors(&argv, &env, env_owned, &cands);
  return 0;

nomem:
  cord__spawn_errorf("out of memory");
  err = -ENOMEM;
fail:
  close_fd(&sv[0]);
  close_fd(&sv[1]);
  close_fd(&ep[0]);
  close_fd(&ep[1]);
  for (int i = 0; i < CORD_STDIO_MAX; i++) {
    close_fd(&child_end[i]);
    close_fd(&p->stdio[i]);
  }
  free_vectors(&argv, &env, env_owned, &cands);
  return err;
}
