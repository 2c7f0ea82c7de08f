/* cord_child_testee.c: the conformance testee of libcord-child, the child side of conformance/README.md. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord_child.h"

/* The default testee takes 64 KiB frames; the tiny one is built with
 * TESTEE_RX=256, the smallest receive buffer the spec allows. The transmit
 * buffer is a little larger, so that an echo of the largest frame the
 * testee accepts still fits. */
#ifndef TESTEE_RX
#define TESTEE_RX 65536
#endif
#define TESTEE_TX (TESTEE_RX + 64)
#define SLOTS 8

CORD_CHAN_BUFFER(rx, TESTEE_RX);
CORD_CHAN_BUFFER(tx, TESTEE_TX);

static cord_chan_t ch;
#ifndef CORD_CHILD_NO_FDS
static int fdq[CORD_CHILD_MAX_FDS];
#endif

/* Commands waiting for something: `hold` for its Cancel, `ping` for its
 * Pong, `request` for the reply to the request it sent. */
static struct {
  uint64_t cmd;   /* the command's request id; 0 = free */
  uint64_t wait;  /* own request id (request), or the nonce (ping) */
  char what;      /* 'h', 'p' or 'r' */
} waiting[SLOTS];

static void keep(uint64_t cmd, uint64_t wait, char what) {
  for (int i = 0; i < SLOTS; i++)
    if (!waiting[i].cmd) {
      waiting[i].cmd = cmd;
      waiting[i].wait = wait;
      waiting[i].what = what;
      return;
    }
  /* No room: answered at once rather than never (spec REQ-2). */
  cord_chan_out_t e = {.status = (uint32_t)-CORD_EFAILED};
  cord_chan_reply(&ch, cmd, &e);
}

static int find(char what, uint64_t key, int by_cmd) {
  for (int i = 0; i < SLOTS; i++)
    if (waiting[i].cmd && waiting[i].what == what && (by_cmd ? waiting[i].cmd : waiting[i].wait) == key)
      return i;
  return -1;
}

/* Replies, or, when the reply itself cannot go (too big for the parent),
 * still answers exactly once with FAILED. */
static void answer(uint64_t id, const cord_chan_out_t *o) {
  cord_chan_out_t e = {.status = (uint32_t)-CORD_EFAILED};
  int r = cord_chan_reply(&ch, id, o);
  if (r == CORD_ETOOBIG || r == -EINVAL)
    cord_chan_reply(&ch, id, &e);
}

/* Answers every command still waiting: `hold` with CANCELLED, `ping` and
 * `request`, whose answers can no longer come, with `other`. */
static void answer_waiting(uint32_t other) {
  for (int i = 0; i < SLOTS; i++)
    if (waiting[i].cmd) {
      answer(waiting[i].cmd, &(cord_chan_out_t){.status = waiting[i].what == 'h' ? (uint32_t)-CORD_ECANCELLED : other});
      waiting[i].cmd = 0;
    }
}

static int channel_env(void) {
  extern char **environ;
  for (char **e = environ; *e; e++)
    if (!strncmp(*e, "CORD_CHANNEL_FD=", 16) || !strncmp(*e, "NODE_CHANNEL_", 13))
      return 1;
  return 0;
}

/* The `env` command's result. */
static int env_json(char *buf, size_t cap) {
  int cloexec = (fcntl(cord_chan_fd(&ch), F_GETFD) & FD_CLOEXEC) != 0;
  return snprintf(buf, cap, "{\"channel_env\":%s,\"cloexec\":%s}", channel_env() ? "true" : "false",
                  cloexec ? "true" : "false");
}

/* `send N KIND`: N one-way messages numbered 1..N. */
static void send_seq(unsigned long n, const char *kind) {
  for (unsigned long i = 1; i <= n; i++) {
    char b[48];
    int len;
    cord_chan_out_t o = {.data = b};
    if (!strcmp(kind, "json")) {
      len = snprintf(b, sizeof b, "{\"i\":%lu}", i);
      o.payload = CORD_PAYLOAD_JSON;
    } else {
      len = snprintf(b, sizeof b, "%lu", i);
      o.payload = strcmp(kind, "typed") ? CORD_PAYLOAD_RAW : CORD_PAYLOAD_TYPED;
      o.type_name = "cord.conformance.Seq";
    }
    o.len = (size_t)len;
    if (cord_chan_send(&ch, &o) < 0)
      return;
  }
}

