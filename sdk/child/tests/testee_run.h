/* testee_run.h: starts a real child program on a channel at descriptor 3, as a Cord parent does. */
#ifndef TESTEE_RUN_H
#define TESTEE_RUN_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Forks and execs path with its channel at descriptor 3 and
 * CORD_CHANNEL_FD=3; returns the parent's end, the pid in *pid. */
static inline int run_child(const char *path, pid_t *pid) {
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  *pid = fork();
  cr_assert_geq(*pid, 0);
  if (*pid == 0) {
    char *argv[] = {(char *)path, NULL};
    char *envp[] = {"CORD_CHANNEL_FD=3", "PATH=/usr/bin:/bin", NULL};
    if (dup2(sv[1], 3) != 3)
      _exit(127);
    execve(path, argv, envp);
    _exit(127);
  }
  close(sv[1]);
  return sv[0];
}

/* Reaps the child; returns its exit status, or 128 + signal. */
static inline int reap(pid_t pid) {
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif /* TESTEE_RUN_H */
