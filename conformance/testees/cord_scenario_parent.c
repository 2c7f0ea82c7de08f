/* cord_scenario_parent.c: a parent on the C SDK that plays a scripted session with a child, so that the recorder can capture it as a case. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cord.h"

/*
 * Usage: cord-scenario-parent SCRIPT CHILD-COMMAND [ARG...]
 *
 * SCRIPT has one action per line ('#' starts a comment); each waits for
 * its own completion before the next begins:
 *   send json TEXT | send raw TEXT | send typed NAME HEX    a one-way message
 *   request json TEXT | request raw TEXT                    a request; waits for its reply
 *   request-fds N json TEXT                                 a request passing N descriptors
 *   command TEXT                                            a testee command (conformance/README.md); waits for its reply
 *   command-fds N TEXT                                      a command passing N descriptors
 *   cancel TEXT                                             a command, then Cancel for it; waits for its reply
 *   ping                                                    waits for the Pong
 *   disconnect                                              ends the parent's direction; waits for the child's end
 *   wait                                                    waits for the child to end on its own
 * At the end of the script the parent disconnects if it has not.
 * Environment: CORD_CONFORMANCE_BINDING=json uses Node.js's json channel.
 */

static cord_proc_t child;

/* Steps until the reply to `id` (or the pong `nonce`, or CLOSE). */
static void await(uint64_t id, cord_event_type_t type) {
  cord_event_t ev;
  while (cord_wait(&child, &ev, 30000) == 1) {
    for (unsigned i = 0; i < ev.nfds; i++)
      close(ev.fds[i]);
    if (ev.type == CORD_EV_MESSAGE && ev.id)
      cord_reply(&child, ev.id, 0, NULL);
    if (ev.type == type && (type == CORD_EV_CLOSE || ev.id == id))
      return;
    if (ev.type == CORD_EV_CLOSE) {
      fprintf(stderr, "cord-scenario-parent: the child ended early\n");
      exit(1);
    }
  }
}

/* k descriptors to pass: write ends of pipes whose read ends are closed. */
static void make_pipes(int *fds, int k) {
  for (int i = 0; i < k; i++) {
    int p[2];
    if (pipe(p) < 0) {
      perror("cord-scenario-parent: pipe");
      exit(1);
    }
    close(p[0]);
    fds[i] = p[1];
  }
}

static size_t unhex(const char *h, unsigned char *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (n < cap && sscanf(h, "%2x", &v) == 1) {
    out[n++] = (unsigned char)v;
    h += 2;
  }
  return n;
}

int main(int argc, char **argv) {
  cord_options_t o = {0};
  const char *binding = getenv("CORD_CONFORMANCE_BINDING");
  FILE *script;
  char line[4096];
  int done = 0;

  if (argc < 3 || !(script = fopen(argv[1], "r"))) {
    fprintf(stderr, "usage: cord-scenario-parent SCRIPT CHILD-COMMAND [ARG...]\n");
    return 2;
  }
  if (binding && !strcmp(binding, "json"))
    o.serialization = CORD_SERIALIZATION_JSON;
  if (cord_spawn(&child, argv[2], (const char *const *)argv + 3, &o) < 0) {
    fprintf(stderr, "cord-scenario-parent: %s\n", cord_spawn_error());
    return 1;
  }
  await(0, CORD_EV_READY);

  while (!done && fgets(line, sizeof line, script)) {
    char verb[32], kind[32], *rest;
    unsigned char bin[2048];
    uint64_t id = 0;
    int n = 0, r = 0;
    line[strcspn(line, "\n")] = '\0';
    if (!line[0] || line[0] == '#')
      continue;
    if (sscanf(line, "%31s %31s %n", verb, kind, &n) < 1)
      continue;
    rest = line + n;
    cord_msg_t m = {.payload = !strcmp(kind, "raw") ? CORD_PAYLOAD_RAW : CORD_PAYLOAD_JSON, .data = rest,
                    .len = strlen(rest)};
    if (!strcmp(verb, "send")) {
      if (!strcmp(kind, "typed")) {
        char name[256], hex[3000];
        if (sscanf(rest - 0, "%255s %2999s", name, hex) != 2)
          return 2;
        m = (cord_msg_t){.payload = CORD_PAYLOAD_TYPED, .type_name = name, .data = bin,
                         .len = unhex(hex, bin, sizeof bin)};
        r = cord_send(&child, &m);
      } else {
        r = cord_send(&child, &m);
      }
      cord_flush(&child, 30000);
    } else if (!strcmp(verb, "request")) {
      r = cord_request(&child, &m, &id);
      if (r >= 0)
        await(id, CORD_EV_REPLY);
    } else if (!strcmp(verb, "request-fds")) {
      int fds[16], k = atoi(kind) & 15;
      char *text = strchr(rest, ' ');
      make_pipes(fds, k);
      m = (cord_msg_t){.payload = CORD_PAYLOAD_JSON, .data = text ? text + 1 : "{}",
                       .len = text ? strlen(text + 1) : 2, .fds = fds, .nfds = (unsigned)k};
      r = cord_request(&child, &m, &id);
      for (int i = 0; i < k; i++)
        close(fds[i]);
      if (r >= 0)
        await(id, CORD_EV_REPLY);
    } else if (!strcmp(verb, "command-fds")) {
      int fds[16], k = atoi(kind) & 15;
      const char *text = line + strlen(verb) + 1 + strlen(kind) + 1;
      make_pipes(fds, k);
      m = (cord_msg_t){.payload = CORD_PAYLOAD_TYPED, .type_name = "cord.conformance.Command", .data = text,
                       .len = strlen(text), .fds = fds, .nfds = (unsigned)k};
      r = cord_request(&child, &m, &id);
      for (int i = 0; i < k; i++)
        close(fds[i]);
      if (r >= 0)
        await(id, CORD_EV_REPLY);
    } else if (!strcmp(verb, "command") || !strcmp(verb, "cancel")) {
      const char *text = line + strlen(verb) + 1;
      m = (cord_msg_t){.payload = CORD_PAYLOAD_TYPED, .type_name = "cord.conformance.Command", .data = text,
                       .len = strlen(text)};
      r = cord_request(&child, &m, &id);
      if (r >= 0 && !strcmp(verb, "cancel")) {
        cord_flush(&child, 30000);
        r = cord_cancel(&child, id);
      }
      if (r >= 0)
        await(id, CORD_EV_REPLY);
    } else if (!strcmp(verb, "ping")) {
      r = cord_ping(&child, &id);
      if (r >= 0)
        await(id, CORD_EV_PONG);
    } else if (!strcmp(verb, "disconnect")) {
      cord_disconnect(&child);
      await(0, CORD_EV_CLOSE);
      done = 1;
    } else if (!strcmp(verb, "wait")) {
      await(0, CORD_EV_CLOSE);
      done = 1;
    } else {
      fprintf(stderr, "cord-scenario-parent: unknown action: %s\n", line);
      return 2;
    }
    if (r < 0) {
      fprintf(stderr, "cord-scenario-parent: %s: %s\n", line, cord_strerror(r));
      return 1;
    }
  }
  if (!done) {
    cord_disconnect(&child);
    await(0, CORD_EV_CLOSE);
  }
  printf("%s %d\n", child.exit_status >= 0 ? "exit" : "signal",
         child.exit_status >= 0 ? child.exit_status : child.term_signal);
  cord_proc_close(&child);
  fclose(script);
  return 0;
}