/* Carries out one command (conformance T-3), given as text. */
static void command(const cord_chan_msg_t *m, const char *text) {
  char word[16] = "", arg1[32] = "", arg2[16] = "";
  cord_chan_out_t none = {0};
  sscanf(text, "%15s %31s %15s", word, arg1, arg2);

  if (!strcmp(word, "send")) {
    send_seq(strtoul(arg1, NULL, 10), arg2);
    answer(m->id, &none);
  } else if (!strcmp(word, "request")) {
    cord_chan_out_t q = {.payload = CORD_PAYLOAD_RAW, .data = "q", .len = 1};
    uint64_t id;
    if (cord_chan_request(&ch, &q, &id) == 0)
      keep(m->id, id, 'r');
    else
      answer(m->id, &(cord_chan_out_t){.status = (uint32_t)-CORD_EFAILED});
  } else if (!strcmp(word, "hold")) {
    keep(m->id, 0, 'h');
  } else if (!strcmp(word, "fail")) {
    answer(m->id, &(cord_chan_out_t){.status = (uint32_t)strtoul(arg1, NULL, 10)});
  } else if (!strcmp(word, "ping")) {
    /* Without a NONCE the testee picks one, as a Ping's sender does. */
    uint64_t nonce = *arg1 ? strtoull(arg1, NULL, 10) : 0x5eed;
    if (cord_chan_ping(&ch, nonce) == 0)
      keep(m->id, nonce, 'p');
    else
      answer(m->id, &(cord_chan_out_t){.status = (uint32_t)-CORD_EFAILED});
  } else if (!strcmp(word, "fds")) {
    cord_chan_out_t back = {.fds = m->fds, .nfds = m->nfds};
    answer(m->id, &back);
  } else if (!strcmp(word, "env")) {
    char b[64];
    cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = b};
    o.len = (size_t)env_json(b, sizeof b);
    answer(m->id, &o);
  } else if (!strcmp(word, "goodbye")) {
    answer(m->id, &none);
    /* Spec REQ-10: nothing can be answered after the Goodbye. */
    answer_waiting((uint32_t)-CORD_ECANCELLED);
    cord_chan_goodbye(&ch); /* then keep reading until the parent's direction ends */
  } else if (!strcmp(word, "exit")) {
    answer(m->id, &none);
    /* Every send was written before it returned: nothing is queued. */
    exit((int)strtol(arg1, NULL, 10));
  } else {
    answer(m->id, &(cord_chan_out_t){.status = (uint32_t)-CORD_EUNSUPPORTED});
  }
}

static int is_command(const cord_chan_msg_t *m) {
  static const char t[] = "cord.conformance.Command";
  return m->payload == CORD_PAYLOAD_TYPED && m->type_name.len == sizeof t - 1 &&
         !memcmp(m->type_name.ptr, t, sizeof t - 1);
}

/* A message on the Cord channel: a command, data, or a reply. */
static void on_message(const cord_chan_msg_t *m) {
  cord_chan_out_t same = {.payload = m->payload,
                          .type_name = (const char *)m->type_name.ptr,
                          .type_name_len = m->type_name.len,
                          .data = m->data.ptr,
                          .len = m->data.len};
  /* T-1, T-2: data comes back with its descriptors; a reply relayed by
   * `request` comes without them. */
  cord_chan_out_t data = same;
  data.fds = m->fds;
  data.nfds = m->nfds;
  if (m->reply_to) { /* the reply to a `request` command's request */
    int i = find('r', m->reply_to, 0);
    if (i >= 0) {
      same.status = m->status;
      answer(waiting[i].cmd, &same);
      waiting[i].cmd = 0;
    }
  } else if (m->id && is_command(m)) {
    char text[128];
    size_t n = m->data.len < sizeof text - 1 ? m->data.len : sizeof text - 1;
    memcpy(text, m->data.ptr, n);
    text[n] = 0;
    command(m, text);
  } else if (m->id) {
    answer(m->id, &data); /* T-1 */
  } else {
    cord_chan_send(&ch, &data); /* T-2 */
  }
  /* Echoes and the `fds` command have passed descriptors back; the
   * testee's own copies of every descriptor it received go. */
  for (unsigned i = 0; i < m->nfds; i++)
    close(m->fds[i]);
}

static void dispatch(const cord_chan_msg_t *m);

/* A send on the Node.js binding. While a handle of ours awaits the
 * parent's answer, a send that does not fit behind it in the transmit
 * buffer, or a second handle, is refused with -EAGAIN (spec NODE-15): the
 * message is copied out of the receive buffer (the testee may allocate;
 * the SDK does not), and what arrives is handled until the answer. */
static int send_node(const cord_chan_out_t *o) {
  cord_chan_out_t copy = *o;
  char *text = NULL, *type = NULL;
  int r;
  while ((r = cord_chan_send(&ch, &copy)) == -EAGAIN) {
    cord_chan_msg_t m;
    if (!text) {
      text = malloc(o->len + 1);
      type = malloc(o->type_name_len + 1);
      if (!text || !type)
        break;
      memcpy(text, o->data, o->len);
      if (o->type_name)
        memcpy(type, o->type_name, o->type_name_len);
      copy.data = text;
      copy.type_name = o->type_name ? type : NULL;
    }
    if (cord_chan_recv(&ch, &m) <= 0)
      break;
    dispatch(&m);
  }
  free(text);
  free(type);
  return r;
}

/* `handle listen`: a TCP socket listening on 127.0.0.1 and a port of the
 * system's choice goes to the parent as a net.Server with
 * {"handle":"listen","port":P}. */
