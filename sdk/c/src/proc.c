/* proc.c: the glue of a cord_proc_t: the I/O of the channel, the step that turns core, process and pipes into events, wait, flush and close. */
#define _GNU_SOURCE
#include "proc.h"

#include "cord.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct cord__proc_priv priv_t;

/* Reads one step makes at most. */
#define CORD__READS_PER_STEP 16

/* Whether readiness is known: inside cord_wait() after its poll, or in a
 * loop, which watches every descriptor. A step the application calls on
 * its own, after its own poll, tries every system call. */
static bool hinted(const priv_t *p) { return p->in_wait || p->loop; }

/* ---- setting up ---------------------------------------------------------------------------- */

/* Checks the options a channel uses; the process options are spawn.c's. */
static int check_channel_options(const cord_options_t *o) {
  if ((o->max_frame && o->max_frame < CORD_WIRE_MIN_FRAME) || o->max_frame > CORD_WIRE_MAX_FRAME ||
      o->max_fds > CORD_FDS_MAX || o->kill_signal < 0 || o->kill_signal >= NSIG) {
    cord__spawn_errorf("max_frame, max_fds or kill_signal out of range");
    return -EINVAL;
  }
  if ((o->impl_name && strlen(o->impl_name) > 64) || (o->impl_version && strlen(o->impl_version) > 32)) {
    cord__spawn_errorf("impl_name is limited to 64 bytes and impl_version to 32");
    return -EINVAL;
  }
  if (o->serialization != CORD_SERIALIZATION_CORD && o->serialization != CORD_SERIALIZATION_JSON &&
      o->serialization != CORD_SERIALIZATION_ADVANCED) {
    cord__spawn_errorf("serialization %d is none of CORD, JSON and ADVANCED", (int)o->serialization);
    return -EINVAL;
  }
  return 0;
}

/* Allocates the private part and starts the core: the Hello is queued. */
static int open_priv(cord_proc_t *c, const cord_options_t *o, bool fd_passing) {
  cord__core_cfg_t cfg = {0};
  priv_t *p;
  int r;
  if ((r = check_channel_options(o)) < 0)
    return r;
  if (!(p = cord__calloc(1, sizeof *p))) {
    cord__spawn_errorf("out of memory");
    return -ENOMEM;
  }
  p->owner = c;
  p->fd = -1;
  p->fd_passing = fd_passing;
  p->heap_index = SIZE_MAX;
  cord__q_init(&p->ready);
  cord__q_init(&p->dirty);
  cord__q_init(&p->handed);
  cord__q_init(&p->member);
  p->proc.pidfd = -1;
  for (int i = 0; i < CORD_STDIO_MAX; i++)
    p->proc.stdio[i] = -1;
  cfg.binding = o->serialization == CORD_SERIALIZATION_JSON       ? CORD__BIND_NODE_JSON
                : o->serialization == CORD_SERIALIZATION_ADVANCED ? CORD__BIND_NODE_ADVANCED
                                                                  : CORD__BIND_CORD;
  /* Node.js takes lines of about 512 MiB; a receiver should take 256 MiB
   * at least (NODE-6). Memory follows what arrives, not this limit. An
   * advanced message's values take up to CORD_V8_ARENA_BOUND(max_frame),
   * so that binding keeps Cord's default. */
  cfg.max_frame = o->max_frame                               ? o->max_frame
                  : o->serialization == CORD_SERIALIZATION_JSON ? CORD__DEF_MAX_LINE
                                                              : CORD__DEF_MAX_FRAME;
  cfg.max_fds = !fd_passing || (o->flags & CORD_OPT_NO_FDS) ? 0 : o->max_fds ? o->max_fds : CORD__DEF_MAX_FDS;
  if (cfg.binding != CORD__BIND_CORD && fd_passing) {
    /* Node passes one handle per message; with CORD_OPT_NO_FDS each is
     * still read, and refused (NODE-8). */
    cfg.max_fds = CORD__DEF_MAX_FDS;
    cfg.refuse_handles = (o->flags & CORD_OPT_NO_FDS) != 0;
  }
  cfg.high_water = o->high_water ? o->high_water : CORD__DEF_HIGH_WATER;
  cfg.queue_limit = o->queue_limit ? o->queue_limit : CORD__DEF_QUEUE_LIMIT;
  cfg.pid = (uint32_t)getpid();
  cfg.impl_name = o->impl_name;
  cfg.impl_version = o->impl_version;
  cfg.trace = o->trace;
  cfg.trace_arg = o->trace_arg;
  if ((r = cord__core_init(&p->core, &cfg)) < 0) {
    cord__core_free(&p->core);
    cord__free(p);
    cord__spawn_errorf("cannot build the Hello: %s", cord_strerror(r));
    return r;
  }
  c->priv = p;
  c->serialization = o->serialization;
  return 0;
}

