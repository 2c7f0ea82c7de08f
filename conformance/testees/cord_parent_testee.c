/* cord_parent_testee.c: the conformance testee of the C parent SDK: starts the child it is given and follows the testee contract. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord.h"

/*
 * Usage: cord-parent-testee CHILD-COMMAND [ARG...]
 * See conformance/README.md, "The testee contract" (T-1 to T-6): it echoes
 * data, carries out commands, and prints how the child ended.
 */

#define COMMAND_TYPE "cord.conformance.Command"
#define MAX_PENDING 64

/* Commands whose reply waits for something: a held request (until its
 * Cancel), a request of ours (until its reply), a ping (until its Pong). */
typedef struct {
  uint64_t command_id; /* the child's request to answer */
  uint64_t waiting_for; /* our request id or ping nonce */
  char what;            /* 'h' hold, 'r' request, 'p' ping */
} pending_t;

static pending_t pending[MAX_PENDING];
static cord_proc_t child;
static int json_binding, advanced_binding;

/* A reply with a status the SDK refuses to send (spec ERR-2) goes as FAILED (T-3). */
static void reply_status(uint64_t id, uint32_t status, const cord_msg_t *m) {
  if (cord_reply(&child, id, status, m) == -EINVAL)
    cord_reply(&child, id, 1012, NULL);
}

/* Spec REQ-10: before its own Goodbye the testee answers every command it
 * still holds, CANCELLED. */
static void cancel_pending(void) {
  for (int i = 0; i < MAX_PENDING; i++)
    if (pending[i].what) {
      cord_reply(&child, pending[i].command_id, 1009, NULL);
      pending[i].what = 0;
    }
}

static void add_pending(char what, uint64_t cmd, uint64_t waiting_for) {
  for (int i = 0; i < MAX_PENDING; i++)
    if (!pending[i].what) {
      pending[i] = (pending_t){cmd, waiting_for, what};
      return;
    }
  cord_reply(&child, cmd, 1012, NULL); /* FAILED: too many at once */
}

static pending_t *find_pending(char what, uint64_t key, int by_command) {
  for (int i = 0; i < MAX_PENDING; i++)
    if (pending[i].what == what && (by_command ? pending[i].command_id : pending[i].waiting_for) == key)
      return &pending[i];
  return NULL;
}

static void send_numbered(int n, const char *kind) {
  for (int i = 1; i <= n; i++) {
    char text[64];
    cord_msg_t m = {0};
    if (!strcmp(kind, "json")) {
      m.payload = CORD_PAYLOAD_JSON;
      m.len = (size_t)snprintf(text, sizeof text, "{\"i\":%d}", i);
    } else {
      m.payload = !strcmp(kind, "typed") ? CORD_PAYLOAD_TYPED : CORD_PAYLOAD_RAW;
      m.type_name = "cord.conformance.Seq";
      m.len = (size_t)snprintf(text, sizeof text, "%d", i);
    }
    m.data = text;
    if (advanced_binding) {
      /* {i: N} as a value, which is all the advanced channel carries. */
      cord_arena_t arena;
      int r = -1;
      cord_arena_init(&arena, 0);
      cord_value_t *v = cord_value_new(&arena, CORD_VALUE_OBJECT);
      if (v && cord_value_put(&arena, v, "i", cord_value_int32(&arena, i)) == 0)
        r = cord_send_value(&child, v, NULL, 0);
      cord_arena_free(&arena);
      if (r < 0)
        return;
      continue;
    }
    /* Queue past the high-water mark too: the flush below writes it out. */
    if (cord_send(&child, &m) < 0)
      return;
  }
}

/* On a Node.js binding, a message {"done":WORD} after a command: a JSON
 * text on json, its value on advanced. */
static void send_node(const char *json, const cord_value_t *value, int fd) {
  if (advanced_binding)
    cord_send_value(&child, value, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
  else {
    cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = json, .len = strlen(json), .fds = &fd, .nfds = fd >= 0};
    cord_send(&child, &m);
  }
}

/* `handle listen` (Node.js bindings): a listening TCP socket on 127.0.0.1,
 * port 0, passed as a net.Server handle with {"handle":"listen","port":P}.
 * The SDK duplicates the descriptor, so this copy is closed at once. */
