/* loop.c: many children on one epoll instance, with one timer heap, at a cost per event independent of their number, and no allocation after a child joins. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proc.h"

typedef struct cord__proc_priv priv_t;

/*
 * The ready, dirty and handed-out lists are intrusive: their nodes live in
 * each child, so putting a child on one cannot fail. The timer heap is an
 * array whose room for every member is taken when the child joins
 * (cord_loop_add() is the only call that can fail for memory).
 */
struct cord__loop_priv {
  cord_proc_t **heap; /* min-heap on each child's next deadline */
  size_t n, cap, members;
  cord__qnode_t ready;  /* children that may have events, oldest first */
  cord__qnode_t dirty;  /* children with output not yet written */
  cord__qnode_t handed; /* children the last wait returned */
  cord__qnode_t all;    /* every member */
  struct epoll_event evs[256];
};

#define NONE SIZE_MAX
#define OWNER(node, field) ((priv_t *)((char *)(node) - offsetof(priv_t, field)))

/* ---- the timer heap ------------------------------------------------------------------- */

static int64_t key(cord_proc_t *c) { return cord__proc_deadline(c->priv); }

static void heap_swap(struct cord__loop_priv *lp, size_t a, size_t b) {
  cord_proc_t *t = lp->heap[a];
  lp->heap[a] = lp->heap[b];
  lp->heap[b] = t;
  lp->heap[a]->priv->heap_index = a;
  lp->heap[b]->priv->heap_index = b;
}

static void heap_fix(struct cord__loop_priv *lp, size_t i) {
  while (i > 0 && key(lp->heap[i]) < key(lp->heap[(i - 1) / 2])) {
    heap_swap(lp, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < lp->n && key(lp->heap[l]) < key(lp->heap[m]))
      m = l;
    if (r < lp->n && key(lp->heap[r]) < key(lp->heap[m]))
      m = r;
    if (m == i)
      return;
    heap_swap(lp, i, m);
    i = m;
  }
}

static void heap_remove(struct cord__loop_priv *lp, cord_proc_t *c) {
  size_t i = c->priv->heap_index;
  if (i == NONE)
    return;
  c->priv->heap_index = NONE;
  if (i == --lp->n)
    return;
  lp->heap[i] = lp->heap[lp->n];
  lp->heap[i]->priv->heap_index = i;
  heap_fix(lp, i);
}

void cord__loop_timer_changed(cord_proc_t *c) {
  priv_t *p = c->priv;
  struct cord__loop_priv *lp;
  if (!p || !p->loop)
    return;
  lp = p->loop->priv;
  if (!cord__proc_deadline(p) || p->close_told) {
    heap_remove(lp, c);
  } else if (p->heap_index == NONE) {
    assert(lp->n < lp->cap); /* room was taken when the child joined */
    p->heap_index = lp->n;
    lp->heap[lp->n++] = c;
    heap_fix(lp, p->heap_index);
  } else {
    heap_fix(lp, p->heap_index);
  }
}

/* Marks ready every child whose deadline is at or before `now`: the heap
 * is walked as the tree it is, and a subtree whose root is not due holds
 * nothing due, so the work grows with the children that are due. */
static void mark_due(struct cord__loop_priv *lp, size_t i, int64_t now);

/* ---- membership ---------------------------------------------------------------------- */

static void mark_ready(cord_proc_t *c) {
  priv_t *p = c->priv;
  if (cord__q_empty(&p->ready))
    cord__q_push(&p->loop->priv->ready, &p->ready);
}

static void mark_due(struct cord__loop_priv *lp, size_t i, int64_t now) {
  if (i >= lp->n || key(lp->heap[i]) > now)
    return;
  mark_ready(lp->heap[i]);
  mark_due(lp, 2 * i + 1, now);
  mark_due(lp, 2 * i + 2, now);
}

void cord__loop_mark_dirty(cord_proc_t *c) {
  priv_t *p = c->priv;
  if (p && p->loop && cord__q_empty(&p->dirty))
    cord__q_push(&p->loop->priv->dirty, &p->dirty);
}

void cord__loop_forget(cord_proc_t *c) {
  priv_t *p = c->priv;
  struct cord__loop_priv *lp;
  if (!p || !p->loop)
    return;
  lp = p->loop->priv;
  heap_remove(lp, c);
  cord__q_remove(&p->ready);
  cord__q_remove(&p->dirty);
  cord__q_remove(&p->handed);
  cord__q_remove(&p->member);
  if (p->fd >= 0)
    epoll_ctl(p->loop->epfd, EPOLL_CTL_DEL, p->fd, NULL);
  if (p->proc.pidfd >= 0)
    epoll_ctl(p->loop->epfd, EPOLL_CTL_DEL, p->proc.pidfd, NULL);
  for (int i = 1; i < CORD_STDIO_MAX; i++)
    if (p->proc.stdio[i] >= 0)
      epoll_ctl(p->loop->epfd, EPOLL_CTL_DEL, p->proc.stdio[i], NULL);
  lp->members--;
  p->loop = NULL;
}