/* The channel descriptor is there: the Hello goes at once [HELLO-1]. */
static void start_channel(priv_t *p, int fd, const cord_options_t *o) {
  p->fd = fd;
  p->owner->connected = 1;
  if (p->core.cfg.binding == CORD__BIND_CORD)
    p->hello_at = cord__now_ms() + (o->hello_timeout_ms ? o->hello_timeout_ms : CORD__DEF_HELLO_MS);
  cord__proc_flush(p->owner);
}

static void free_priv(priv_t *p) {
  cord__core_free(&p->core);
  cord__free(p);
}

/* ---- the channel's I/O -------------------------------------------------------------------------- */

static void close_channel(priv_t *p) {
  if (p->fd >= 0) {
    close(p->fd); /* which also takes it out of any epoll set */
    p->fd = -1;
  }
  p->hello_at = 0;
  p->owner->connected = 0;
  cord__loop_timer_changed(p->owner);
}

/* Writes as much of what the core has to send as the socket takes now.
 * Descriptors go with the sendmsg() whose data starts at their frame
 * (spec FD-3); the direction is shut down after its last frame [END-1]. */
static void write_some(priv_t *p) {
  const uint8_t *b;
  const int *fds;
  unsigned nfds;
  size_t len;

  while (p->fd >= 0 && (!hinted(p) || !p->tx_blocked) && (len = cord__core_tx_peek(&p->core, &b, &fds, &nfds))) {
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * CORD_FDS_MAX)];
    } cm;
    struct iovec iov = {(void *)b, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;
    if (nfds) {
      memset(cm.buf, 0, sizeof cm.buf);
      mh.msg_control = cm.buf;
      mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
      h->cmsg_level = SOL_SOCKET;
      h->cmsg_type = SCM_RIGHTS;
      h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      memcpy(CMSG_DATA(h), fds, sizeof(int) * nfds);
    }
    do
      n = sendmsg(p->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        p->tx_blocked = true;
        /* After a failure, or at the peer's plain end of file, only what
         * goes at once is sent. */
        if (p->core.best_effort)
          cord__core_tx_closed(&p->core);
        break;
      }
      /* Spec END-6: EPIPE, ECONNRESET: the peer's end is closed. */
      cord__core_tx_closed(&p->core);
      break;
    }
    p->tx_blocked = false;
    cord__core_tx_done(&p->core, (size_t)n);
  }
  if (p->fd >= 0 && cord__core_tx_finished(&p->core)) {
    shutdown(p->fd, SHUT_WR); /* spec END-1 */
    cord__core_tx_closed(&p->core);
  }
}

/* What a descriptor is, as Node.js's handles see it (libuv's
 * uv_guess_handle(): TCP and Unix stream sockets, UDP sockets). */
static cord__fd_kind_t fd_kind(int fd) {
  int type = 0, domain = 0, listening = 0;
  socklen_t len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
    return CORD__FD_OTHER;
  len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
    return CORD__FD_OTHER;
  if (type == SOCK_STREAM && (domain == AF_INET || domain == AF_INET6 || domain == AF_UNIX)) {
    len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
      return CORD__FD_OTHER;
    return listening ? CORD__FD_LISTENING : CORD__FD_STREAM;
  }
  if (type == SOCK_DGRAM && domain == AF_INET)
    return CORD__FD_UDP4;
  if (type == SOCK_DGRAM && domain == AF_INET6)
    return CORD__FD_UDP6;
  return CORD__FD_OTHER;
}

/* Reads once into the core, with the descriptors that come along
 * (spec FD-4). Returns the number of bytes, 0 at end of file (a reset
 * counts as one, END-6), -EAGAIN, or another negative code. */
