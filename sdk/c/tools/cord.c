/* cord.c: the `cord` command: run a child by hand, talk JSON to it from the terminal, and decode frames. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cord.h"

static const char usage[] =
    "usage: cord run [options] [--] PROGRAM [ARG...]\n"
    "       cord decode [HEX...]\n"
    "\n"
    "cord run starts PROGRAM as a Cord child and talks to it: every line typed\n"
    "on standard input is sent to it as one JSON message, and everything it\n"
    "sends is printed, one line each. End of input disconnects; cord then\n"
    "waits for the child to exit and exits with its status (76 when the\n"
    "channel failed, for example with a program that is not a Cord child).\n"
    "\n"
    "  -r, --request        send each line as a request and print the reply\n"
    "  -f, --frames         print every frame on the channel, decoded, on stderr\n"
    "  -j, --json           speak Node.js's json channel instead of Cord\n"
    "  -s, --silent         pipe the child's output through cord, prefixed\n"
    "  -C, --cwd DIR        run the child in DIR\n"
    "  -e, --env NAME=VALUE add to the child's environment (repeatable)\n"
    "  -x, --exec-path P    run P ... PROGRAM ARG... (Node's execPath)\n"
    "  -t, --timeout MS     kill the child after MS milliseconds\n"
    "\n"
    "cord decode prints the Cord frames in the hex given as arguments, or read\n"
    "from standard input (spaces and newlines are ignored), one per line.\n";

static int frames_flag;

static void print_bytes(FILE *f, const void *data, size_t len) {
  const unsigned char *b = data;
  for (size_t i = 0; i < len; i++) {
    if (b[i] == '\\')
      fputs("\\\\", f);
    else if (b[i] >= 0x20 && b[i] < 0x7f)
      fputc(b[i], f);
    else if (b[i] == '\n')
      fputs("\\n", f);
    else if (b[i] >= 0x80)
      fputc(b[i], f); /* UTF-8 goes through as is */
    else
      fprintf(f, "\\x%02x", b[i]);
  }
}

/* The frame trace: one line per frame, in the text format of the spec. */
static void trace(void *arg, int outgoing, const void *frame, size_t len) {
  const cord_proc_t *c = arg;
  char text[1024];
  fputs(outgoing ? "parent -> child: " : "child -> parent: ", stderr);
  if (c->serialization == CORD_SERIALIZATION_JSON) {
    print_bytes(stderr, frame, len);
  } else if (len >= 4 && cord_frame_describe((const char *)frame + 4, len - 4, text, sizeof text) >= 0) {
    fputs(text, stderr);
  } else {
    fputs("(undecodable)", stderr);
  }
  fputc('\n', stderr);
}

static void print_payload(const cord_event_t *ev) {
  switch (ev->payload) {
  case CORD_PAYLOAD_JSON:
    print_bytes(stdout, ev->data, ev->len);
    break;
  case CORD_PAYLOAD_RAW:
    printf("raw ");
    print_bytes(stdout, ev->data, ev->len);
    break;
  case CORD_PAYLOAD_TYPED:
    printf("typed %s (%zu bytes)", ev->type_name, ev->len);
    break;
  case CORD_PAYLOAD_NONE:
    printf("(empty)");
    break;
  }
}

static int hexval(int c) { return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10; }

