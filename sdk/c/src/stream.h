/* stream.h: the two byte streams of a channel as memory: the send queue with its descriptor marks, and the receive buffer with its descriptor queue. */
#ifndef CORD_STREAM_H
#define CORD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cord_int.h"

/*
 * Nothing here makes a system call but close() on descriptors the stream
 * owns and must discard. Positions are stream positions: the number of
 * bytes of the direction before a given byte, since the channel began,
 * which is what ties a descriptor to its frame (spec FD-3, FD-5).
 */

/* How long the frame starting at p is, given `avail` bytes of it: its
 * whole length, or 0 if avail does not yet tell. One per binding. */
typedef size_t (*cord__frame_len_fn)(const uint8_t *p, size_t avail);

/* ---- the send queue ---------------------------------------------------------------- */

/* Descriptors to pass with the frame that starts at stream position pos. */
typedef struct {
  uint64_t pos;
  int *fds; /* duplicates, owned by the queue until sent */
  unsigned n;
} cord__mark_t;

typedef struct {
  uint8_t *p;
  size_t start;  /* offset of the first byte of the frame that holds head */
  size_t head;   /* offset of the next byte to write */
  size_t tail;   /* offset just past the last byte queued */
  size_t cap;
  uint64_t pos;  /* stream position of p[head] */
  cord__mark_t *marks; /* marks[mhead..mtail), in stream order */
  size_t mhead, mtail, mcap;
  cord__frame_len_fn frame_len;
  /* Called with each whole frame once its last byte is written. */
  void (*trace)(void *arg, int outgoing, const void *frame, size_t len);
  void *trace_arg;
} cord__txq_t;

/* Bytes queued and not yet written. */
static inline size_t cord__txq_len(const cord__txq_t *q) { return q->tail - q->head; }
/* The stream position just past the last byte queued. */
static inline uint64_t cord__txq_end(const cord__txq_t *q) { return q->pos + (q->tail - q->head); }

/* Makes room for n more bytes at the tail and points *w at it. The bytes
 * count only once committed. Returns 0 or -ENOMEM. */
cord__must_check int cord__txq_reserve(cord__txq_t *q, size_t n, uint8_t **w);
void cord__txq_commit(cord__txq_t *q, size_t n);
/* Makes room for one more mark; done before a frame with descriptors is
 * built, so that adding the mark afterwards cannot fail. */
cord__must_check int cord__txq_reserve_mark(cord__txq_t *q);
/* Attaches the duplicates fds[0..n) (now the queue's) to the frame that
 * starts at the current tail. cord__txq_reserve_mark() must have
 * succeeded since the last mark was added. */
void cord__txq_add_mark(cord__txq_t *q, int *fds, unsigned n);

/* What to write next: *p and the returned length cover the bytes from
 * head up to the next frame that carries descriptors (exclusive), unless
 * head is where such a frame starts, in which case *m is its mark and the
 * bytes run to the following one. *m is NULL otherwise. */
size_t cord__txq_peek(const cord__txq_t *q, const uint8_t **p, const cord__mark_t **m);
/* n bytes from head were written (with the mark at head, if any): they
 * leave the queue, and every frame they complete is traced. */
void cord__txq_consume(cord__txq_t *q, size_t n);
/* The stream position where the frame holding head ends: where a last
 * frame can go without landing inside another one. */
uint64_t cord__txq_boundary(const cord__txq_t *q);
/* Drops every byte from stream position pos on (a frame boundary at or
 * after head), closing the descriptors of the dropped frames. */
void cord__txq_truncate(cord__txq_t *q, uint64_t pos);
/* Removes the whole frame [pos, pos+len), not yet begun, with its mark
 * (its descriptors are closed); the frames after it move up. */
void cord__txq_remove(cord__txq_t *q, uint64_t pos, size_t len);
void cord__txq_free(cord__txq_t *q);

/* ---- the receive buffer -------------------------------------------------------------- */

/* A descriptor received, and the stream position just after the data of
 * the read that brought it (spec FD-5). */
typedef struct {
  int fd;
  uint8_t kind; /* cord__fd_kind_t, for Node.js's handles */
  uint64_t pos;
} cord__rxfd_t;

typedef struct {
  uint8_t *p;
  size_t head, tail, cap;
  uint64_t pos;       /* stream position of p[head] */
  uint8_t *retired;   /* a buffer replaced while pinned: freed by unpin */
  bool pinned;        /* an event points into p: its bytes must not move */
  cord__rxfd_t *fds;  /* fds[fhead..ftail), oldest first */
  unsigned fhead, ftail, fcap;
} cord__rxq_t;

static inline size_t cord__rxq_len(const cord__rxq_t *q) { return q->tail - q->head; }
static inline unsigned cord__rxq_nfds(const cord__rxq_t *q) { return q->ftail - q->fhead; }

/* Makes at least `want` bytes free at the tail (the buffer's size is a
 * power of two, at least 1 KiB). How much to want is the caller's policy.
 * Never moves the live bytes while pinned: a new buffer is taken and the
 * old one kept until cord__rxq_unpin(). Returns 0 with *w and *n (all the
 * free space), or -ENOMEM. */
cord__must_check int cord__rxq_space(cord__rxq_t *q, size_t want, uint8_t **w, size_t *n);
void cord__rxq_commit(cord__rxq_t *q, size_t n);
/* Queues a descriptor that came with the bytes just committed. Returns 0,
 * or -1 when the queue already holds `limit`: the descriptor is then
 * closed and the caller fails the channel. */
int cord__rxq_push_fd(cord__rxq_t *q, int fd, uint8_t kind, unsigned limit);
/* Takes the n oldest descriptors into out (spec FD-6). */
void cord__rxq_take_fds(cord__rxq_t *q, int *out, unsigned n);
/* Closes every queued descriptor (spec FD-9). */
void cord__rxq_close_fds(cord__rxq_t *q);
/* n bytes from head were handled. */
void cord__rxq_consume(cord__rxq_t *q, size_t n);
/* The last event is gone: its bytes may move again. */
void cord__rxq_unpin(cord__rxq_t *q);
void cord__rxq_free(cord__rxq_t *q);

#endif /* CORD_STREAM_H */