static int read_some(priv_t *p) {
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * CORD_FDS_MAX)];
  } cm;
  int fds[CORD_FDS_MAX];
  uint8_t kinds[CORD_FDS_MAX] = {0};
  unsigned nfds = 0;
  uint8_t *w;
  size_t room;
  ssize_t n;

  if (cord__core_rx_space(&p->core, &w, &room) < 0)
    return -ENOMEM;
  struct iovec iov = {w, room};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (p->fd_passing) {
    mh.msg_control = cm.buf;
    mh.msg_controllen = sizeof cm.buf;
  }
  do
    n = recvmsg(p->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return -EAGAIN;
    return errno == ECONNRESET ? 0 : -errno;
  }
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); p->fd_passing && h; h = CMSG_NXTHDR(&mh, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const uint8_t *data = CMSG_DATA(h);
    for (size_t i = 0; i < k && nfds < CORD_FDS_MAX; i++)
      memcpy(&fds[nfds++], data + i * sizeof(int), sizeof(int));
  }
  /* Node.js's handles are judged by what their descriptors are. */
  for (unsigned i = 0; i < nfds && p->core.cfg.binding != CORD__BIND_CORD; i++)
    kinds[i] = (uint8_t)fd_kind(fds[i]);
  cord__core_rx_commit(&p->core, (size_t)n, fds, kinds, nfds);
  if (mh.msg_flags & MSG_CTRUNC)
    cord__core_rx_lost_fds(&p->core); /* spec FD-7: the kernel dropped descriptors */
  return n == 0 ? 0 : (int)n;
}

/* Reads, and hands what the read says to the core. Returns 1 when
 * something changed (bytes, end of file, an error), 0 on EAGAIN. */
static int read_channel(priv_t *p) {
  int r = read_some(p);
  if (r == -EAGAIN) {
    p->rx_ready = false;
    return 0;
  }
  if (r == 0)
    cord__core_rx_eof(&p->core);
  else if (r < 0 && r != -ENOMEM)
    cord__core_fail(&p->core, r, true, "reading the channel: %s", cord_strerror(r));
  return 1;
}

/* Whether reading can bring anything. */
static bool may_read(const priv_t *p) {
  return p->fd >= 0 && !p->core.eof && p->core.in != CORD__IN_ENDED && (!hinted(p) || p->rx_ready);
}

void cord__proc_flush(cord_proc_t *c) {
  if (c->priv && c->priv->fd >= 0)
    write_some(c->priv);
}

int64_t cord__proc_deadline(const priv_t *p) {
  int64_t d = cord__process_deadline(&p->proc);
  if (p->hello_at && (!d || p->hello_at < d))
    d = p->hello_at;
  return d;
}

void cord__proc_hint(cord_proc_t *c, int which, uint32_t e) {
  priv_t *p = c->priv;
  if (which == CORD__FD_CHANNEL) {
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      p->rx_ready = true;
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
      p->tx_blocked = false;
  } else if (which == CORD__FD_PID) {
    p->pid_ready = true;
  }
}

/* ---- the step ------------------------------------------------------------------------------------ */

/* The timers of the channel (the Hello's) and of the process. */
static void run_timers(priv_t *p, int64_t now) {
  if (p->hello_at && now >= p->hello_at) {
    p->hello_at = 0;
    if (p->core.in == CORD__IN_HELLO) {
      cord__core_fail(&p->core, CORD_ETIMEOUT, true,
                      "the child sent no Hello within the handshake timeout"); /* spec HELLO-12 */
      /* The channel is closed; a child that never spoke may not notice:
       * the rest of END-9, from the grace period on. */
      cord__process_stop(&p->proc, now);
    }
  }
  cord__process_timers(&p->proc, now);
  cord__loop_timer_changed(p->owner);
}

/* Fills the terminal events from the state they are derived from. */
static int disconnect_event(priv_t *p, cord_event_t *ev) {
  p->disconnect_told = true;
  ev->type = CORD_EV_DISCONNECT;
  ev->error = cord__core_end_code(&p->core);
  ev->detail = cord__core_end_detail(&p->core);
  return 1;
}

