/* test_node_handles.c: handles on Node.js's json and advanced channels against real Node.js: a listening socket to four workers, a socket from a child, UDP both ways, refusals, NACK. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "helpers.h"

static cord_arena_t A; /* values sent on the advanced channel */

static void spawn_node(cord_proc_t *c, cord_serialization_t mode, const char *id, const cord_options_t *base) {
  cord_options_t o = base ? *base : (cord_options_t){0};
  cord_event_t ev;
  const char *args[] = {id, NULL};
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  o.exec_path = CORD_TEST_NODE;
  o.serialization = mode;
  cr_assert_eq(cord_spawn(c, NODE_HANDLES_JS, args, &o), 0, "%s", cord_spawn_error());
  wait_for(c, &ev, CORD_EV_MESSAGE); /* {ready: id} */
}

/* Sends {key: value} (value an int, or a string when str is not NULL)
 * with one descriptor (fd >= 0) or none, in the child's serialization. */
static int send_kv(cord_proc_t *c, const char *key, const char *str, int num, int fd) {
  if (c->serialization == CORD_SERIALIZATION_JSON) {
    char text[128];
    if (str)
      snprintf(text, sizeof text, "{\"%s\":\"%s\"}", key, str);
    else
      snprintf(text, sizeof text, "{\"%s\":%d}", key, num);
    cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = text, .len = strlen(text), .fds = &fd, .nfds = fd >= 0};
    return cord_send(c, &m);
  }
  cord_value_t *o = cord_value_new(&A, CORD_VALUE_OBJECT);
  cord_value_put(&A, o, key, str ? cord_value_string(&A, str, strlen(str)) : cord_value_int32(&A, num));
  return cord_send_value(c, o, fd >= 0 ? &fd : NULL, fd >= 0);
}

/* Whether a message holds the member key with the value `want`, written
 * as JSON would (a string quoted, true, a number). */
static bool has_member(const cord_event_t *ev, const char *key, const char *want) {
  char text[160];
  if (ev->payload == CORD_PAYLOAD_JSON) {
    snprintf(text, sizeof text, "\"%s\":%s", key, want);
    return memmem(ev->data, ev->len, text, strlen(text)) != NULL;
  }
  const cord_value_t *v = cord_value_get(ev->value, key);
  if (!v)
    return false;
  if (v->type == CORD_VALUE_STRING)
    snprintf(text, sizeof text, "\"%s\"", v->u.string.ptr);
  else if (v->type == CORD_VALUE_BOOL)
    snprintf(text, sizeof text, "%s", v->u.boolean ? "true" : "false");
  else if (v->type == CORD_VALUE_INT32)
    snprintf(text, sizeof text, "%d", v->u.int32);
  else
    return false;
  return strcmp(text, want) == 0;
}

/* The next MESSAGE must hold key: want; its descriptor, if any, goes to
 * *fd (-1: none), and without fd there must be none. */
static void expect_msg(cord_proc_t *c, const char *key, const char *want, int *fd) {
  cord_event_t ev;
  wait_for(c, &ev, CORD_EV_MESSAGE);
  cr_expect(has_member(&ev, key, want), "no %s: %s in [%.*s]", key, want, (int)ev.len, (const char *)ev.data);
  if (fd)
    *fd = ev.nfds ? ev.fds[0] : -1;
  else
    cr_expect_eq(ev.nfds, 0);
}

static int tcp_listener(int *port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq(s, 0);
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(s, 16), 0);
  cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return s;
}

/* Reads one line from fd, within WAIT_MS. */
static void read_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n + 1 < cap) {
    struct pollfd pf = {fd, POLLIN, 0};
    cr_assert_eq(poll(&pf, 1, WAIT_MS), 1, "nothing came through the socket");
    ssize_t r = read(fd, buf + n, 1);
    cr_assert_eq(r, 1, "the socket ended after %zu bytes", n);
    if (buf[n++] == '\n')
      break;
  }
  buf[n] = '\0';
}

static void four_workers(cord_serialization_t mode) {
  cord_proc_t w[4];
  char id[4][8], line[64], want[40];
  int port, lst = tcp_listener(&port), seen[4] = {0};
  cord_arena_init(&A, 0);
  for (int i = 0; i < 4; i++) {
    snprintf(id[i], sizeof id[i], "%d", i + 1);
    spawn_node(&w[i], mode, id[i], NULL);
    /* As cluster's primary does: the same server to every worker, which
     * gets it as process.on('message', (m, server) => ...). */
    cr_assert_eq(send_kv(&w[i], "listen", NULL, 1, lst), 0, "%s", cord_proc_detail(&w[i]));
    snprintf(want, sizeof want, "\"%s\"", id[i]);
    cord_event_t ev;
    wait_for(&w[i], &ev, CORD_EV_MESSAGE);
    cr_expect(has_member(&ev, "listening", want) && has_member(&ev, "server", "true"), "[%.*s]", (int)ev.len,
              (const char *)ev.data);
  }
  close(lst); /* the workers hold it now */
  /* Each worker takes one connection and stops accepting, so four
   * connections in turn reach four different workers. */
  for (int i = 0; i < 4; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    read_line(s, line, sizeof line);
    int k = atoi(line + strlen("worker "));
    cr_assert(k >= 1 && k <= 4 && !seen[k - 1], "connection %d: [%s]", i, line);
    seen[k - 1] = 1;
    close(s);
  }
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(cord_disconnect(&w[i]), 0);
    cr_expect_eq(run_to_close(&w[i]), 0);
    cord_proc_close(&w[i]);
  }
  cord_arena_free(&A);
}

