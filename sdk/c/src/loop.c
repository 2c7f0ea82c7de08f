/* loop.c: many children on one epoll instance, with one timer heap, at a cost per event independent of their number. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cord_int.h"

typedef struct cord__child_priv priv_t;

/* An array of children where each knows its own index, so that adding and
 * removing are O(1) (removal swaps the last one into the hole). */
typedef struct {
  cord_proc_t **v;
  size_t n, cap;
} vec_t;

struct cord__loop_priv {
  vec_t heap;  /* min-heap on each child's next deadline */
  vec_t ready; /* children that may have events */
  vec_t dirty; /* children with output not yet written */
  vec_t handed; /* children the last wait returned */
  struct epoll_event evs[256];
};

#define NONE SIZE_MAX

static int vec_push(vec_t *v, cord_proc_t *c, size_t *index) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    cord_proc_t **x = realloc(v->v, cap * sizeof *x);
    if (!x)
      return -ENOMEM;
    v->v = x;
    v->cap = cap;
  }
  *index = v->n;
  v->v[v->n++] = c;
  return 0;
}

/* `slot` gives the index this vector keeps in each child. */
static void vec_remove(vec_t *v, size_t *index, size_t *(*slot)(cord_proc_t *)) {
  size_t i = *index;
  if (i == NONE)
    return;
  v->v[i] = v->v[--v->n];
  if (i < v->n)
    *slot(v->v[i]) = i;
  *index = NONE;
}

static size_t *ready_slot(cord_proc_t *c) { return &c->priv->ready_index; }
static size_t *dirty_slot(cord_proc_t *c) { return &c->priv->dirty_index; }
static size_t *handed_slot(cord_proc_t *c) { return &c->priv->handed_index; }

/* ---- the timer heap ------------------------------------------------------------------- */

static int64_t key(cord_proc_t *c) { return cord__next_deadline(c->priv); }

static void heap_swap(vec_t *h, size_t a, size_t b) {
  cord_proc_t *t = h->v[a];
  h->v[a] = h->v[b];
  h->v[b] = t;
  h->v[a]->priv->heap_index = a;
  h->v[b]->priv->heap_index = b;
}

static void heap_fix(vec_t *h, size_t i) {
  while (i > 0 && key(h->v[i]) < key(h->v[(i - 1) / 2])) {
    heap_swap(h, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && key(h->v[l]) < key(h->v[m]))
      m = l;
    if (r < h->n && key(h->v[r]) < key(h->v[m]))
      m = r;
    if (m == i)
      return;
    heap_swap(h, i, m);
    i = m;
  }
}

static void heap_remove(vec_t *h, cord_proc_t *c) {
  size_t i = c->priv->heap_index;
  if (i == NONE)
    return;
  c->priv->heap_index = NONE;
  if (i == --h->n)
    return;
  h->v[i] = h->v[h->n];
  h->v[i]->priv->heap_index = i;
  heap_fix(h, i);
}

void cord__loop_timer_changed(cord_proc_t *c) {
  priv_t *p = c->priv;
  vec_t *h;
  if (!p || !p->loop)
    return;
  h = &p->loop->priv->heap;
  if (!cord__next_deadline(p) || p->close_sent) {
    heap_remove(h, c);
  } else if (p->heap_index == NONE) {
    if (vec_push(h, c, &p->heap_index) == 0)
      heap_fix(h, p->heap_index);
  } else {
    heap_fix(h, p->heap_index);
  }
}

/* ---- membership ---------------------------------------------------------------------- */

static void mark_ready(cord_proc_t *c) {
  priv_t *p = c->priv;
  if (p->ready_index == NONE)
    (void)vec_push(&p->loop->priv->ready, c, &p->ready_index);
}

void cord__loop_mark_dirty(cord_proc_t *c) {
  priv_t *p = c->priv;
  if (p && p->loop && p->dirty_index == NONE)
    (void)vec_push(&p->loop->priv->dirty, c, &p->dirty_index);
}