static int exit_event(priv_t *p, cord_event_t *ev) {
  cord_proc_t *c = p->owner;
  p->proc.state = CORD__PROC_REPORTED;
  c->exited = 1;
  c->exit_status = p->proc.exit_status;
  c->term_signal = p->proc.term_signal;
  ev->type = CORD_EV_EXIT;
  ev->exit_status = c->exit_status;
  ev->term_signal = c->term_signal;
  cord__loop_timer_changed(c);
  return 1;
}

static int step(cord_proc_t *c, priv_t *p, cord_event_t *ev);

int cord_step(cord_proc_t *c, cord_event_t *ev) {
  int r;
  if (!c || !c->priv || !ev)
    return -EINVAL;
  r = step(c, c->priv, ev);
  c->connected = c->priv->fd >= 0 && cord__core_connected(&c->priv->core); /* Node's `connected` */
  return r;
}

static int step(cord_proc_t *c, priv_t *p, cord_event_t *ev) {
  memset(ev, 0, sizeof *ev);
  if (p->close_told) {
    p->drained = true;
    return 0; /* ended: nothing will ever come */
  }
  cord__core_release(&p->core); /* the last event's bytes may move now */

  /* A step reads a bounded number of times, as it handles a bounded number
   * of frames (the core's budget): a peer that writes without pause must
   * not keep one call running, and its neighbours in a loop waiting. */
  int reads = 0;
  for (;;) {
    int r = cord__core_next(&p->core, ev);
    if (r == 1) {
      if (ev->type == CORD_EV_READY) {
        c->peer = p->core.peer;
        p->hello_at = 0;
        cord__loop_timer_changed(c);
      }
      return 1;
    }
    p->more = r == CORD__MORE;
    if (p->fd >= 0) {
      write_some(p);
      if (cord__core_done(&p->core)) {
        close_channel(p); /* spec END-5 */
        continue;
      }
      /* The write took the queue below the mark: its DRAIN is this step's,
       * since nothing may come that would wake the caller for another. */
      if (p->core.drain_due)
        continue;
    }
    if (p->fd < 0 && !p->disconnect_told)
      return disconnect_event(p, ev);
    if (!p->more && may_read(p)) {
      if (reads == CORD__READS_PER_STEP)
        p->more = true;
      else if (reads++, read_channel(p))
        continue;
    }

    int64_t now = cord__now_ms();
    if (cord__proc_deadline(p) && now >= cord__proc_deadline(p)) {
      run_timers(p, now);
      continue; /* a timer may have failed the channel */
    }

    if (p->proc.state == CORD__PROC_RUNNING && (!hinted(p) || p->pid_ready || p->proc.pidfd < 0)) {
      p->pid_ready = false;
      if (cord__process_reap(&p->proc))
        cord__loop_timer_changed(c);
      else if (p->proc.pidfd < 0)
        cord__loop_timer_changed(c); /* the next look */
    }
    if (p->proc.state == CORD__PROC_EXITED) {
      if (p->fd >= 0 && !p->exit_drained) {
        /* The child is gone, so everything it wrote is in the socket:
         * read it all before the channel ends, which keeps Node's order
         * disconnect, exit, close. */
        p->exit_drained = true;
        p->rx_ready = true;
        continue;
      }
      if (p->fd >= 0 && !p->more) {
        /* Read to the end, and no end of file: the channel is still held
         * by another process (a descendant that kept it, against CHAN-6).
         * The child is gone; the channel ends here [CHAN-10]. */
        cord__core_peer_gone(&p->core);
        write_some(p);
        cord__core_tx_closed(&p->core);
        continue;
      }
      if (p->fd < 0)
        return exit_event(p, ev);
    }

    if (p->proc.nstdio_open && cord__process_output(&p->proc, ev))
      return 1;

    if (p->fd < 0 && p->disconnect_told && p->proc.nstdio_open == 0 &&
        (p->proc.state == CORD__PROC_REPORTED || p->proc.state == CORD__PROC_NONE)) {
      p->close_told = true;
      ev->type = CORD_EV_CLOSE;
      cord__loop_timer_changed(c);
      return 1;
    }
    p->drained = !p->more;
    return -EAGAIN;
  }
}

/* ---- blocking helpers ---------------------------------------------------------------------------- */

