/* cord_int.h: the parent SDK's private structures and the functions its source files share. */
#ifndef CORD_INT_H
#define CORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cord.h"
#include "cord.pb-c.h"

#if defined(__GNUC__)
#define cord__must_check __attribute__((warn_unused_result))
#else
#define cord__must_check
#endif

/* Spec constants. */
#define CORD__MAGIC 0x44524F43u      /* Hello.magic (HELLO-2) */
#define CORD__HELLO_MAX 256u         /* frame limit before the peer's Hello (FRAME-4) */
#define CORD__FRAME_ABS_MAX 0x7fffffffu /* largest valid max_frame (FRAME-3) */

/* Defaults of cord_options_t. */
#define CORD__DEF_MAX_FRAME (64u << 20)
#define CORD__DEF_MAX_FDS 16u
#define CORD__DEF_HIGH_WATER ((size_t)128 << 10)
#define CORD__DEF_QUEUE_LIMIT ((size_t)64 << 20)
#define CORD__DEF_HELLO_MS 10000u
#define CORD__DEF_GRACE_MS 5000u

/* Bytes asked of each read, and the queue size at which a send writes at
 * once instead of waiting for the next step. */
#define CORD__READ_CHUNK ((size_t)64 << 10)
#define CORD__WRITE_BATCH ((size_t)64 << 10)

/* ---- a byte buffer: bytes [head, tail) of p[0..cap) ---------------------- */
typedef struct {
  uint8_t *p;
  size_t head, tail, cap;
} cord__buf_t;

/* Makes room for n more bytes at the tail, compacting or growing. Returns
 * 0 or -ENOMEM. */
cord__must_check int cord__buf_reserve(cord__buf_t *b, size_t n);
void cord__buf_free(cord__buf_t *b);

/* ---- a set of 64-bit ids (open addressing; 0 is never a member) ----------- */
typedef struct {
  uint64_t *slot;
  size_t cap, count, used; /* used counts tombstones too */
} cord__idset_t;

cord__must_check int cord__idset_add(cord__idset_t *s, uint64_t id); /* 0, 1 if present, -ENOMEM */
bool cord__idset_has(const cord__idset_t *s, uint64_t id);
bool cord__idset_del(cord__idset_t *s, uint64_t id);
uint64_t cord__idset_pop(cord__idset_t *s); /* any member, removed; 0 if empty */
void cord__idset_free(cord__idset_t *s);

/* ---- an arena for protobuf-c's unpack: one bump buffer reset per event ---- */
typedef struct {
  uint8_t *p;
  size_t used, cap;
  void **spill; /* allocations that did not fit, freed at reset */
  size_t nspill, spillcap;
  size_t want;  /* the size the next reset grows the buffer to */
  ProtobufCAllocator pbc;
} cord__arena_t;

void cord__arena_init(cord__arena_t *a);
void cord__arena_reset(cord__arena_t *a);
cord__must_check int cord__arena_reserve(cord__arena_t *a, size_t n);
void cord__arena_free(cord__arena_t *a);

/* ---- descriptors riding in the send queue (spec FD-3) --------------------- */
typedef struct {
  uint64_t pos; /* stream position of the first byte of the frame */
  int *fds;     /* duplicates owned by the SDK until sent */
  unsigned n;
} cord__fdmark_t;

/* ---- descriptors received, waiting for their frame (spec FD-5) ------------ */
typedef struct {
  int fd;
  uint64_t pos; /* stream position just after the read that brought it */
} cord__rxfd_t;

/* ---- an event waiting to be returned, with room for its detail ------------- */
typedef struct {
  cord_event_t ev;
  char detail[224];
} cord__pending_t;

enum { CORD__MODE_CORD = 0, CORD__MODE_JSON = 1 };

/* The state of each direction of the channel (spec section 10). */
enum {
  CORD__WR_OPEN = 0,  /* frames may be queued */
  CORD__WR_ENDING,    /* our Goodbye is queued; shut down once written */
  CORD__WR_DONE       /* shut down, failed, or closed */
};