void cord__loop_forget_fd(cord_proc_t *c, int fd) {
  if (c->priv && c->priv->loop)
    epoll_ctl(c->priv->loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void cord__loop_forget(cord_proc_t *c) {
  priv_t *p = c->priv;
  struct cord__loop_priv *lp;
  if (!p || !p->loop)
    return;
  lp = p->loop->priv;
  heap_remove(&lp->heap, c);
  vec_remove(&lp->ready, &p->ready_index, ready_slot);
  vec_remove(&lp->dirty, &p->dirty_index, dirty_slot);
  vec_remove(&lp->handed, &p->handed_index, handed_slot);
  if (p->fd >= 0)
    cord__loop_forget_fd(c, p->fd);
  if (p->pidfd >= 0)
    cord__loop_forget_fd(c, p->pidfd);
  for (int i = 1; i < CORD_STDIO_MAX; i++)
    if (p->stdio[i] >= 0)
      cord__loop_forget_fd(c, p->stdio[i]);
  p->loop = NULL;
}

int cord_loop_init(cord_loop_t *loop) {
  if (!loop)
    return -EINVAL;
  memset(loop, 0, sizeof *loop);
  loop->priv = calloc(1, sizeof *loop->priv);
  if (!loop->priv)
    return -ENOMEM;
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0) {
    int err = -errno;
    free(loop->priv);
    loop->priv = NULL;
    return err;
  }
  return 0;
}

static int watch(cord_loop_t *loop, cord_proc_t *c, int fd, uint32_t events) {
  struct epoll_event e;
  memset(&e, 0, sizeof e);
  /* Edge-triggered: cord_step() reads and writes until the socket says
   * EAGAIN, so a level would only wake the loop again for nothing. */
  e.events = events | EPOLLET;
  e.data.ptr = c;
  return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

int cord_loop_add(cord_loop_t *loop, cord_proc_t *c) {
  priv_t *p;
  int r = 0;
  if (!loop || !loop->priv || !c || !(p = c->priv))
    return -EINVAL;
  if (p->loop)
    return p->loop == loop ? 0 : -EBUSY;
  if (p->fd >= 0)
    r = watch(loop, c, p->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
  if (!r && p->pidfd >= 0)
    r = watch(loop, c, p->pidfd, EPOLLIN);
  for (int i = 1; !r && i < CORD_STDIO_MAX; i++)
    if (p->stdio[i] >= 0)
      r = watch(loop, c, p->stdio[i], EPOLLIN);
  p->loop = loop;
  if (r < 0) {
    cord__loop_forget(c);
    return r;
  }
  /* Whatever happened before it joined (its Hello, its READY) is waiting. */
  p->drained = false;
  mark_ready(c);
  cord__loop_mark_dirty(c);
  cord__loop_timer_changed(c);
  return 0;
}

int cord_loop_wait(cord_loop_t *loop, cord_proc_t **ready, int max, int timeout_ms) {
  struct cord__loop_priv *lp;
  int n, out = 0;
  if (!loop || !(lp = loop->priv) || !ready || max <= 0)
    return -EINVAL;

  /* A child handed out last time but not stepped until cord_step()
   * returned 0 may have frames already read, which no new edge will
   * announce: it is ready again. */
  while (lp->handed.n) {
    cord_proc_t *c = lp->handed.v[lp->handed.n - 1];
    vec_remove(&lp->handed, &c->priv->handed_index, handed_slot);
    if (!c->priv->drained)
      mark_ready(c);
  }

  /* Write what was queued since the last wait: one system call per child
   * for all its messages. A child whose socket is full is woken by
   * EPOLLOUT later. */
  while (lp->dirty.n) {
    cord_proc_t *c = lp->dirty.v[lp->dirty.n - 1];
    vec_remove(&lp->dirty, &c->priv->dirty_index, dirty_slot);
    cord__flush(c);
  }

  if (lp->ready.n)
    timeout_ms = 0;
  if (lp->heap.n) {
    int64_t d = key(lp->heap.v[0]) - cord__now_ms();
    if (d < 0)
      d = 0;
    if (timeout_ms < 0 || d < timeout_ms)
      timeout_ms = (int)d;
  }
  do
    n = epoll_wait(loop->epfd, lp->evs, (int)(sizeof lp->evs / sizeof lp->evs[0]), timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  for (int i = 0; i < n; i++) {
    cord_proc_t *c = lp->evs[i].data.ptr;
    if (c->priv && c->priv->loop == loop)
      mark_ready(c);
  }
  /* Children whose timers expired. */
  int64_t now = cord__now_ms();
  for (size_t i = 0; i < lp->heap.n && key(lp->heap.v[i]) <= now; i++)
    mark_ready(lp->heap.v[i]);

  /* First come, first served: the oldest ready children go out, and the
   * rest move up; the work is proportional to the ready list alone. */
  size_t take = lp->ready.n < (size_t)max ? lp->ready.n : (size_t)max;
  for (size_t i = 0; i < take; i++) {
    cord_proc_t *c = lp->ready.v[i];
    c->priv->ready_index = NONE;
    c->priv->drained = false;
    (void)vec_push(&lp->handed, c, &c->priv->handed_index);
    ready[out++] = c;
  }
  memmove(lp->ready.v, lp->ready.v + take, (lp->ready.n - take) * sizeof *lp->ready.v);
  lp->ready.n -= take;
  for (size_t i = 0; i < lp->ready.n; i++)
    lp->ready.v[i]->priv->ready_index = i;
  return out;
}

void cord_loop_close(cord_loop_t *loop) {
  if (!loop || !loop->priv)
    return;
  while (loop->priv->heap.n)
    cord__loop_forget(loop->priv->heap.v[0]);
  while (loop->priv->ready.n)
    cord__loop_forget(loop->priv->ready.v[0]);
  while (loop->priv->dirty.n)
    cord__loop_forget(loop->priv->dirty.v[0]);
  while (loop->priv->handed.n)
    cord__loop_forget(loop->priv->handed.v[0]);
  free(loop->priv->handed.v);
  free(loop->priv->heap.v);
  free(loop->priv->ready.v);
  free(loop->priv->dirty.v);
  free(loop->priv);
  loop->priv = NULL;
  if (loop->epfd >= 0)
    close(loop->epfd);
  loop->epfd = -1;
}
