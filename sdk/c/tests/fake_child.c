/* fake_child.c: a scripted Cord child on protobuf-c, independent of the child SDK, that the parent SDK's tests start. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord.pb-c.h"

/*
 * Usage: fake_child MODE [ARG...]
 *
 * Every mode but `plain` and `garbage` starts like a conforming child:
 * it finds CORD_CHANNEL_FD, sends a Hello and reads the parent's. Then:
 *   echo          answers requests with their payload, echoes one-way
 *                 messages, answers pings, ends on Goodbye or end of file
 *   report        sends one JSON message describing itself (argv, cwd,
 *                 uid, gid, groups, session, open descriptors, channel
 *                 variables, signal mask and dispositions), then echoes
 *   exit N        exits with status N right after the handshake
 *   sleep         never reads again (the parent must kill it)
 *   ignore-term   ignores SIGTERM, then as sleep
 *   truncate      writes half a frame and exits
 *   unknown-reply sends a reply to request 999, then echoes
 *   flood N       sends N one-way messages, then echoes
 *   goodbye       sends Goodbye at once, then waits for the parent's end
 *   fds           echoes, passing back every descriptor it receives
 *   hello MAXFRAME MINV MAXV MAXFDS   a Hello with these values, then echo
 *   hold          answers requests only when they are cancelled, with
 *                 status 1009 (CANCELLED); echoes one-way messages
 *   cancel        sends request 1 to the parent and cancels it at once;
 *                 when the reply comes, sends its status back as JSON
 *   orphan        forks a grandchild that holds the channel, reading it to
 *                 its end, says {"orphan":true} and exits 0
 *   ask-goodbye   sends request 1, then Goodbye at once, then reads to the end;
 *                 exits 0 if the parent answered request 1, else 5
 *   stdio         writes "out" to stdout and "err" to stderr, copies its
 *                 input to stdout until end of file, then echoes
 * and, without any handshake:
 *   garbage       writes "Hello world\n" on the channel, then waits
 *   nohello       reads the channel but never writes
 *   plain         does not touch the channel: writes its pid to the file
 *                 ARG, then waits for SIGTERM (for `detached`)
 */

static int chan = -1;

static void die(const char *what) {
  fprintf(stderr, "fake_child: %s: %s\n", what, strerror(errno));
  _exit(70);
}

static void write_all(const void *buf, size_t n, int fd_to_pass) {
  const uint8_t *b = buf;
  while (n) {
    struct msghdr mh;
    struct iovec iov = {(void *)b, n};
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * 16)];
    } cm;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd_to_pass >= 0) {
      memset(&cm, 0, sizeof cm);
      mh.msg_control = cm.buf;
      mh.msg_controllen = CMSG_SPACE(sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
      fd_to_pass = -1;
    }
    ssize_t w = sendmsg(chan, &mh, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EPIPE || errno == ECONNRESET)
        _exit(0);
      die("write");
    }
    b += w;
    n -= (size_t)w;
  }
}

static void send_frame_fds(const Cord__V1__Frame *f, const int *fds, unsigned nfds) {
  size_t n = cord__v1__frame__get_packed_size(f);
  uint8_t *b = malloc(n + 4);
  b[0] = (uint8_t)(n >> 24);
  b[1] = (uint8_t)(n >> 16);
  b[2] = (uint8_t)(n >> 8);
  b[3] = (uint8_t)n;
  cord__v1__frame__pack(f, b + 4);
  if (nfds == 0) {
    write_all(b, n + 4, -1);
  } else {
    /* All descriptors with the first byte (spec FD-3). */
    struct msghdr mh;
    struct iovec iov = {b, n + 4};
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * 16)];
    } cm;
    memset(&mh, 0, sizeof mh);
    memset(&cm, 0, sizeof cm);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    ssize_t w = sendmsg(chan, &mh, MSG_NOSIGNAL);
    if (w < 0)
      die("sendmsg");
    if ((size_t)w < n + 4)
      write_all(b + w, n + 4 - (size_t)w, -1);
  }
  free(b);
}

static void send_frame(const Cord__V1__Frame *f) { send_frame_fds(f, NULL, 0); }

static int pending_fds[64];
static unsigned npending;

