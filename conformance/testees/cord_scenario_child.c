/* cord_scenario_child.c: a child on the C child SDK that plays a scripted session with its parent, so that the recorder can capture it as a case. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cord_child.h"

/*
 * Usage (as a child): cord-scenario-child SCRIPT
 *
 * SCRIPT has one action per line ('#' starts a comment); each waits for
 * its own completion before the next begins. The parent is a testee
 * (conformance/README.md): it echoes data and carries out commands.
 *   send json TEXT | send raw TEXT       a one-way message; waits for the echo
 *   request json TEXT | request raw TEXT a request; waits for its reply
 *   command TEXT                         a command; waits for its reply
 *   command-fds N TEXT                   a command passing N descriptors
 *   cancel TEXT                          a command, then Cancel for it; waits for its reply
 *   ping                                 waits for the Pong
 *   goodbye                              Goodbye; then waits for the parent's end
 *   exit N                               exits at once with status N
 * Requests from the parent are answered with their own payload. At the end
 * of the script the child says Goodbye and waits for the parent's end.
 */

CORD_CHAN_BUFFER(rx, 1 << 16);
CORD_CHAN_BUFFER(tx, 1 << 16);
static int fdq[16];
static cord_chan_t ch;

/* Receives until `done` says the awaited message came; answers requests. */
static void await(int (*done)(const cord_chan_msg_t *, uint64_t), uint64_t key) {
  cord_chan_msg_t m;
  int r;
  while ((r = cord_chan_recv(&ch, &m)) > 0) {
    int finished = done && done(&m, key);
    if (m.type == CORD_CHAN_EV_MESSAGE && m.id) {
      cord_chan_out_t o = {.payload = m.payload, .type_name = (const char *)m.type_name.ptr, .type_name_len = m.type_name.len,
                           .data = m.data.ptr, .len = m.data.len};
      cord_chan_reply(&ch, m.id, &o);
    }
    for (unsigned i = 0; i < m.nfds; i++)
      close(m.fds[i]);
    if (finished)
      return;
  }
  if (done) {
    fprintf(stderr, "cord-scenario-child: the channel ended first (%d)\n", r);
    exit(cord_chan_close(&ch));
  }
}

static int is_reply(const cord_chan_msg_t *m, uint64_t id) {
  return m->type == CORD_CHAN_EV_MESSAGE && m->reply_to == id;
}
static int is_echo(const cord_chan_msg_t *m, uint64_t unused) {
  (void)unused;
  return m->type == CORD_CHAN_EV_MESSAGE && !m->id && !m->reply_to;
}
static int is_pong(const cord_chan_msg_t *m, uint64_t nonce) {
  return m->type == CORD_CHAN_EV_PONG && m->id == nonce && !m->status;
}

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx, .fdq = fdq, .fdq_len = 16};
  char line[4096];
  FILE *script;

  if (argc < 2 || !(script = fopen(argv[1], "r"))) {
    fprintf(stderr, "usage: cord-scenario-child SCRIPT\n");
    return 2;
  }
  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while (fgets(line, sizeof line, script)) {
    char verb[32], kind[32];
    int n = 0, r = 0;
    uint64_t id = 0;
    line[strcspn(line, "\n")] = '\0';
    if (!line[0] || line[0] == '#' || sscanf(line, "%31s %31s %n", verb, kind, &n) < 1)
      continue;
    const char *rest = line + n, *after_verb = line + strlen(verb) + 1;
    cord_chan_out_t o = {.payload = !strcmp(kind, "raw") ? CORD_PAYLOAD_RAW : CORD_PAYLOAD_JSON, .data = rest,
                         .len = strlen(rest)};
    cord_chan_out_t cmd = {.payload = CORD_PAYLOAD_TYPED, .type_name = "cord.conformance.Command", .data = after_verb,
                           .len = strlen(after_verb)};
    if (!strcmp(verb, "send")) {
      if ((r = cord_chan_send(&ch, &o)) == 0)
        await(is_echo, 0);
    } else if (!strcmp(verb, "request")) {
      if ((r = cord_chan_request(&ch, &o, &id)) == 0)
        await(is_reply, id);
    } else if (!strcmp(verb, "command") || !strcmp(verb, "cancel")) {
      r = cord_chan_request(&ch, &cmd, &id);
      if (r == 0 && !strcmp(verb, "cancel"))
        r = cord_chan_cancel(&ch, id);
      if (r == 0)
        await(is_reply, id);
    } else if (!strcmp(verb, "command-fds")) {
      int fds[16], k = atoi(kind);
      for (int i = 0; i < k && i < 16; i++) {
        int p[2];
        if (pipe(p) < 0)
          return 1;
        close(p[0]);
        fds[i] = p[1];
      }
      cmd.data = after_verb + strlen(kind) + 1;
      cmd.len = strlen(cmd.data);
      cmd.fds = fds;
      cmd.nfds = (unsigned)k;
      r = cord_chan_request(&ch, &cmd, &id);
      for (int i = 0; i < k; i++)
        close(fds[i]);
      if (r == 0)
        await(is_reply, id);
    } else if (!strcmp(verb, "ping")) {
      static uint64_t nonce = 100;
      if ((r = cord_chan_ping(&ch, ++nonce)) == 0)
        await(is_pong, nonce);
    } else if (!strcmp(verb, "goodbye")) {
      break;
    } else if (!strcmp(verb, "exit")) {
      exit(atoi(kind));
    } else {
      fprintf(stderr, "cord-scenario-child: unknown action: %s\n", line);
      return 2;
    }
    if (r < 0) {
      fprintf(stderr, "cord-scenario-child: %s: %s\n", line, cord_strerror(r));
      return cord_chan_close(&ch);
    }
  }
  cord_chan_goodbye(&ch);
  await(NULL, 0);
  return cord_chan_close(&ch);
}