/* cord decode: hex in, one decoded frame per line out. */
static int decode(int argc, char **argv) {
  size_t cap = 1 << 16, n = 0;
  unsigned char *b = malloc(cap);
  int half = -1, c, bad = 0;
  FILE *in = NULL;
  int ai = 0;
  char *s = NULL;

  if (argc == 0)
    in = stdin;
  for (;;) {
    if (in) {
      c = fgetc(in);
      if (c == EOF)
        break;
    } else {
      if (!s) {
        if (ai == argc)
          break;
        s = argv[ai++];
      }
      c = (unsigned char)*s++;
      if (!c) {
        s = NULL;
        continue;
      }
    }
    if (isspace(c))
      continue;
    if (!isxdigit(c)) {
      fprintf(stderr, "cord decode: '%c' is not a hex digit\n", c);
      free(b);
      return 2;
    }
    if (half < 0) {
      half = hexval(c);
      continue;
    }
    if (n == cap)
      b = realloc(b, cap *= 2);
    b[n++] = (unsigned char)(half << 4 | hexval(c));
    half = -1;
  }
  for (size_t off = 0; off < n;) {
    char text[4096];
    size_t len;
    if (n - off < 4) {
      printf("(%zu bytes left, too few for a prefix)\n", n - off);
      bad = 1;
      break;
    }
    len = (size_t)b[off] << 24 | (size_t)b[off + 1] << 16 | (size_t)b[off + 2] << 8 | b[off + 3];
    if (len > n - off - 4) {
      printf("(a frame of %zu bytes, of which %zu are here)\n", len, n - off - 4);
      bad = 1;
      break;
    }
    if (cord_frame_describe(b + off + 4, len, text, sizeof text) < 0) {
      char pv[CORD_PREVIEW_MAX];
      cord_preview(b + off, len + 4, pv, sizeof pv);
      printf("(not a cord.v1.Frame: %s)\n", pv);
      bad = 1;
    } else {
      printf("%s\n", text);
    }
    off += len + 4;
  }
  free(b);
  return bad;
}