int cord_fds(const cord_proc_t *c, int *fds, short *events, int max) {
  const priv_t *p;
  int n = 0;
  if (!c || !c->priv || max < 0)
    return -EINVAL;
  p = c->priv;
  if (p->fd >= 0 && n < max) {
    fds[n] = p->fd;
    events[n++] = (short)(POLLIN | (cord__core_tx_pending(&p->core) ? POLLOUT : 0));
  }
  if (p->proc.pidfd >= 0 && p->proc.state == CORD__PROC_RUNNING && n < max) {
    fds[n] = p->proc.pidfd;
    events[n++] = POLLIN;
  }
  for (int i = 1; i < CORD_STDIO_MAX && n < max; i++)
    if (p->proc.stdio[i] >= 0) {
      fds[n] = p->proc.stdio[i];
      events[n++] = POLLIN;
    }
  return n;
}

int cord_timeout(const cord_proc_t *c) {
  int64_t d, now;
  if (!c || !c->priv)
    return -1;
  if (c->priv->more)
    return 0; /* frames are buffered that the last step left for the next */
  d = cord__proc_deadline(c->priv);
  if (!d)
    return -1;
  now = cord__now_ms();
  return d <= now ? 0 : (int)(d - now > 0x7fffffff ? 0x7fffffff : d - now);
}