static void handle_listen(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  cord_arena_t arena;
  char json[64];
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
    if (fd >= 0)
      close(fd);
    return;
  }
  snprintf(json, sizeof json, "{\"handle\":\"listen\",\"port\":%u}", ntohs(a.sin_port));
  cord_arena_init(&arena, 0);
  cord_value_t *v = cord_value_new(&arena, CORD_VALUE_OBJECT);
  if (v && cord_value_put(&arena, v, "handle", cord_value_string(&arena, "listen", 6)) == 0 &&
      cord_value_put(&arena, v, "port", cord_value_int32(&arena, ntohs(a.sin_port))) == 0)
    send_node(json, v, fd);
  cord_arena_free(&arena);
  close(fd);
}

/* Carries out one command; `id` is its request (0 on the Node.js bindings). */
static void command(uint64_t id, const char *text, size_t len) {
  char buf[256], word[32] = "", arg[64] = "";
  int n;
  if (len >= sizeof buf)
    len = sizeof buf - 1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  n = sscanf(buf, "%31s %63s", word, arg);
  if (n < 1)
    word[0] = '\0';

  if (!strcmp(word, "send")) {
    char kind[16] = "json";
    int count = 0;
    sscanf(buf, "send %d %15s", &count, kind);
    send_numbered(count, kind);
  } else if (!strcmp(word, "request") && id) {
    cord_msg_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
    uint64_t rid;
    if (cord_request(&child, &q, &rid) == 0)
      add_pending('r', id, rid);
    else
      cord_reply(&child, id, 1011, NULL); /* refused: REQ-11 */
    return;
  } else if (!strcmp(word, "hold") && id) {
    add_pending('h', id, 0);
    return;
  } else if (!strcmp(word, "fail") && id) {
    reply_status(id, (uint32_t)strtoul(arg, NULL, 10), NULL);
    return;
  } else if (!strcmp(word, "ping") && id) {
    uint64_t nonce;
    if (cord_ping(&child, &nonce) == 0)
      add_pending('p', id, nonce);
    else
      cord_reply(&child, id, 1011, NULL); /* refused: PING-5 */
    return;
  } else if (!strcmp(word, "handle") && !id && !strcmp(arg, "listen")) {
    handle_listen();
  } else if (!strcmp(word, "goodbye")) {
    if (id)
      cord_reply(&child, id, 0, NULL);
    cancel_pending();
    cord_stop(&child); /* Goodbye(SHUTDOWN), then spec END-9 */
    return;
  } else {
    if (id)
      cord_reply(&child, id, 1010, NULL); /* UNSUPPORTED, `env` and `exit` too */
    return;
  }
  if (id)
    cord_reply(&child, id, 0, NULL);
  else {
    char done[64];
    cord_arena_t arena;
    snprintf(done, sizeof done, "{\"done\":\"%s\"}", word);
    cord_arena_init(&arena, 0);
    cord_value_t *v = cord_value_new(&arena, CORD_VALUE_OBJECT);
    if (v && cord_value_put(&arena, v, "done", cord_value_string(&arena, word, strlen(word))) == 0)
      send_node(done, v, -1);
    cord_arena_free(&arena);
  }
}

/* On the json binding a command is {"conformance":"..."}: found by a
 * narrow scan, enough for the suite's own messages. */
static int json_command(const cord_event_t *ev, const char **text, size_t *len) {
  static const char key[] = "{\"conformance\":\"";
  const char *d = ev->data;
  if (ev->len < sizeof key || memcmp(d, key, sizeof key - 1) != 0)
    return 0;
  const char *end = memchr(d + sizeof key - 1, '"', ev->len - (sizeof key - 1));
  if (!end)
    return 0;
  *text = d + sizeof key - 1;
  *len = (size_t)(end - *text);
  return 1;
}

/* On the advanced binding a command is the value {conformance: "..."}. */
static int value_command(const cord_event_t *ev, const char **text, size_t *len) {
  const cord_value_t *c = ev->value ? cord_value_get(ev->value, "conformance") : NULL;
  if (!c || c->type != CORD_VALUE_STRING)
    return 0;
  *text = c->u.string.ptr;
  *len = c->u.string.len;
  return 1;
}