static void handle_listen(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  char b[48];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16) || getsockname(fd, (struct sockaddr *)&a, &n)) {
    if (fd >= 0)
      close(fd);
    return;
  }
  cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = b, .fds = &fd, .nfds = 1};
  o.len = (size_t)snprintf(b, sizeof b, "{\"handle\":\"listen\",\"port\":%u}", (unsigned)ntohs(a.sin_port));
  send_node(&o);
  close(fd); /* the parent has its own now */
}

/* The Node.js binding: a JSON object with a string member "conformance"
 * is a command; every other message is echoed, with its handle, as the
 * same type, when one came with it. */
static void on_node(const cord_chan_msg_t *m) {
  static const char key[] = "\"conformance\"";
  const char *p = (const char *)m->data.ptr, *e = p + m->data.len, *k = NULL;
  char text[64], b[80];
  size_t n = 0;
  for (const char *q = p; q + sizeof key - 1 <= e; q++)
    if (!memcmp(q, key, sizeof key - 1)) {
      k = q + sizeof key - 1;
      break;
    }
  while (k && k < e && (*k == ' ' || *k == ':'))
    k++;
  /* A handle comes alone (spec NODE-8); the SDK's queue, where m->fds
   * points, is reused by the next receive, which a send may make. */
  int fd = m->nfds ? m->fds[0] : -1;
  if (!k || k >= e || *k != '"') {
    cord_chan_out_t o = {.payload = CORD_PAYLOAD_JSON, .data = p, .len = m->data.len, .fds = &fd,
                         .nfds = m->nfds, .type_name = (const char *)m->type_name.ptr,
                         .type_name_len = m->type_name.len};
    send_node(&o);
    if (fd >= 0)
      close(fd); /* the parent has its own now */
    return;
  }
  if (fd >= 0)
    close(fd); /* a command has no use for it */
  for (k++; k < e && *k != '"' && n < sizeof text - 1; k++)
    text[n++] = *k;
  text[n] = 0;

  char word[16] = "", arg1[16] = "", arg2[16] = "";
  sscanf(text, "%15s %15s %15s", word, arg1, arg2);
  if (!strcmp(word, "send")) {
    send_seq(strtoul(arg1, NULL, 10), "json");
  } else if (!strcmp(word, "env")) {
    send_node(&(cord_chan_out_t){.payload = CORD_PAYLOAD_JSON, .data = b, .len = (size_t)env_json(b, sizeof b)});
  } else if (!strcmp(word, "handle") && !strcmp(arg1, "listen")) {
    handle_listen();
  } else if (strcmp(word, "exit")) {
    return; /* nothing else can be done on the binding */
  }
  n = (size_t)snprintf(b, sizeof b, "{\"done\":\"%s\"}", word);
  send_node(&(cord_chan_out_t){.payload = CORD_PAYLOAD_JSON, .data = b, .len = n});
  if (!strcmp(word, "exit"))
    exit((int)strtol(arg1, NULL, 10));
}

/* One message or event. */
static void dispatch(const cord_chan_msg_t *mp) {
  cord_chan_msg_t m = *mp;
  int i;
  switch (m.type) {
  case CORD_CHAN_EV_MESSAGE:
    if (cord_chan_is_node(&ch))
      on_node(&m);
    else
      on_message(&m);
    break;
  case CORD_CHAN_EV_CANCEL: /* only a held command stops early (spec REQ-7) */
    if ((i = find('h', m.id, 1)) >= 0) {
      answer(m.id, &(cord_chan_out_t){.status = (uint32_t)-CORD_ECANCELLED});
      waiting[i].cmd = 0;
    }
    break;
  case CORD_CHAN_EV_PONG: /* status 1011: the parent's direction ended first (spec PING-7) */
    if ((i = find('p', m.id, 0)) >= 0) {
      answer(waiting[i].cmd, &(cord_chan_out_t){.status = m.status ? (uint32_t)-CORD_ECLOSED : 0});
      waiting[i].cmd = 0;
    }
    break;
  case CORD_CHAN_EV_CLOSED: /* a `request` whose request can get no reply: CLOSED (T-3) */
    if ((i = find('r', m.reply_to, 0)) >= 0) {
      answer(waiting[i].cmd, &(cord_chan_out_t){.status = (uint32_t)-CORD_ECLOSED});
      waiting[i].cmd = 0;
    }
    break;
  default:
    break;
  }
}

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx,
#ifndef CORD_CHILD_NO_FDS
                         .fdq = fdq, .fdq_len = CORD_CHILD_MAX_FDS,
#endif
                         .impl_name = TESTEE_NAME, .flags = CORD_CHAN_F_CANCEL};
  cord_chan_msg_t m;
  int r;
  (void)argc;

  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while ((r = cord_chan_recv(&ch, &m)) > 0)
    dispatch(&m);
  /* The parent's direction has ended: every request still open is
   * answered before the Goodbye (spec REQ-10), then END-8. */
  answer_waiting((uint32_t)-CORD_ECLOSED);
  if (r < 0 && getenv("CORD_TESTEE_VERBOSE"))
    fprintf(stderr, "%s: %s: %s\n", argv[0], cord_strerror(r), cord_chan_detail(&ch));
  return cord_chan_close(&ch);
}