/* Polls the child's descriptors and notes what they say. */
static int poll_child(cord_proc_t *c, int timeout_ms) {
  priv_t *p = c->priv;
  struct pollfd pf[CORD_STDIO_MAX + 2];
  int fds[CORD_STDIO_MAX + 2];
  short evs[CORD_STDIO_MAX + 2];
  int n = cord_fds(c, fds, evs, CORD_STDIO_MAX + 2);
  int t = cord_timeout(c);
  if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
    timeout_ms = t;
  for (int i = 0; i < n; i++)
    pf[i] = (struct pollfd){fds[i], evs[i], 0};
  if (poll(pf, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
    return -errno;
  for (int i = 0; i < n; i++) {
    if (!pf[i].revents)
      continue;
    if (pf[i].fd == p->fd)
      cord__proc_hint(c, CORD__FD_CHANNEL,
                      (pf[i].revents & (POLLIN | POLLHUP | POLLERR) ? EPOLLIN : 0) |
                          (pf[i].revents & (POLLOUT | POLLERR) ? EPOLLOUT : 0));
    else if (pf[i].fd == p->proc.pidfd)
      cord__proc_hint(c, CORD__FD_PID, EPOLLIN);
  }
  return 0;
}

int cord_wait(cord_proc_t *c, cord_event_t *ev, int timeout_ms) {
  int64_t deadline = timeout_ms >= 0 ? cord__now_ms() + timeout_ms : 0;
  int r;
  if (!c || !c->priv || !ev)
    return -EINVAL;
  /* The first step tries everything: nothing is known of the descriptors
   * yet. The steps after a poll trust what it said. */
  for (bool polled = false;; polled = true) {
    c->priv->in_wait = polled;
    r = cord_step(c, ev);
    c->priv->in_wait = false;
    if (r != -EAGAIN)
      return r;
    int left = -1;
    if (timeout_ms >= 0) {
      int64_t now = cord__now_ms();
      if (now >= deadline)
        return -ETIMEDOUT;
      left = (int)(deadline - now);
    }
    if ((r = poll_child(c, left)) < 0)
      return r;
  }
}

int cord_flush(cord_proc_t *c, int timeout_ms) {
  int64_t deadline = timeout_ms >= 0 ? cord__now_ms() + timeout_ms : 0;
  priv_t *p;
  if (!c || !c->priv)
    return -EINVAL;
  p = c->priv;
  for (;;) {
    struct pollfd pf;
    int left = -1;
    if (p->fd >= 0)
      write_some(p); /* before the handshake, only the Hello goes [HELLO-5] */
    /* The child's Hello (or, from Node.js, its answer to our handle), if
     * read already, opens the way for the rest; its event waits for
     * cord_step() like every other. */
    cord__core_flush_input(&p->core);
    if (p->core.hs && cord__txq_len(&p->core.tx) == 0 && p->core.answers_n == 0)
      return 0;
    if (p->fd < 0 || p->core.out == CORD__OUT_ENDED)
      return CORD_ECLOSED;
    if (!p->core.hs && (p->core.eof || p->core.fail_code))
      return CORD_ECLOSED;
    if (timeout_ms >= 0) {
      int64_t now = cord__now_ms();
      if (now >= deadline)
        return -ETIMEDOUT;
      left = (int)(deadline - now);
    }
    /* Spec FLOW-1: keep reading while waiting to write, up to the queue
     * limit; cord_step() decodes it later. */
    pf.fd = p->fd;
    pf.events = (short)((cord__core_tx_pending(&p->core) ? POLLOUT : 0) |
                        (may_read(p) && cord__rxq_len(&p->core.rx) < p->core.cfg.queue_limit ? POLLIN : 0));
    pf.revents = 0;
    if (poll(&pf, 1, left) < 0 && errno != EINTR)
      return -errno;
    if (pf.revents & POLLOUT)
      p->tx_blocked = false;
    if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
      p->rx_ready = true;
      if (may_read(p))
        (void)read_channel(p); /* the same read as cord_step()'s */
    }
    if (p->loop)
      cord__loop_mark_dirty(c);
  }
}

/* ---- sending ------------------------------------------------------------------------------------- */

/* After a send: a full batch is written at once, the rest by the next
 * step, flush or loop wait, so that small messages share one write. */
static int sent(priv_t *p, int r) {
  p->owner->connected = p->fd >= 0 && cord__core_connected(&p->core);
  if (r < 0) {
    /* A refusal without a reason of its own says what its code says. */
    if (p->core.refusal_code != r)
      snprintf(p->core.refusal, sizeof p->core.refusal, "%s", cord_strerror(r));
    p->core.refusal_code = 0;
    return r;
  }
  if (cord__txq_len(&p->core.tx) >= ((size_t)64 << 10) && p->core.hs)
    write_some(p);
  if (p->loop)
    cord__loop_mark_dirty(p->owner);
  return r;
}

static priv_t *get(cord_proc_t *c) { return c ? c->priv : NULL; }

/* A message for a Node.js binding, with its descriptor's kind found out. */
static int node_send(priv_t *p, const cord_msg_t *m, const cord_value_t *v) {
  cord__fd_kind_t kind = CORD__FD_OTHER;
  if (m->nfds == 1 && m->fds && p->fd_passing)
    kind = fd_kind(m->fds[0]);
  return cord__node_send(&p->core, m, v, kind);
}

int cord_send(cord_proc_t *c, const cord_msg_t *m) {
  priv_t *p = get(c);
  int r;
  if (!p || !m)
    return -EINVAL;
  if (!cord__core_connected(&p->core))
    return sent(p, CORD_ECLOSED);
  if (p->core.cfg.binding != CORD__BIND_CORD)
    return sent(p, node_send(p, m, NULL));
  if ((r = cord__core_check_msg(&p->core, m)) < 0 || (r = cord__core_send(&p->core, 0, 0, 0, m)) < 0)
    return sent(p, r);
  return sent(p, cord__core_after_queue(&p->core));
}

int cord_send_value(cord_proc_t *c, const cord_value_t *v, const int *fds, unsigned nfds) {
  priv_t *p = get(c);
  cord_msg_t m = {0};
  if (!p || !v)
    return -EINVAL;
  if (!cord__core_connected(&p->core))
    return sent(p, CORD_ECLOSED);
  m.fds = fds;
  m.nfds = nfds;
  if (p->core.cfg.binding == CORD__BIND_CORD)
    return sent(p, cord__core_refuse(&p->core, CORD_ENODE, "values travel on Node.js's advanced channel only"));
  return sent(p, node_send(p, &m, v));
}

const char *cord_proc_detail(const cord_proc_t *c) { return c && c->priv ? c->priv->core.refusal : ""; }

int cord_send_json(cord_proc_t *c, const char *json) {
  cord_msg_t m = {0};
  if (!json)
    return -EINVAL;
  m.payload = CORD_PAYLOAD_JSON;
  m.data = json;
  m.len = strlen(json);
  return cord_send(c, &m);
}

int cord_send_pbc(cord_proc_t *c, const ProtobufCMessage *msg) {
  cord_msg_t m = {0};
  uint8_t small[256];
  uint8_t *buf = small;
  size_t n;
  int r;
  if (!msg || !msg->descriptor)
    return -EINVAL;
  n = protobuf_c_message_get_packed_size(msg);
  if (n > sizeof small && !(buf = cord__malloc(n)))
    return -ENOMEM;
  protobuf_c_message_pack(msg, buf);
  m.payload = CORD_PAYLOAD_TYPED;
  m.type_name = msg->descriptor->name;
  m.data = buf;
  m.len = n;
  r = cord_send(c, &m);
  if (buf != small)
    cord__free(buf);
  return r;
}

int cord_request(cord_proc_t *c, const cord_msg_t *m, uint64_t *id) {
  priv_t *p = get(c);
  return p ? sent(p, cord__core_request(&p->core, m, id)) : -EINVAL;
}

int cord_reply(cord_proc_t *c, uint64_t id, uint32_t status, const cord_msg_t *m) {
  priv_t *p = get(c);
  return p ? sent(p, cord__core_reply(&p->core, id, status, m)) : -EINVAL;
}

int cord_cancel(cord_proc_t *c, uint64_t id) {
  priv_t *p = get(c);
  return p ? sent(p, cord__core_cancel(&p->core, id)) : -EINVAL;
}

int cord_ping(cord_proc_t *c, uint64_t *nonce) {
  priv_t *p = get(c);
  return p ? sent(p, cord__core_ping(&p->core, nonce)) : -EINVAL;
}

int cord_disconnect(cord_proc_t *c) {
  priv_t *p = get(c);
  if (!p)
    return -EINVAL;
  if (!cord__core_connected(&p->core))
    return CORD_ECLOSED;
  cord__core_end(&p->core, CORD__V1__GOODBYE__REASON__REASON_SHUTDOWN);
  c->connected = 0;
  write_some(p);
  return sent(p, 0);
}

/* ---- attaching and closing ------------------------------------------------------------------------ */

int cord_attach(cord_proc_t *c, int fd, const cord_options_t *opts) {
  static const cord_options_t defaults;
  const cord_options_t *o = opts ? opts : &defaults;
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  int type = 0, r;
  socklen_t tlen = sizeof type;

  if (!c)
    return -EINVAL;
  memset(c, 0, sizeof *c);
  if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM ||
      getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
    cord__spawn_errorf("descriptor %d is not a connected stream socket", fd);
    return fd < 0 ? -EBADF : -ENOTSOCK;
  }
  /* Only an AF_UNIX socket passes descriptors; on any other stream the
   * Hello declares max_fds 0. */
  if ((r = open_priv(c, o, sa.ss_family == AF_UNIX)) < 0)
    return r;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  start_channel(c->priv, fd, o);
  return 0;
}