static void on_message(const cord_event_t *ev) {
  const char *text;
  size_t len;
  cord_msg_t m = {.payload = ev->payload, .type_name = ev->type_name, .data = ev->data, .len = ev->len,
                  .fds = ev->fds, .nfds = ev->nfds};
  /* A command is a request; a one-way message is data, whatever its type. */
  if (ev->id && ev->payload == CORD_PAYLOAD_TYPED && !strcmp(ev->type_name, COMMAND_TYPE)) {
    if (!strncmp(ev->data, "fds", 3) && ev->len == 3) {
      cord_msg_t back = {.fds = ev->fds, .nfds = ev->nfds};
      cord_reply(&child, ev->id, 0, &back); /* no payload, the same descriptors */
      return;
    }
    command(ev->id, ev->data, ev->len);
    return;
  }
  if ((json_binding && json_command(ev, &text, &len)) || (advanced_binding && value_command(ev, &text, &len))) {
    command(0, text, len);
    return;
  }
  if (advanced_binding) {
    cord_send_value(&child, ev->value, ev->fds, ev->nfds); /* T-2, with the handle that came */
    return;
  }
  if (ev->id) {
    /* T-1: the same payload and descriptors, or FAILED when it would not fit the child. */
    if (cord_reply(&child, ev->id, 0, &m) == CORD_ETOOBIG)
      cord_reply(&child, ev->id, 1012, NULL);
  } else
    cord_send(&child, &m); /* T-2 */
}

int main(int argc, char **argv) {
  cord_options_t o = {0};
  const char *binding = getenv("CORD_CONFORMANCE_BINDING");
  int status = 0;

  if (argc < 2) {
    fprintf(stderr, "usage: cord-parent-testee CHILD-COMMAND [ARG...]\n");
    return 1;
  }
  /* T-6: the Hello wait (spec HELLO-12) and the grace period (END-9) the contract sets. */
  o.hello_timeout_ms = 10000;
  o.grace_ms = 5000;
  json_binding = binding && !strcmp(binding, "json");
  advanced_binding = binding && !strcmp(binding, "advanced");
  if (json_binding)
    o.serialization = CORD_SERIALIZATION_JSON;
  if (advanced_binding)
    o.serialization = CORD_SERIALIZATION_ADVANCED;
  if (cord_spawn(&child, argv[1], (const char *const *)argv + 2, &o) < 0) {
    fprintf(stderr, "cord-parent-testee: %s\n", cord_spawn_error());
    return 1;
  }
  for (;;) {
    cord_event_t ev;
    pending_t *p;
    int r = cord_wait(&child, &ev, -1);
    if (r != 1)
      break;
    switch (ev.type) {
    case CORD_EV_MESSAGE:
      on_message(&ev);
      break;
    case CORD_EV_REPLY:
      if ((p = find_pending('r', ev.id, 0)) != NULL) {
        cord_msg_t m = {.payload = ev.payload, .type_name = ev.type_name, .data = ev.data, .len = ev.len};
        /* T-3: the reply's status and payload, or CLOSED when none can come. */
        if (ev.error)
          cord_reply(&child, p->command_id, 1011, NULL);
        else
          reply_status(p->command_id, ev.status, &m);
        p->what = 0;
      }
      break;
    case CORD_EV_CANCEL:
      if ((p = find_pending('h', ev.id, 1)) != NULL) {
        cord_reply(&child, ev.id, 1009, NULL);
        p->what = 0;
      }
      break;
    case CORD_EV_PONG:
      if ((p = find_pending('p', ev.id, 0)) != NULL) {
        /* Spec PING-7: no Pong can come once the child's direction has ended. */
        cord_reply(&child, p->command_id, ev.error ? 1011 : 0, NULL);
        p->what = 0;
      }
      break;
    case CORD_EV_EXIT:
      status = ev.exit_status;
      if (ev.exit_status >= 0)
        printf("exit %d\n", ev.exit_status);
      else
        printf("signal %d\n", ev.term_signal);
      break;
    case CORD_EV_CLOSE:
      fflush(stdout);
      cord_proc_close(&child);
      return 0;
    default:
      break;
    }
    for (unsigned i = 0; i < ev.nfds; i++)
      close(ev.fds[i]);
  }
  (void)status;
  cord_proc_close(&child);
  return 1;
}
