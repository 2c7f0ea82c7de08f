/* stream.c: the send queue with descriptor marks and the receive buffer with its descriptor queue; memory only, no I/O. */
#include "stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* ---- the send queue ---------------------------------------------------------------- */

static void close_mark(cord__mark_t *m) {
  for (unsigned k = 0; k < m->n; k++)
    close(m->fds[k]);
  cord__free(m->fds);
  m->fds = NULL;
  m->n = 0;
}

int cord__txq_reserve(cord__txq_t *q, size_t n, uint8_t **w) {
  /* The bytes from `start` stay: the frame being written is traced and
   * bounded whole. */
  size_t keep = q->tail - q->start;
  if (q->cap - q->tail < n) {
    if (q->start > 0 && q->cap - keep >= n && q->start >= keep) {
      memmove(q->p, q->p + q->start, keep);
    } else {
      size_t cap = q->cap ? q->cap : 256;
      while (cap - keep < n) {
        if (cap > SIZE_MAX / 2)
          return -ENOMEM;
        cap *= 2;
      }
      uint8_t *p = cord__malloc(cap);
      if (!p)
        return -ENOMEM;
      if (keep)
        memcpy(p, q->p + q->start, keep);
      cord__free(q->p);
      q->p = p;
      q->cap = cap;
    }
    q->head -= q->start;
    q->tail -= q->start;
    q->start = 0;
  }
  *w = q->p + q->tail;
  return 0;
}

void cord__txq_commit(cord__txq_t *q, size_t n) { q->tail += n; }

int cord__txq_reserve_mark(cord__txq_t *q) {
  if (q->mtail < q->mcap)
    return 0;
  if (q->mhead > 0) {
    memmove(q->marks, q->marks + q->mhead, (q->mtail - q->mhead) * sizeof *q->marks);
    q->mtail -= q->mhead;
    q->mhead = 0;
    return 0;
  }
  size_t cap = q->mcap ? q->mcap * 2 : 4;
  cord__mark_t *v = cord__realloc(q->marks, cap * sizeof *v);
  if (!v)
    return -ENOMEM;
  q->marks = v;
  q->mcap = cap;
  return 0;
}

void cord__txq_add_mark(cord__txq_t *q, int *fds, unsigned n) {
  cord__mark_t *m = &q->marks[q->mtail++];
  m->pos = cord__txq_end(q);
  m->fds = fds;
  m->n = n;
}

size_t cord__txq_peek(const cord__txq_t *q, const uint8_t **p, const cord__mark_t **m) {
  size_t len = cord__txq_len(q);
  const cord__mark_t *next = q->mhead < q->mtail ? &q->marks[q->mhead] : NULL;
  *m = NULL;
  *p = NULL;
  if (!len)
    return 0; /* (the buffer may not exist yet) */
  *p = q->p + q->head;
  if (next && next->pos == q->pos) {
    /* This write starts the frame the descriptors belong to [FD-3]; it
     * stops before the next frame with descriptors of its own. */
    *m = next;
    next = q->mhead + 1 < q->mtail ? &q->marks[q->mhead + 1] : NULL;
  }
  if (next && next->pos - q->pos < len)
    len = (size_t)(next->pos - q->pos);
  return len;
}

/* The length of the frame at offset `at`, whose bytes up to the tail are
 * all queued: frames are queued whole. */
static size_t frame_at(const cord__txq_t *q, size_t at) {
  size_t n = q->frame_len(q->p + at, q->tail - at);
  return n ? n : q->tail - at; /* cannot happen for a well-built queue */
}

void cord__txq_consume(cord__txq_t *q, size_t n) {
  if (n && q->mhead < q->mtail && q->marks[q->mhead].pos == q->pos) {
    close_mark(&q->marks[q->mhead]); /* the kernel holds its own copies now */
    if (++q->mhead == q->mtail)
      q->mhead = q->mtail = 0;
  }
  q->head += n;
  q->pos += n;
  /* Every frame now written whole moves `start` past it. */
  while (q->start < q->tail) {
    size_t len = frame_at(q, q->start);
    if (q->start + len > q->head)
      break;
    if (q->trace)
      q->trace(q->trace_arg, 1, q->p + q->start, len);
    q->start += len;
  }
  if (q->start == q->tail)
    q->start = q->head = q->tail = 0;
}

uint64_t cord__txq_boundary(const cord__txq_t *q) {
  if (q->start == q->head)
    return q->pos;
  return q->pos + (q->start + frame_at(q, q->start) - q->head);
}

void cord__txq_truncate(cord__txq_t *q, uint64_t pos) {
  if (pos >= cord__txq_end(q))
    return;
  while (q->mtail > q->mhead && q->marks[q->mtail - 1].pos >= pos)
    close_mark(&q->marks[--q->mtail]);
  if (q->mhead == q->mtail)
    q->mhead = q->mtail = 0;
  q->tail = q->head + (size_t)(pos - q->pos);
  if (q->start == q->tail)
    q->start = q->head = q->tail = 0;
}