/* Reads exactly n bytes; returns 0 at end of file before the first. */
static int read_exact(uint8_t *b, size_t n) {
  size_t got = 0;
  while (got < n) {
    struct msghdr mh;
    struct iovec iov = {b + got, n - got};
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * 64)];
    } cm;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.buf;
    mh.msg_controllen = sizeof cm.buf;
    ssize_t r = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      die("read");
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_type == SCM_RIGHTS) {
        unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(pending_fds + npending, CMSG_DATA(c), k * sizeof(int));
        npending += k;
      }
    if (r == 0) {
      if (got == 0)
        return 0;
      fprintf(stderr, "fake_child: end of file inside a frame\n");
      _exit(76);
    }
    got += (size_t)r;
  }
  return 1;
}

static Cord__V1__Frame *recv_frame(void) {
  uint8_t h[4];
  if (!read_exact(h, 4))
    return NULL;
  size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
  uint8_t *b = malloc(n ? n : 1);
  if (n && !read_exact(b, n)) {
    fprintf(stderr, "fake_child: end of file after a prefix\n");
    _exit(76);
  }
  Cord__V1__Frame *f = cord__v1__frame__unpack(NULL, n, b);
  free(b);
  if (!f) {
    fprintf(stderr, "fake_child: malformed frame\n");
    _exit(76);
  }
  return f;
}

static void send_hello(uint32_t max_frame, uint32_t minv, uint32_t maxv, uint32_t max_fds) {
  Cord__V1__Hello h = CORD__V1__HELLO__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  h.magic = 0x44524F43;
  h.min_version = minv;
  h.max_version = maxv;
  h.max_frame = max_frame;
  h.max_fds = max_fds;
  h.pid = (uint32_t)getpid();
  h.impl_name = "fake-child";
  h.impl_version = "0";
  f.body_case = CORD__V1__FRAME__BODY_HELLO;
  f.hello = &h;
  send_frame(&f);
}

static void send_json(const char *text) {
  Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  m.payload_case = CORD__V1__MESSAGE__PAYLOAD_JSON;
  m.json = (char *)text;
  f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
  f.message = &m;
  send_frame(&f);
}

static void send_goodbye(void) {
  Cord__V1__Goodbye g = CORD__V1__GOODBYE__INIT;
  Cord__V1__Frame f = CORD__V1__FRAME__INIT;
  f.body_case = CORD__V1__FRAME__BODY_GOODBYE;
  f.goodbye = &g;
  send_frame(&f);
}

static void find_channel(void) {
  const char *v = getenv("CORD_CHANNEL_FD");
  if (!v) {
    fprintf(stderr, "fake_child: no CORD_CHANNEL_FD\n");
    _exit(64);
  }
  chan = atoi(v);
  unsetenv("CORD_CHANNEL_FD");
  fcntl(chan, F_SETFD, FD_CLOEXEC);
}

/* The echo loop: the conforming behaviour most tests rely on. */
static void echo(bool pass_fds) {
  Cord__V1__Frame *f;
  while ((f = recv_frame()) != NULL) {
    if (f->body_case == CORD__V1__FRAME__BODY_MESSAGE) {
      Cord__V1__Message *m = f->message;
      int fds[64];
      unsigned n = m->fds;
      if (n > npending) {
        fprintf(stderr, "fake_child: %u descriptors announced, %u came\n", n, npending);
        _exit(76);
      }
      memcpy(fds, pending_fds, n * sizeof(int));
      memmove(pending_fds, pending_fds + n, (npending - n) * sizeof(int));
      npending -= n;
      if (m->id) {
        m->reply_to = m->id;
        m->id = 0;
      }
      if (!pass_fds)
        m->fds = 0;
      send_frame_fds(f, pass_fds ? fds : NULL, pass_fds ? n : 0);
      for (unsigned i = 0; i < n; i++)
        close(fds[i]);
    } else if (f->body_case == CORD__V1__FRAME__BODY_PING) {
      Cord__V1__Pong q = CORD__V1__PONG__INIT;
      Cord__V1__Frame pf = CORD__V1__FRAME__INIT;
      q.nonce = f->ping->nonce;
      pf.body_case = CORD__V1__FRAME__BODY_PONG;
      pf.pong = &q;
      send_frame(&pf);
    } else if (f->body_case == CORD__V1__FRAME__BODY_GOODBYE) {
      send_goodbye();
      shutdown(chan, SHUT_WR);
      cord__v1__frame__free_unpacked(f, NULL);
      while ((f = recv_frame()) != NULL)
        cord__v1__frame__free_unpacked(f, NULL);
      _exit(0);
    }
    cord__v1__frame__free_unpacked(f, NULL);
  }
  _exit(0);
}