static int run(int argc, char **argv) {
  cord_options_t o = {0};
  const char *env[256];
  int nenv = 0, request = 0, i;
  cord_proc_t c;
  extern char **environ;

  for (i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    if (a[0] != '-')
      break;
    if (!strcmp(a, "-r") || !strcmp(a, "--request"))
      request = 1;
    else if (!strcmp(a, "-f") || !strcmp(a, "--frames"))
      frames_flag = 1;
    else if (!strcmp(a, "-j") || !strcmp(a, "--json"))
      o.serialization = CORD_SERIALIZATION_JSON;
    else if (!strcmp(a, "-s") || !strcmp(a, "--silent"))
      o.flags |= CORD_OPT_SILENT;
    else if ((!strcmp(a, "-C") || !strcmp(a, "--cwd")) && i + 1 < argc)
      o.cwd = argv[++i];
    else if ((!strcmp(a, "-e") || !strcmp(a, "--env")) && i + 1 < argc && nenv < 200)
      env[nenv++] = argv[++i];
    else if ((!strcmp(a, "-x") || !strcmp(a, "--exec-path")) && i + 1 < argc)
      o.exec_path = argv[++i];
    else if ((!strcmp(a, "-t") || !strcmp(a, "--timeout")) && i + 1 < argc)
      o.timeout_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (i >= argc) {
    fputs(usage, stderr);
    return 2;
  }
  if (nenv) {
    /* The parent's environment, then the additions. */
    static const char *all[4096];
    int k = 0;
    for (char **e = environ; *e && k < 4000; e++)
      all[k++] = *e;
    for (int j = 0; j < nenv; j++)
      all[k++] = env[j];
    all[k] = NULL;
    o.env = all;
  }
  if (frames_flag) {
    o.trace = trace;
    o.trace_arg = &c;
  }
  signal(SIGPIPE, SIG_IGN);
  int r = cord_spawn(&c, argv[i], (const char *const *)argv + i + 1, &o);
  if (r < 0) {
    fprintf(stderr, "cord: %s\n", cord_spawn_error());
    return 127;
  }

  /* Standard input is read with read(), not stdio: a FILE would take
   * several lines into its own buffer, where poll() cannot see them. */
  static char in[65536];
  size_t inlen = 0;
  int stdin_open = 1, status = 0, failed = 0;
  for (;;) {
    cord_event_t ev;
    while ((r = cord_step(&c, &ev)) == 1) {
      switch (ev.type) {
      case CORD_EV_READY:
        if (c.serialization == CORD_SERIALIZATION_CORD)
          fprintf(stderr, "cord: connected to %s %s (pid %d), protocol %u, max_frame %u\n", c.peer.impl_name,
                  c.peer.impl_version, (int)c.pid, c.peer.version, c.peer.max_frame);
        break;
      case CORD_EV_MESSAGE:
        if (ev.id)
          printf("request %llu: ", (unsigned long long)ev.id);
        print_payload(&ev);
        putchar('\n');
        if (ev.id) /* a person cannot answer in time: say so */
          cord_reply(&c, ev.id, 1010, NULL);
        break;
      case CORD_EV_REPLY:
        printf("reply %llu: ", (unsigned long long)ev.id);
        if (ev.error)
          printf("failed: %s", cord_strerror(ev.error));
        else if (ev.status)
          printf("status %u %s ", ev.status, cord_err_name((int)ev.status));
        if (!ev.error)
          print_payload(&ev);
        putchar('\n');
        break;
      case CORD_EV_OUTPUT:
        if (ev.len) {
          printf("[%s] ", ev.stdio_fd == 1 ? "stdout" : ev.stdio_fd == 2 ? "stderr" : "fd");
          print_bytes(stdout, ev.data, ev.len);
          putchar('\n');
        }
        break;
      case CORD_EV_ERROR:
        fprintf(stderr, "cord: %s: %s\n", cord_err_name(ev.error), ev.detail);
        break;
      case CORD_EV_DISCONNECT:
        failed = ev.error != 0;
        break;
      case CORD_EV_EXIT:
        if (ev.exit_status >= 0)
          fprintf(stderr, "cord: child exited with status %d\n", ev.exit_status);
        else
          fprintf(stderr, "cord: child killed by signal %d (%s)\n", ev.term_signal, strsignal(ev.term_signal));
        status = ev.exit_status >= 0 ? ev.exit_status : 128 + ev.term_signal;
        break;
      case CORD_EV_CLOSE:
        fflush(stdout);
        cord_proc_close(&c);
        /* A channel that failed (a child that is not a Cord child, a
         * protocol error) is a failure even if the child exited 0. */
        if (failed && status == 0) {
          fprintf(stderr, "cord: the channel failed\n");
          return 76;
        }
        return status;
      default:
        break;
      }
      for (unsigned k = 0; k < ev.nfds; k++)
        close(ev.fds[k]);
    }
    fflush(stdout);

    struct pollfd pf[CORD_STDIO_MAX + 3];
    int fds[CORD_STDIO_MAX + 2];
    short evs[CORD_STDIO_MAX + 2];
    int n = cord_fds(&c, fds, evs, CORD_STDIO_MAX + 2);
    for (int k = 0; k < n; k++)
      pf[k] = (struct pollfd){fds[k], evs[k], 0};
    if (stdin_open)
      pf[n++] = (struct pollfd){0, POLLIN, 0};
    if (poll(pf, (nfds_t)n, cord_timeout(&c)) < 0 && errno != EINTR) {
      perror("cord: poll");
      return 1;
    }
    if (!stdin_open || !pf[n - 1].revents)
      continue;
    ssize_t got = read(0, in + inlen, sizeof in - inlen);
    if (got <= 0 && !(got < 0 && errno == EINTR)) {
      stdin_open = 0;
      cord_disconnect(&c);
      continue;
    }
    inlen += got > 0 ? (size_t)got : 0;
    /* Every whole line is one message; a line longer than the buffer is
     * sent as it is, in pieces. */
    char *start = in, *nl;
    while ((nl = memchr(start, '\n', inlen - (size_t)(start - in))) || (start == in && inlen == sizeof in)) {
      size_t len = nl ? (size_t)(nl - start) : inlen;
      char *next = nl ? nl + 1 : in + inlen;
      while (len && (start[len - 1] == '\r'))
        len--;
      if (len) {
        cord_msg_t m = {.payload = CORD_PAYLOAD_JSON, .data = start, .len = len};
        uint64_t id;
        r = request ? cord_request(&c, &m, &id) : cord_send(&c, &m);
        if (r < 0)
          fprintf(stderr, "cord: not sent: %s\n", cord_strerror(r));
        else if (request)
          fprintf(stderr, "cord: request %llu sent\n", (unsigned long long)id);
      }
      start = next;
    }
    inlen -= (size_t)(start - in);
    memmove(in, start, inlen);
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "run"))
    return run(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "decode"))
    return decode(argc - 2, argv + 2);
  fputs(usage, argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout : stderr);
  return argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : 2;
}