int cord_loop_init(cord_loop_t *loop) {
  if (!loop)
    return -EINVAL;
  memset(loop, 0, sizeof *loop);
  loop->priv = cord__calloc(1, sizeof *loop->priv);
  if (!loop->priv)
    return -ENOMEM;
  cord__q_init(&loop->priv->ready);
  cord__q_init(&loop->priv->dirty);
  cord__q_init(&loop->priv->handed);
  cord__q_init(&loop->priv->all);
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0) {
    int err = -errno;
    cord__free(loop->priv);
    loop->priv = NULL;
    return err;
  }
  return 0;
}

/* The epoll data of a descriptor: the child, and which of its descriptors
 * it is in the low bits (a priv_t is aligned to 8). */
static int watch(cord_loop_t *loop, cord_proc_t *c, int fd, int which, uint32_t events) {
  struct epoll_event e;
  memset(&e, 0, sizeof e);
  /* Edge-triggered: cord_step() reads and writes until the socket says
   * EAGAIN, so a level would only wake the loop again for nothing. */
  e.events = events | EPOLLET;
  e.data.u64 = (uint64_t)(uintptr_t)c | (uint64_t)which;
  return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

int cord_loop_add(cord_loop_t *loop, cord_proc_t *c) {
  struct cord__loop_priv *lp;
  priv_t *p;
  int r = 0;
  if (!loop || !(lp = loop->priv) || !c || !(p = c->priv))
    return -EINVAL;
  if (p->loop)
    return p->loop == loop ? 0 : -EBUSY;
  _Static_assert(_Alignof(cord_proc_t) >= 4, "the low bits of a cord_proc_t pointer carry which descriptor");
  if (lp->members == lp->cap) {
    size_t cap = lp->cap ? lp->cap * 2 : 64;
    cord_proc_t **h = cord__realloc(lp->heap, cap * sizeof *h);
    if (!h)
      return -ENOMEM;
    lp->heap = h;
    lp->cap = cap;
  }
  if (p->fd >= 0)
    r = watch(loop, c, p->fd, CORD__FD_CHANNEL, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
  if (!r && p->proc.pidfd >= 0)
    r = watch(loop, c, p->proc.pidfd, CORD__FD_PID, EPOLLIN);
  for (int i = 1; !r && i < CORD_STDIO_MAX; i++)
    if (p->proc.stdio[i] >= 0)
      r = watch(loop, c, p->proc.stdio[i], CORD__FD_STDIO, EPOLLIN);
  p->loop = loop;
  lp->members++;
  cord__q_push(&lp->all, &p->member);
  if (r < 0) {
    cord__loop_forget(c);
    return r;
  }
  /* Whatever happened before it joined (its Hello, its READY) is waiting,
   * and the loop now tells it what its descriptors say. */
  p->rx_ready = p->pid_ready = true;
  p->tx_blocked = false;
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
   * stopped returning events may have frames already read, which no new
   * edge will announce: it is ready again. */
  while (!cord__q_empty(&lp->handed)) {
    priv_t *p = OWNER(lp->handed.next, handed);
    cord__q_remove(&p->handed);
    if (!p->drained)
      mark_ready(p->owner);
  }

  /* Write what was queued since the last wait: one system call per child
   * for all its messages. A child whose socket is full is woken by
   * EPOLLOUT later. */
  while (!cord__q_empty(&lp->dirty)) {
    priv_t *p = OWNER(lp->dirty.next, dirty);
    cord__q_remove(&p->dirty);
    cord__proc_flush(p->owner);
  }

  if (!cord__q_empty(&lp->ready))
    timeout_ms = 0;
  if (lp->n) {
    int64_t d = key(lp->heap[0]) - cord__now_ms();
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
    cord_proc_t *c = (cord_proc_t *)(uintptr_t)(lp->evs[i].data.u64 & ~(uint64_t)3);
    if (c->priv && c->priv->loop == loop) {
      cord__proc_hint(c, (int)(lp->evs[i].data.u64 & 3), lp->evs[i].events);
      mark_ready(c);
    }
  }
  mark_due(lp, 0, cord__now_ms());

  /* First come, first served: the oldest ready children go out. */
  while (out < max && !cord__q_empty(&lp->ready)) {
    priv_t *p = OWNER(lp->ready.next, ready);
    cord__q_remove(&p->ready);
    p->drained = false;
    cord__q_push(&lp->handed, &p->handed);
    ready[out++] = p->owner;
  }
  return out;
}

void cord_loop_close(cord_loop_t *loop) {
  struct cord__loop_priv *lp;
  if (!loop || !(lp = loop->priv))
    return;
  /* Members must have been closed first; any left are let go. */
  while (!cord__q_empty(&lp->all))
    cord__loop_forget(OWNER(lp->all.next, member)->owner);
  cord__free(lp->heap);
  cord__free(lp);
  loop->priv = NULL;
  if (loop->epfd >= 0)
    close(loop->epfd);
  loop->epfd = -1;
}