static void handshake(uint32_t max_frame, uint32_t minv, uint32_t maxv, uint32_t max_fds) {
  find_channel();
  send_hello(max_frame, minv, maxv, max_fds);
  Cord__V1__Frame *f = recv_frame();
  if (!f || f->body_case != CORD__V1__FRAME__BODY_HELLO) {
    fprintf(stderr, "fake_child: no Hello from the parent\n");
    _exit(76);
  }
  cord__v1__frame__free_unpacked(f, NULL);
}

/* A JSON description of the process, for the option tests. */
static void report(int argc, char **argv) {
  char buf[16384], cwd[1024];
  size_t n = 0;
  gid_t groups[64];
  int ngroups = getgroups(64, groups);
  sigset_t mask;
  struct sigaction sa;
  int ignored = 0;

#define ADD(...) n += (size_t)snprintf(buf + n, sizeof buf - n, __VA_ARGS__)
  ADD("{\"argv\":[");
  for (int i = 0; i < argc; i++)
    ADD("%s\"%s\"", i ? "," : "", argv[i]);
  ADD("],\"cwd\":\"%s\"", getcwd(cwd, sizeof cwd) ? cwd : "?");
  ADD(",\"uid\":%u,\"gid\":%u,\"groups\":%d", (unsigned)getuid(), (unsigned)getgid(), ngroups);
  ADD(",\"sid_is_pid\":%s", getsid(0) == getpid() ? "true" : "false");
  ADD(",\"channel_fd\":%d", chan);
  ADD(",\"CORD_CHANNEL_FD\":%s", getenv("CORD_CHANNEL_FD") ? "true" : "false");
  ADD(",\"CORD_TEST_VAR\":\"%s\"", getenv("CORD_TEST_VAR") ? getenv("CORD_TEST_VAR") : "");
  sigprocmask(SIG_SETMASK, NULL, &mask);
  for (int s = 1; s < 32; s++)
    if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
      ignored++;
  ADD(",\"blocked\":%d,\"ignored\":%d", sigismember(&mask, SIGTERM) + sigismember(&mask, SIGINT), ignored);
  ADD(",\"fds\":[");
  DIR *d = opendir("/proc/self/fd");
  int dfd = dirfd(d), first = 1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd == dfd)
      continue;
    ADD("%s%d", first ? "" : ",", fd);
    first = 0;
  }
  closedir(d);
  ADD("]}");
  send_json(buf);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "echo";

  if (strcmp(mode, "plain") == 0) {
    FILE *f = fopen(argv[2], "w");
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    pause();
    return 0;
  }
  if (strcmp(mode, "garbage") == 0) {
    find_channel();
    write_all("Hello world\n", 12, -1);
    pause();
    return 0;
  }
  if (strcmp(mode, "nohello") == 0) {
    find_channel();
    uint8_t b[256];
    while (read(chan, b, sizeof b) > 0)
      ;
    return 0;
  }
  if (strcmp(mode, "hello") == 0 && argc >= 6) {
    handshake((uint32_t)strtoul(argv[2], 0, 0), (uint32_t)strtoul(argv[3], 0, 0),
              (uint32_t)strtoul(argv[4], 0, 0), (uint32_t)strtoul(argv[5], 0, 0));
    echo(false);
  }
  handshake(1u << 20, 1, 1, 16);
  if (strcmp(mode, "echo") == 0)
    echo(false);
  if (strcmp(mode, "fds") == 0)
    echo(true);
  if (strcmp(mode, "report") == 0) {
    report(argc, argv);
    echo(false);
  }
  if (strcmp(mode, "exit") == 0)
    _exit(argc > 2 ? atoi(argv[2]) : 0);
  if (strcmp(mode, "ignore-term") == 0) {
    signal(SIGTERM, SIG_IGN);
    send_json("\"ignoring SIGTERM\"");
  }
  if (strcmp(mode, "sleep") == 0 || strcmp(mode, "ignore-term") == 0) {
    for (;;)
      pause();
  }
  if (strcmp(mode, "orphan") == 0) {
    /* A grandchild keeps the channel (against CHAN-6) and reads it until
     * its end; the child itself says one thing and exits 0. */
    if (fork() == 0) {
      char b[4096];
      while (read(chan, b, sizeof b) > 0)
        ;
      _exit(0);
    }
    send_json("{\"orphan\":true}");
    _exit(0);
  }
  if (strcmp(mode, "truncate") == 0) {
    static const uint8_t half[] = {0x00, 0x00, 0x00, 0x0d, 0x12, 0x0b, 0x32};
    write_all(half, sizeof half, -1);
    _exit(3);
  }
  if (strcmp(mode, "unknown-reply") == 0) {
    Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
    Cord__V1__Frame f = CORD__V1__FRAME__INIT;
    m.reply_to = 999;
    f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
    f.message = &m;
    send_frame(&f);
    echo(false);
  }
  if (strcmp(mode, "flood") == 0) {
    long n = argc > 2 ? atol(argv[2]) : 1000;
    char text[64];
    for (long i = 1; i <= n; i++) {
      snprintf(text, sizeof text, "{\"i\":%ld}", i);
      send_json(text);
    }
    echo(false);
  }
  if (strcmp(mode, "hold") == 0) {
    Cord__V1__Frame *f;
    while ((f = recv_frame()) != NULL) {
      if (f->body_case == CORD__V1__FRAME__BODY_CANCEL) {
        Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
        Cord__V1__Frame r = CORD__V1__FRAME__INIT;
        m.reply_to = f->cancel->id;
        m.status = 1009;
        r.body_case = CORD__V1__FRAME__BODY_MESSAGE;
        r.message = &m;
        send_frame(&r);
      } else if (f->body_case == CORD__V1__FRAME__BODY_GOODBYE) {
        _exit(0);
      }
      cord__v1__frame__free_unpacked(f, NULL);
    }
    _exit(0);
  }
  if (strcmp(mode, "cancel") == 0) {
    Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
    Cord__V1__Cancel x = CORD__V1__CANCEL__INIT;
    Cord__V1__Frame f = CORD__V1__FRAME__INIT;
    Cord__V1__Frame *in;
    m.id = 1;
    f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
    f.message = &m;
    send_frame(&f);
    x.id = 1;
    f.body_case = CORD__V1__FRAME__BODY_CANCEL;
    f.cancel = &x;
    send_frame(&f);
    while ((in = recv_frame()) != NULL) {
      if (in->body_case == CORD__V1__FRAME__BODY_MESSAGE && in->message->reply_to == 1) {
        char text[64];
        snprintf(text, sizeof text, "{\"status\":%u}", in->message->status);
        send_json(text);
      }
      cord__v1__frame__free_unpacked(in, NULL);
    }
    _exit(0);
  }
  if (strcmp(mode, "ask-goodbye") == 0) {
    Cord__V1__Message m = CORD__V1__MESSAGE__INIT;
    Cord__V1__Frame f = CORD__V1__FRAME__INIT;
    Cord__V1__Frame *in;
    int answered = 0;
    m.id = 1;
    f.body_case = CORD__V1__FRAME__BODY_MESSAGE;
    f.message = &m;
    send_frame(&f);
    send_goodbye();
    shutdown(chan, SHUT_WR);
    while ((in = recv_frame()) != NULL) {
      if (in->body_case == CORD__V1__FRAME__BODY_MESSAGE && in->message->reply_to == 1)
        answered = 1;
      cord__v1__frame__free_unpacked(in, NULL);
    }
    _exit(answered ? 0 : 5);
  }
  if (strcmp(mode, "goodbye") == 0) {
    send_goodbye();
    shutdown(chan, SHUT_WR);
    Cord__V1__Frame *f;
    while ((f = recv_frame()) != NULL)
      cord__v1__frame__free_unpacked(f, NULL);
    _exit(0);
  }
  if (strcmp(mode, "stdio") == 0) {
    char b[4096];
    ssize_t r;
    if (write(1, "out", 3) != 3 || write(2, "err", 3) != 3)
      die("stdio");
    while ((r = read(0, b, sizeof b)) > 0)
      if (write(1, b, (size_t)r) != r)
        die("stdout");
    close(1);
    close(2);
    echo(false);
  }
  fprintf(stderr, "fake_child: unknown mode %s\n", mode);
  return 2;
}