struct cord__child_priv {
  cord_proc_t *owner;
  /* options, resolved */
  uint32_t max_frame, max_fds;
  size_t high_water, queue_limit;
  uint32_t grace_ms;
  int kill_signal;
  bool detached;
  int mode;
  void (*trace)(void *, int, const void *, size_t);
  void *trace_arg;

  /* descriptors */
  int fd;    /* the parent's end of the channel; -1 once closed */
  int pidfd; /* -1 once reaped */
  int stdio[CORD_STDIO_MAX]; /* parent ends of pipes, or -1 */
  int nstdio_open;           /* output pipes not yet at end of file */

  /* protocol state */
  bool hs_done;     /* the child's Hello was accepted */
  bool peer_done;   /* the child's direction ended (Goodbye or EOF) */
  bool saw_eof;
  bool failed;      /* a fatal error ended the channel */
  int wr;           /* CORD__WR_* */
  bool closed;      /* fd closed and CORD_EV_DISCONNECT queued */
  bool exit_queued; /* CORD_EV_EXIT queued */
  bool close_sent;  /* CORD_EV_CLOSE returned */
  bool reaped;
  int exit_raw_status, exit_raw_signal;
  bool above_hw;
  bool readable_hint; /* the last read did not return EAGAIN */

  /* send side */
  cord__buf_t tx;
  uint64_t tx_pos;   /* stream position of tx.p[tx.head] */
  uint64_t tx_hello_end; /* before the handshake, only bytes up to here go out */
  cord__fdmark_t *marks;
  size_t nmarks, marks_head, markcap;
  uint64_t next_id, next_nonce;
  cord__idset_t outstanding; /* our requests awaiting a reply */
  cord__idset_t incoming;    /* the child's requests we have not answered */
  cord__idset_t pings;       /* nonces of our unanswered pings */

  /* receive side */
  cord__buf_t rx;
  uint64_t rx_pos; /* stream position of rx.p[rx.head] */
  cord__rxfd_t *rxfds;
  size_t nrxfds, rxfds_head, rxfdcap;
  bool first_frame;  /* no frame received yet */
  size_t json_skip;  /* json binding: bytes of an oversized line still to discard */
  bool json_skipping;
  cord__arena_t arena;
  int evfds[CORD_FDS_MAX];
  char detail[256];
  uint8_t out_chunk[4096]; /* OUTPUT events */

  /* synthetic events, in order */
  cord__pending_t *pend;
  size_t npend, pend_head, pendcap;

  /* timers, in CLOCK_MONOTONIC milliseconds; 0 = none */
  int64_t hello_deadline, timeout_deadline, stop_deadline;
  int stop_stage; /* 0 none, 1 kill_signal next, 2 SIGKILL next, 3 done */
  int64_t exit_poll; /* without a pidfd: when to look for the exit again */

  /* loop membership: positions in the loop's arrays, SIZE_MAX when absent */
  cord_loop_t *loop;
  size_t heap_index, ready_index, dirty_index, handed_index;
  bool drained; /* cord_step() has returned 0 since the loop last handed it out */
};

/* ---- spawn.c ---------------------------------------------------------------- */

/* What cord__spawn_process() hands to the channel. */
typedef struct {
  pid_t pid;
  int pidfd;
  int chan_fd; /* the parent's end of the socket pair */
  int stdio[CORD_STDIO_MAX];
} cord__proc_t;

cord__must_check int cord__spawn_process(cord__proc_t *p, const char *module,
                                         const char *const *args, const cord_options_t *o);
void cord__spawn_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- channel.c -------------------------------------------------------------------- */
int64_t cord__now_ms(void);
int64_t cord__next_deadline(const struct cord__child_priv *p);
void cord__queue_error_frame(struct cord__child_priv *p, int err, const char *detail);
void cord__flush(cord_proc_t *c); /* writes what the socket takes now */

/* ---- loop.c: each does nothing for a child outside any loop ----------------------- */
void cord__loop_timer_changed(cord_proc_t *c); /* its next deadline moved */
void cord__loop_mark_dirty(cord_proc_t *c);    /* it has output to write */
void cord__loop_forget_fd(cord_proc_t *c, int fd); /* fd is about to be closed */
void cord__loop_forget(cord_proc_t *c);        /* it is being closed */

#endif /* CORD_INT_H */
