/* cord_child_io.c: the child SDK's only reads and writes of the channel, with descriptor passing. */
/* POSIX.1-2008 for unsetenv(), MSG_NOSIGNAL and the CMSG_* macros under -std=c11. */
#define _POSIX_C_SOURCE 200809L
#include "cord_child_int.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Control buffer with room for the most descriptors one frame may carry
 * [FD-4]; the union aligns it for struct cmsghdr. */
#ifndef CORD_CHILD_NO_FDS
typedef union {
  struct cmsghdr h;
  char b[CMSG_SPACE(sizeof(int) * CORD_CHILD_MAX_FDS)];
} cmsgbuf_t;
#endif

/* Waits until the descriptor is ready, for a program that made the channel
 * non-blocking behind the SDK's back: a blocking call stays blocking. Out
 * of line, since both directions call it. */
static __attribute__((noinline)) void await(int fd, short events) {
  struct pollfd p;
  p.fd = fd;
  p.events = events;
  (void)poll(&p, 1, -1);
}

int cord__rd(cord_chan_t *ch, int nb) {
  struct iovec v;
  struct msghdr h;
  ssize_t r;
  int bad = 0;
#ifndef CORD_CHILD_NO_FDS
  cmsgbuf_t u;
  struct cmsghdr *c;
#endif

  memset(&h, 0, sizeof h);
  v.iov_base = ch->rx + ch->fill;
  v.iov_len = ch->rx_len - ch->fill;
  h.msg_iov = &v;
  h.msg_iovlen = 1;
#ifndef CORD_CHILD_NO_FDS
  h.msg_control = u.b;
  h.msg_controllen = sizeof u.b;
#endif
  /* Every read asks for descriptors close-on-exec [FD-4, SEC-3]; with no
   * control buffer at all the kernel closes any that come and says so. */
  while ((r = recvmsg(ch->fd, &h, MSG_CMSG_CLOEXEC | nb)) < 0) {
    if (errno == EAGAIN && !nb)
      await(ch->fd, POLLIN);
    else if (errno != EINTR)
      return errno == ECONNRESET ? 0 : -errno; /* a reset peer is a gone peer */
  }
  ch->fill += (uint32_t)r;
#ifndef CORD_CHILD_NO_FDS
  /* One read takes the descriptors of one sendmsg() at most: a stream
   * socket ends a read after the data that carried them. Nothing else
   * comes, since the SDK asks for no credentials. */
  if ((c = CMSG_FIRSTHDR(&h)) != NULL && c->cmsg_type == SCM_RIGHTS) {
    const uint8_t *p = CMSG_DATA(c), *e = (const uint8_t *)c + c->cmsg_len;
    /* Queued in arrival order, noted at the position after this read
     * [FD-5]. Two such batches are all a sender that follows FD-3 can
     * have in flight: reads stop while whole frames wait, so when one
     * is made, only the frame in progress has descriptors queued. On the
     * Node.js binding a batch is one handle, and Node.js sends no second
     * before the first is answered [NODE-8]: only its first descriptor
     * is kept. A third batch or a full queue keeps none [FD-9]; so a
     * flood of handles holds two descriptors at most. */
    const uint8_t *last = (ch->flags & CORD__F_NODE) && e - p > (ptrdiff_t)sizeof(int) ? p + sizeof(int) : e;
    int keep = ch->nq == ch->n0 && (size_t)(last - p) <= (ch->fdq_len - ch->head - ch->nq) * sizeof(int);
    if (keep) {
      if (!ch->nq)
        ch->p0 = ch->pos + ch->fill;
      ch->p1 = ch->pos + ch->fill;
    }
    for (; p + sizeof(int) <= e; p += sizeof(int)) {
      int fd;
      memcpy(&fd, p, sizeof fd);
      if (keep && p < last) {
        ch->fdq[ch->head + ch->nq++] = fd;
      } else {
        close(fd);
        bad = 1;
      }
    }
    if (keep && ch->nq && !ch->n0)
      ch->n0 = ch->nq;
  }
#endif
  if ((bad || (h.msg_flags & MSG_CTRUNC)) && !(ch->flags & CORD__F_NODE))
    return CORD_EFDMISMATCH; /* descriptors were lost [FD-7] */
  return (int)r;
}

int cord__wr(cord_chan_t *ch, const void *buf, size_t n, const int *fds, unsigned nfds) {
  const uint8_t *p = buf;
  ssize_t r;
#ifndef CORD_CHILD_NO_FDS
  struct iovec v;
  struct msghdr h;
  cmsgbuf_t u;

  memset(&h, 0, sizeof h);
  h.msg_iov = &v;
  h.msg_iovlen = 1;
  if (nfds) { /* one SCM_RIGHTS message for the frame's descriptors [FD-3] */
    memset(&u, 0, sizeof u);
    h.msg_control = u.b;
    h.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    u.h.cmsg_level = SOL_SOCKET;
    u.h.cmsg_type = SCM_RIGHTS;
    u.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(&u.h), fds, sizeof(int) * nfds);
  }
#else
  (void)fds;
  (void)nfds;
#endif
  while (n) {
    /* MSG_NOSIGNAL: a closed peer is an error to return, not a signal
     * that kills the child [END-6]. */
#ifndef CORD_CHILD_NO_FDS
    v.iov_base = (void *)p;
    v.iov_len = n;
    r = sendmsg(ch->fd, &h, MSG_NOSIGNAL);
#else
    r = send(ch->fd, p, n, MSG_NOSIGNAL); /* no descriptors: one buffer is all */
#endif
    if (r < 0) {
      if (errno == EAGAIN)
        await(ch->fd, POLLOUT);
      else if (errno != EINTR) {
        r = -errno;
        /* Half a frame on the wire, or a closed peer, ends our direction. */
        if (p != buf || r == -EPIPE || r == -ECONNRESET)
          ch->flags |= CORD__F_NOWRITE;
        return (int)r;
      }
      continue;
    }
    p += r;
    n -= (size_t)r;
#ifndef CORD_CHILD_NO_FDS
    /* Descriptors ride with the frame's first byte only [FD-3]. */
    h.msg_control = NULL;
    h.msg_controllen = 0;
#endif
  }
  return 0;
}

int cord__queue(cord_chan_t *ch, size_t n, const int *fds, unsigned nfds) {
  uint8_t *frame = ch->tx;
  int r = 0;
  if (!nfds && (ch->flags & (CORD__F_BATCH | CORD__F_HOLD))) {
    ch->txn += (uint32_t)n;
    return 0;
  }
  if (nfds) { /* a frame's descriptors ride with its own first byte [FD-3] */
    frame += ch->txn;
    r = cord__flush(ch);
  } else { /* what is queued and the frame go in one write */
    n += ch->txn;
    ch->txn = 0;
  }
  return r ? r : cord__wr(ch, frame, n, fds, nfds);
}

int cord__flush(cord_chan_t *ch) {
  uint32_t n = ch->txn;
  if (ch->flags & CORD__F_HOLD)
    return n ? -EAGAIN : 0; /* [NODE-15] */
  ch->txn = 0;
  return n ? cord__wr(ch, ch->tx, n, NULL, 0) : 0;
}