int cord__proc_spawned(cord_proc_t *c, const char *module, const char *const *args, const cord_options_t *o) {
  int fd = -1, r;
  if ((r = open_priv(c, o, true)) < 0)
    return r;
  if ((r = cord__process_start(&c->priv->proc, &fd, module, args, o)) < 0) {
    free_priv(c->priv);
    c->priv = NULL;
    return r;
  }
  c->pid = c->priv->proc.pid;
  start_channel(c->priv, fd, o);
  return 0;
}

void cord_proc_close(cord_proc_t *c) {
  priv_t *p;
  if (!c || !(p = c->priv))
    return;
  cord__loop_forget(c);
  if (p->fd >= 0)
    close(p->fd);
  cord__process_close(&p->proc);
  free_priv(p);
  c->priv = NULL;
  c->connected = 0;
}

void cord_child_close(cord_proc_t *c) { cord_proc_close(c); }

const char *cord_event_name(cord_event_type_t type) {
  static const char *names[] = {"NONE",  "READY", "MESSAGE", "REPLY",      "CANCEL", "PONG",
                                "DRAIN", "ERROR", "OUTPUT",  "DISCONNECT", "EXIT",   "CLOSE"};
  return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "UNKNOWN";
}

ProtobufCMessage *cord_event_unpack(const cord_event_t *ev, const ProtobufCMessageDescriptor *desc) {
  if (!ev || !desc || ev->payload != CORD_PAYLOAD_TYPED || !ev->type_name || strcmp(ev->type_name, desc->name) != 0)
    return NULL;
  return protobuf_c_message_unpack(desc, NULL, ev->len, ev->data);
}