Test(node_handles, a_listening_socket_to_four_workers_json, .timeout = 120) { four_workers(CORD_SERIALIZATION_JSON); }
Test(node_handles, a_listening_socket_to_four_workers_advanced, .timeout = 120) {
  four_workers(CORD_SERIALIZATION_ADVANCED);
}

static void socket_from_child(cord_serialization_t mode) {
  cord_proc_t c;
  char line[64];
  int fd;
  cord_arena_init(&A, 0);
  spawn_node(&c, mode, "1", NULL);
  cr_assert_eq(send_kv(&c, "cmd", "give-socket", 0, -1), 0);
  /* process.send({socket: 'here'}, socket): the message, with the socket. */
  expect_msg(&c, "socket", "\"here\"", &fd);
  cr_assert_geq(fd, 0, "the socket came with its message");
  /* It is the connection: what Node's client wrote comes out of it, and
   * what C writes reaches that client. */
  read_line(fd, line, sizeof line);
  cr_expect_str_eq(line, "from node\n");
  cr_assert_eq(write(fd, "from C\n", 7), 7);
  expect_msg(&c, "client_got", mode == CORD_SERIALIZATION_JSON ? "\"from C\\n\"" : "\"from C\n\"", NULL);
  close(fd);
  cr_assert_eq(cord_disconnect(&c), 0);
  cr_expect_eq(run_to_close(&c), 0);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

Test(node_handles, a_socket_from_a_node_child_json, .timeout = 60) { socket_from_child(CORD_SERIALIZATION_JSON); }
Test(node_handles, a_socket_from_a_node_child_advanced, .timeout = 60) {
  socket_from_child(CORD_SERIALIZATION_ADVANCED);
}

Test(node_handles, udp_both_ways, .timeout = 60) {
  cord_proc_t c;
  cord_event_t ev;
  char buf[64];
  int fd;
  spawn_node(&c, CORD_SERIALIZATION_JSON, "7", NULL);
  /* Node -> C: a dgram.Socket arrives as the UDP socket it is. */
  cr_assert_eq(send_kv(&c, "cmd", "give-udp", 0, -1), 0);
  wait_for(&c, &ev, CORD_EV_MESSAGE);
  cr_assert_eq(ev.nfds, 1);
  fd = ev.fds[0];
  struct pollfd pf = {fd, POLLIN, 0};
  cr_assert_eq(poll(&pf, 1, WAIT_MS), 1);
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  cr_expect_eq(n, 13);
  cr_expect_arr_eq(buf, "to the parent", 13);
  close(fd);

  /* C -> Node: a UDP socket goes as a dgram.Socket, which Node sends from. */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  int mine = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), theirs = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  cr_assert_eq(bind(mine, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(bind(theirs, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(getsockname(mine, (struct sockaddr *)&a, &alen), 0);
  cr_assert_eq(send_kv(&c, "udp", NULL, ntohs(a.sin_port), theirs), 0, "%s", cord_proc_detail(&c));
  close(theirs);
  expect_msg(&c, "dgram", "true", NULL);
  pf.fd = mine;
  cr_assert_eq(poll(&pf, 1, WAIT_MS), 1);
  n = recv(mine, buf, sizeof buf, 0);
  cr_expect_eq(n, 5);
  cr_expect_arr_eq(buf, "udp 7", 5);
  close(mine);
  cord_proc_close(&c);
}

static void refused(cord_serialization_t mode) {
  cord_proc_t c;
  cord_event_t ev;
  cord_options_t o = {0};
  cord_stdio_t io[4] = {{CORD_STDIO_PIPE, 0}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_INHERIT, 0}, {CORD_STDIO_IPC, 0}};
  int before = count_fds();
  cord_arena_init(&A, 0);
  o.stdio = io;
  o.stdio_count = 4;
  spawn_node(&c, mode, "1", &o);
  /* process.send(msg, process.stdin): a net.Socket whose descriptor is a
   * pipe, no socket: refused with NACK, told as an ERROR, and the message
   * still delivered. */
  cr_assert_eq(send_kv(&c, "cmd", "give-stdin", 0, -1), 0);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EUNSUPPORTED);
  cr_expect(strstr(ev.detail, "net.Socket") && strstr(ev.detail, "NACK"), "%s", ev.detail);
  expect_msg(&c, "refused", "\"stdin\"", NULL);
  /* After a NACK Node.js sends a net.Socket again, three times
   * (MAX_HANDLE_RETRANSMISSIONS in lib/internal/child_process.js), each
   * time wrapped once more: each is an ERROR, none the message again. */
  int errors = 0;
  for (;;) {
    cr_assert_eq(cord_wait(&c, &ev, WAIT_MS), 1);
    if (ev.type == CORD_EV_ERROR) {
      cr_expect_eq(ev.error, CORD_EUNSUPPORTED, "%s", ev.detail);
      errors++;
      continue;
    }
    cr_assert_eq(ev.type, CORD_EV_MESSAGE);
    cr_expect(has_member(&ev, "after", "\"stdin\""), "[%.*s]", (int)ev.len, (const char *)ev.data);
    break;
  }
  cr_expect_eq(errors, 3);
  cr_assert_eq(cord_disconnect(&c), 0);
  run_to_close(&c);
  cord_proc_close(&c);
  cr_expect_eq(count_fds(), before, "every refused descriptor was closed");
  cord_arena_free(&A);
}

Test(node_handles, a_refused_handle_is_an_event_and_its_message_arrives_json, .timeout = 60) {
  refused(CORD_SERIALIZATION_JSON);
}
Test(node_handles, a_refused_handle_is_an_event_and_its_message_arrives_advanced, .timeout = 60) {
  refused(CORD_SERIALIZATION_ADVANCED);
}

static void nack(cord_serialization_t mode) {
  cord_proc_t c;
  cord_event_t ev;
  int port, lst = tcp_listener(&port);
  cord_arena_init(&A, 0);
  spawn_node(&c, mode, "1", NULL);
  /* A child with every descriptor taken cannot receive a handle: Node.js
   * answers NODE_HANDLE_NACK, and drops the message. */
  cr_assert_eq(send_kv(&c, "cmd", "fill-fds", 0, -1), 0);
  expect_msg(&c, "full", "\"EMFILE\"", NULL);
  cr_assert_eq(send_kv(&c, "listen", NULL, 1, lst), 0, "%s", cord_proc_detail(&c));
  close(lst);
  /* Queued behind the handle: written only once the child has answered. */
  cr_assert_eq(send_kv(&c, "after", "nack", 0, -1), 0);
  wait_for(&c, &ev, CORD_EV_ERROR);
  cr_expect_eq(ev.error, CORD_EUNSUPPORTED);
  cr_expect(strstr(ev.detail, "NODE_HANDLE_NACK") != NULL, "%s", ev.detail);
  /* The child frees its descriptors on that message, and echoes it. */
  expect_msg(&c, "after", "\"nack\"", NULL);
  cr_assert_eq(cord_disconnect(&c), 0);
  run_to_close(&c);
  cord_proc_close(&c);
  cord_arena_free(&A);
}

Test(node_handles, nack_from_node_is_an_event_json, .timeout = 60) { nack(CORD_SERIALIZATION_JSON); }
Test(node_handles, nack_from_node_is_an_event_advanced, .timeout = 60) { nack(CORD_SERIALIZATION_ADVANCED); }

Test(node_handles, what_node_cannot_take_is_refused_here, .timeout = 60) {
  cord_proc_t c;
  int p[2], two[2];
  cr_assert_eq(pipe(p), 0);
  spawn_node(&c, CORD_SERIALIZATION_JSON, "1", NULL);
  /* A pipe is no handle (Node.js would abort on a file, and NACK this). */
  cr_expect_eq(send_kv(&c, "x", NULL, 1, p[0]), CORD_ENODE);
  cr_expect(strstr(cord_proc_detail(&c), "no socket") != NULL, "%s", cord_proc_detail(&c));
  /* One handle per message. */
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, two), 0);
  cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = "1", .len = 1, .fds = two, .nfds = 2};
  cr_expect_eq(cord_send(&c, &m), CORD_ETOOBIG);
  /* And a value does not go on the json binding. */
  cord_arena_init(&A, 0);
  cr_expect_eq(cord_send_value(&c, cord_value_int32(&A, 1), NULL, 0), CORD_ENODE);
  cord_arena_free(&A);
  close(p[0]), close(p[1]), close(two[0]), close(two[1]);
  cord_proc_close(&c);
}

Test(node_handles, flush_writes_what_waits_for_the_answer, .timeout = 60) {
  cord_proc_t c;
  int port, lst = tcp_listener(&port);
  spawn_node(&c, CORD_SERIALIZATION_JSON, "1", NULL);
  /* The message behind a handle waits for the child's answer; cord_flush()
   * reads that answer, ahead of the events before it, and writes it. */
  cr_assert_eq(send_kv(&c, "listen", NULL, 1, lst), 0);
  cr_assert_eq(send_kv(&c, "after", "flush", 0, -1), 0);
  cr_assert_eq(cord_flush(&c, WAIT_MS), 0);
  close(lst);
  /* The events come as they arrived. */
  expect_msg(&c, "server", "true", NULL);
  expect_msg(&c, "after", "\"flush\"", NULL);
  cr_assert_eq(cord_disconnect(&c), 0);
  run_to_close(&c);
  cord_proc_close(&c);
}
