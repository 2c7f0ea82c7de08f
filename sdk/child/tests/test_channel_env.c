/* test_channel_env.c: the child finds its channel as CHAN-6..CHAN-9 and NODE-2..NODE-3 say, and refuses anything else. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_parent.h"

static cord_chan_t ch;

static void no_channel_env(void) {
  unsetenv("CORD_CHANNEL_FD");
  unsetenv("NODE_CHANNEL_FD");
  unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
}

/* Opens with CORD_CHANNEL_FD=value and expects CORD_ENOCHANNEL with a
 * detail that names the variable, the value and the failed check. */
static void refused(const char *var, const char *value, const char *why) {
  char want[128];
  no_channel_env();
  setenv(var, value, 1);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_ENOCHANNEL, "%s=%s", var, value);
  snprintf(want, sizeof want, "%s=%s: %s", var, value, why);
  cr_expect_str_eq(cord_chan_detail(&ch), want);
  cr_expect_null(getenv(var), "the variable must be removed even when refused");
  cr_expect_eq(cord_chan_fd(&ch), -1);
  cr_expect_eq(cord_chan_close(&ch), 0);
}

Test(channel_env, no_variable_is_no_channel, .timeout = 10) {
  no_channel_env();
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_ENOCHANNEL);
  cr_expect(strstr(cord_chan_detail(&ch), "Cord child") && strstr(cord_chan_detail(&ch), "Cord parent"),
            "CHAN-7 asks for a line saying it is a Cord child for a Cord parent: [%s]",
            cord_chan_detail(&ch));
}

Test(channel_env, not_a_number, .timeout = 10) {
  refused("CORD_CHANNEL_FD", "abc", "not a number");
  refused("CORD_CHANNEL_FD", "", "not a number");
  refused("CORD_CHANNEL_FD", "3x", "not a number");
  refused("CORD_CHANNEL_FD", "-3", "not a number");
  refused("CORD_CHANNEL_FD", " 3", "not a number");
  refused("CORD_CHANNEL_FD", "99999999999999999999", "not a number");
}

Test(channel_env, not_an_open_descriptor, .timeout = 10) {
  int fd = open("/dev/null", O_RDONLY);
  char num[16];
  close(fd);
  snprintf(num, sizeof num, "%d", fd);
  refused("CORD_CHANNEL_FD", num, "not open");
}

Test(channel_env, not_a_unix_stream_socket, .timeout = 10) {
  int p[2], sv[2], in;
  char num[16];
  cr_assert_eq(pipe(p), 0);
  snprintf(num, sizeof num, "%d", p[0]);
  refused("CORD_CHANNEL_FD", num, "not an AF_UNIX stream socket");
  cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  snprintf(num, sizeof num, "%d", sv[0]);
  refused("CORD_CHANNEL_FD", num, "not an AF_UNIX stream socket");
  in = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(in, 0);
  snprintf(num, sizeof num, "%d", in);
  refused("CORD_CHANNEL_FD", num, "not an AF_UNIX stream socket");
  /* A refused descriptor is not used, and stays the program's. */
  cr_expect(fp_is_open(p[0]) && fp_is_open(sv[0]) && fp_is_open(in));
}

Test(channel_env, accepted_channel_is_hidden_and_cloexec, .timeout = 10) {
  int c, p = fp_channel(0, &c);
  setenv("NODE_CHANNEL_FD", "99", 1); /* both set: Cord wins, both go [CHAN-9] */
  setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
  fp_hello(p);
  cr_assert_eq(fcntl(c, F_GETFD) & FD_CLOEXEC, 0, "the parent placed it inheritable");
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), 0);
  cr_expect_eq(cord_chan_fd(&ch), c);
  cr_expect_neq(fcntl(c, F_GETFD) & FD_CLOEXEC, 0, "CHAN-6: close-on-exec");
  cr_expect_null(getenv("CORD_CHANNEL_FD"));
  cr_expect_null(getenv("NODE_CHANNEL_FD"));
  cr_expect_null(getenv("NODE_CHANNEL_SERIALIZATION_MODE"));
  cr_expect_eq(cord_chan_is_node(&ch), 0, "CORD_CHANNEL_FD wins over NODE_CHANNEL_FD");
  fp_free(fp_expect(p, CORD__V1__FRAME__BODY_HELLO));
  cr_expect_eq(cord_chan_close(&ch), 0);
  cr_expect_eq(fp_is_open(c), 0, "close closes the channel");
}

Test(channel_env, node_binding_needs_json, .timeout = 10) {
  int c;
  fp_channel(1, &c);
  setenv("NODE_CHANNEL_SERIALIZATION_MODE", "advanced", 1);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, 0), CORD_ENOCHANNEL);
  cr_expect_str_eq(cord_chan_detail(&ch), "NODE_CHANNEL_SERIALIZATION_MODE=advanced: not json");
  cr_expect_null(getenv("NODE_CHANNEL_FD"));
  cr_expect_null(getenv("NODE_CHANNEL_SERIALIZATION_MODE"));
}

Test(channel_env, node_binding_can_be_refused, .timeout = 10) {
  fp_channel(1, NULL);
  cr_assert_eq(fp_child_open(&ch, 1024, 1024, 0, CORD_CHAN_F_NO_NODE), CORD_ENOCHANNEL);
}

Test(channel_env, bad_configuration, .timeout = 10) {
  int p = fp_channel(0, NULL);
  cr_expect_eq(fp_child_open(&ch, 255, 1024, 0, 0), -EINVAL, "a receive buffer under 256 bytes");
  cr_expect_eq(fp_child_open(&ch, 1024, 255, 0, 0), -EINVAL, "a transmit buffer under 256 bytes");
  cr_expect_eq(fp_child_open(&ch, 1024, 1024, 0, 1u << 7), -EINVAL, "an unknown flag");
  cr_expect_str_eq(getenv("CORD_CHANNEL_FD") ? "set" : "gone", "set", "a bad cfg touches nothing");
  (void)p;
}

/* The exit helper ends the process with status 64, as CHAN-7 asks. */
Test(channel_env, open_or_exit_exits_64, .exit_code = 64, .timeout = 10) {
  cord_chan_cfg_t cfg = {.rx = fp_rx, .rx_len = 256, .tx = fp_tx, .tx_len = 256};
  no_channel_env();
  cord_chan_open_or_exit(&ch, &cfg, "test");
}

/* A real child, started without a channel: one line on stderr, status 64. */
static void run_alone(const char *path) {
  int err[2], status;
  char line[512] = "";
  pid_t pid;
  cr_assert_eq(pipe(err), 0);
  pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    char *argv[] = {(char *)path, NULL}, *envp[] = {"PATH=/usr/bin:/bin", NULL};
    dup2(err[1], 2);
    execve(path, argv, envp);
    _exit(127);
  }
  close(err[1]);
  ssize_t n = 0, k;
  while ((k = read(err[0], line + n, sizeof line - 1 - (size_t)n)) > 0)
    n += k;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 64, "%s: status %d", path, status);
  cr_assert_gt(n, 0);
  cr_expect_eq(strchr(line, '\n'), line + n - 1, "exactly one line: [%s]", line);
  cr_expect(strstr(line, "Cord parent"), "[%s]", line);
}

Test(channel_env, children_without_parent_exit_64, .timeout = 20) {
  run_alone(CORD_ECHO);
  run_alone(CORD_TESTEE);
  run_alone(CORD_TESTEE_TINY);
  run_alone(CORD_WORKER);
}