void cord__txq_remove(cord__txq_t *q, uint64_t pos, size_t len) {
  size_t at = q->head + (size_t)(pos - q->pos);
  size_t mk = q->mhead;
  while (mk < q->mtail && q->marks[mk].pos < pos)
    mk++;
  if (mk < q->mtail && q->marks[mk].pos == pos) {
    close_mark(&q->marks[mk]);
    memmove(&q->marks[mk], &q->marks[mk + 1], (q->mtail - mk - 1) * sizeof *q->marks);
    q->mtail--;
  }
  for (; mk < q->mtail; mk++)
    q->marks[mk].pos -= len;
  memmove(q->p + at, q->p + at + len, q->tail - at - len);
  q->tail -= len;
}

void cord__txq_free(cord__txq_t *q) {
  while (q->mhead < q->mtail)
    close_mark(&q->marks[q->mhead++]);
  cord__free(q->marks);
  cord__free(q->p);
  cord__frame_len_fn fl = q->frame_len;
  void (*trace)(void *, int, const void *, size_t) = q->trace;
  void *arg = q->trace_arg;
  memset(q, 0, sizeof *q);
  q->frame_len = fl;
  q->trace = trace;
  q->trace_arg = arg;
}

/* ---- the receive buffer -------------------------------------------------------------- */

int cord__rxq_space(cord__rxq_t *q, size_t want, uint8_t **w, size_t *n) {
  size_t live = q->tail - q->head;
  if (want == 0)
    want = 1;
  if (q->cap - q->tail < want) {
    if (!q->pinned && q->head > 0 && q->cap - live >= want) {
      memmove(q->p, q->p + q->head, live);
    } else {
      /* Powers of two while small; past 1 MiB, what is wanted to the next
       * 64 KiB, so that a large frame costs its size and not up to twice
       * that (the caller asks for no more than the frame lacks). */
      size_t cap = 1024;
      if (live > SIZE_MAX / 2 || want > SIZE_MAX / 2)
        return -ENOMEM;
      while (cap < live + want && cap < ((size_t)1 << 20))
        cap *= 2;
      if (cap < live + want)
        cap = (live + want + 0xffff) & ~(size_t)0xffff;
      uint8_t *p = cord__malloc(cap);
      if (!p)
        return -ENOMEM;
      if (live)
        memcpy(p, q->p + q->head, live);
      /* The event of the last step may point into the old buffer: it
       * stays until that event is gone. A buffer taken while already
       * pinned holds no event bytes (they were before head) and goes. */
      if (q->pinned && !q->retired)
        q->retired = q->p;
      else
        cord__free(q->p);
      q->p = p;
      q->cap = cap;
    }
    q->tail = live;
    q->head = 0;
  }
  *w = q->p + q->tail;
  *n = q->cap - q->tail;
  return 0;
}

void cord__rxq_commit(cord__rxq_t *q, size_t n) { q->tail += n; }

int cord__rxq_push_fd(cord__rxq_t *q, int fd, uint8_t kind, unsigned limit) {
  if (q->ftail - q->fhead >= limit) {
    close(fd);
    return -1;
  }
  if (q->ftail == q->fcap) {
    if (q->fhead > 0) {
      memmove(q->fds, q->fds + q->fhead, (q->ftail - q->fhead) * sizeof *q->fds);
      q->ftail -= q->fhead;
      q->fhead = 0;
    } else {
      /* At most `limit` are ever held: one allocation of that size. */
      cord__rxfd_t *v = cord__realloc(q->fds, limit * sizeof *v);
      if (!v) {
        close(fd);
        return -1;
      }
      q->fds = v;
      q->fcap = limit;
    }
  }
  q->fds[q->ftail].fd = fd;
  q->fds[q->ftail].kind = kind;
  q->fds[q->ftail].pos = q->pos + (q->tail - q->head);
  q->ftail++;
  return 0;
}

void cord__rxq_take_fds(cord__rxq_t *q, int *out, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    out[i] = q->fds[q->fhead++].fd;
  if (q->fhead == q->ftail)
    q->fhead = q->ftail = 0;
}

void cord__rxq_close_fds(cord__rxq_t *q) {
  while (q->fhead < q->ftail)
    close(q->fds[q->fhead++].fd);
  q->fhead = q->ftail = 0;
}

void cord__rxq_consume(cord__rxq_t *q, size_t n) {
  q->head += n;
  q->pos += n;
  if (q->head == q->tail && !q->pinned)
    q->head = q->tail = 0;
}

void cord__rxq_unpin(cord__rxq_t *q) {
  q->pinned = false;
  cord__free(q->retired);
  q->retired = NULL;
  if (q->head == q->tail)
    q->head = q->tail = 0;
}

void cord__rxq_free(cord__rxq_t *q) {
  cord__rxq_close_fds(q);
  cord__free(q->fds);
  cord__free(q->p);
  cord__free(q->retired);
  memset(q, 0, sizeof *q);
}
