/* node_peer.h: what the Node.js binding's tests share: a real Node.js child on its own channel, started without the SDK. */
#ifndef CORD_TEST_NODE_PEER_H
#define CORD_TEST_NODE_PEER_H

#include <sys/socket.h>
#include <sys/wait.h>

#include "helpers.h"

/* Starts `script` under node as a child on a Node.js channel of `mode`
 * ("json" or "advanced") at its descriptor 3, with its standard output
 * on out_fd (-1: inherited); *sock is the parent's end. Returns the pid.
 * The test is skipped when there is no node. */
static inline pid_t spawn_node_peer(const char *script, const char *mode, int out_fd, int *sock) {
  int sv[2];
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(sv[1], 3);
    if (out_fd >= 0)
      dup2(out_fd, 1);
    setenv("NODE_CHANNEL_FD", "3", 1);
    setenv("NODE_CHANNEL_SERIALIZATION_MODE", mode, 1);
    execl(CORD_TEST_NODE, CORD_TEST_NODE, script, (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  *sock = sv[0];
  return pid;
}

/* Waits for the peer and expects it to have exited with status 0. */
static inline void expect_node_exit_0(pid_t pid) {
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node exited with %d", st);
}

#endif
