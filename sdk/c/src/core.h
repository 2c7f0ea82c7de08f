/* core.h: the parent's protocol core, sans I/O: bytes and descriptors in, events and bytes out, and the state of each direction of the channel. */
#ifndef CORD_CORE_H
#define CORD_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cord_int.h"
#include "stream.h"

/*
 * The core knows the protocol and nothing of where the bytes travel: it
 * makes no system call (it only closes descriptors it owns and drops), it
 * has no clock, and it does not assume that the stream can pass
 * descriptors (a transport that cannot declares max_fds 0, and the core
 * then never hands out a mark nor accepts a descriptor). The glue
 * (proc.c) reads into it, writes out of it, keeps the timers, and turns
 * what the core says into the state of a process.
 *
 * The state of each direction follows spec/model/cord.pml:
 *
 *   model (Parent proctype)          C
 *   -------------------------------  ---------------------------------
 *   !p_hello                         in == CORD__IN_HELLO
 *   p_hello && !p_in_ended           in == CORD__IN_OPEN
 *   p_peer_bye (p_in_ended set)      in == CORD__IN_GOODBYE
 *   p_in_ended, end of file or fatal in == CORD__IN_ENDED
 *   !p_out_ended                     out == CORD__OUT_OPEN
 *   p_out_ended, BYE or ERR in p2c   out == CORD__OUT_ENDING (still to be written)
 *   p2c_wclosed, or EPIPE            out == CORD__OUT_ENDED
 *   p_req[id] == R_OUT               id in `outstanding`
 *   p_req[id] == R_CLOSED            popped from `outstanding` as a CLOSED REPLY
 *   (a Ping awaiting its Pong)       nonce in `pings`; popped as a CLOSED PONG once `in` has ended
 *   p_got == G_PENDING               id in `incoming`
 *   p_owe_pong                       a Pong queued, or pong_due
 *   p_fatal()                        cord__core_fail()
 *   goto p_close                     cord__core_done() is true: the glue closes
 *
 * Every transition goes through one function that asserts where it comes
 * from (core.c: in_to(), out_to()).
 */

typedef enum {
  CORD__IN_HELLO = 0, /* waiting for the peer's Hello; nothing is delivered */
  CORD__IN_OPEN,      /* frames are delivered */
  CORD__IN_GOODBYE,   /* the peer said Goodbye: its direction has ended, end of file is next */
  CORD__IN_ENDED      /* end of file, or a fatal error: nothing more is read */
} cord__in_t;

typedef enum {
  CORD__OUT_OPEN = 0, /* frames may be queued */
  CORD__OUT_ENDING,   /* the last frame (Goodbye or Error) is queued behind the rest */
  CORD__OUT_ENDED     /* written and shut down, or the peer's end is closed */
} cord__out_t;

typedef enum {
  CORD__BIND_CORD = 0,      /* Cord frames (spec sections 3 to 11) */
  CORD__BIND_NODE_JSON,     /* Node.js's json channel (spec section 13) */
  CORD__BIND_NODE_ADVANCED  /* Node.js's advanced channel: V8 values with a length (spec section 13) */
} cord__binding_t;

/* What a descriptor is, as far as Node.js's handles care; the glue finds
 * out (it takes system calls) and the core decides with it. */
typedef enum {
  CORD__FD_OTHER = 0, /* no socket Node.js passes: a file, a pipe, a Unix datagram socket, ... */
  CORD__FD_STREAM,    /* a stream socket (TCP or Unix) that is not listening */
  CORD__FD_LISTENING, /* a listening stream socket (TCP or Unix) */
  CORD__FD_UDP4,      /* a UDP socket over IPv4 */
  CORD__FD_UDP6       /* a UDP socket over IPv6 */
} cord__fd_kind_t;

/* Answers to the peer's NODE_HANDLE messages waiting to be written
 * (spec NODE-8). A Node.js peer sends no other handle before the answer
 * comes, so there is at most one; more is a peer that is not Node.js. */
#define CORD__ANSWERS_MAX 8

typedef struct {
  cord__binding_t binding;
  uint32_t max_frame; /* what our Hello declares */
  uint32_t max_fds;   /* 0 when the transport cannot pass descriptors */
  bool refuse_handles; /* Node.js bindings: every NODE_HANDLE is answered NACK (CORD_OPT_NO_FDS) */
  size_t high_water, queue_limit;
  uint32_t pid;       /* for our Hello (diagnostics only) */
  const char *impl_name, *impl_version;
  void (*trace)(void *arg, int outgoing, const void *frame, size_t len);
  void *trace_arg;
} cord__core_cfg_t;

/* An event the core owes that is neither derived from its state nor the
 * immediate result of a frame: the refusal of a message that was queued
 * before the peer's Hello and turned out too large for the peer. */
typedef struct {
  cord_event_type_t type; /* CORD_EV_ERROR or CORD_EV_REPLY */
  uint64_t id;
  uint32_t size, limit;
  bool fds; /* it was the descriptors, not the bytes, that did not fit */
} cord__owed_t;

/* The final frame of our direction: a Goodbye or an Error, kept apart from
 * the queue so that ending a direction never needs memory. */
#define CORD__LAST_MAX 320

typedef struct cord__core {
  cord__core_cfg_t cfg;
  cord__in_t in;
  cord__out_t out;

  /* The peer's Hello (the glue copies it to cord_proc_t.peer), once
   * accepted (`hs`). */
  cord_peer_t peer;
  bool hs;
  bool ready_told;    /* READY was returned */

  /* A fatal error: its code (0: none) and text; `told` once returned. */
  int fail_code;
  bool fail_told;
  bool best_effort;   /* the peer is gone or failed: write what goes now, drop the rest */
  char fail_detail[224];

  /* Requests and pings (spec sections 6 and 9). */
  uint64_t next_id, next_nonce;
  cord__idset_t outstanding; /* ours, awaiting a reply */
  cord__idset_t incoming;    /* the peer's, awaiting ours */
  cord__idset_t pings;       /* nonces of our unanswered Pings */
  bool pong_due;             /* a Ping arrived with the queue at its bound [PING-6] */
  uint64_t pong_nonce;

  /* Send side. */
  cord__txq_t tx;
  uint64_t hello_end;        /* before the peer's Hello, bytes up to here only [HELLO-5] */
  bool above_hw, drain_due;  /* the high-water report, and the DRAIN it owes */
  uint8_t last[CORD__LAST_MAX];
  size_t last_len, last_off;
  bool last_is_error;        /* HELLO-5 lets one Error go before the handshake */
  uint64_t last_at;          /* stream position after which `last` goes */

  /* Receive side. */
  cord__rxq_t rx;
  bool first;                /* nothing received yet: a frame, or the start of one */
  bool eof;                  /* end of file was seen */
  size_t chunk;              /* how much to read at a time, grown while reads fill it */
  size_t skip;               /* advanced binding: bytes of an over-long frame still to drop */
  bool skipping;             /* Node.js bindings: the rest of an over-long line or frame is dropped */

  /* Node.js bindings: handles (spec NODE-8). */
  bool msg_due;              /* the handle of the line at head was refused (ERROR told): its msg is next */
  const cord_value_t *due_value; /* ... on the advanced binding, that msg */
  char answers[CORD__ANSWERS_MAX]; /* 'A' (ACK) or 'N' (NACK), oldest first */
  unsigned answers_n;
  size_t answer_off;         /* bytes of answers[0] written */
  bool peek_answer;          /* what tx_peek handed out is an answer */
  uint64_t handle_end;       /* a handle message of ours is being written: where it ends; 0: none */
  bool ack_due;              /* ours is written; nothing more goes until the peer answers it */
  unsigned answers_early;    /* ACK/NACK lines cord__core_flush_input() applied ahead of reading order */
  uint64_t early_scan;       /* stream position up to which it has looked */
  cord_arena_t arena;        /* advanced binding: the values of the message being delivered */

  unsigned budget;            /* frames this step may still handle [SEC-1: a step never runs on] */
  cord__owed_t *owed;        /* owed[owed_head..owed_tail): owed_inline, or a larger array */
  size_t owed_head, owed_tail;
  cord__owed_t owed_inline[4];

  bool peek_last;            /* what tx_peek handed out is `last` */

  /* Why the application's last call was refused (cord_proc_detail()). */
  char refusal[192];
  int refusal_code;

  /* What the event being returned points to. */
  char detail[256];
  char tname_inline[64];     /* a typed payload's name, NUL-terminated */
  char *tname;               /* ... when it is longer, kept for the next */
  size_t tname_cap;
  int evfds[CORD_FDS_MAX];
} cord__core_t;

/* Results of cord__core_next() besides 1 (an event) and 0 (nothing until
 * more input): the budget of work for one call is spent and frames are
 * still buffered, so the caller should come back soon rather than wait. */
#define CORD__MORE 2

/* Frames handled per step (between two calls of cord__core_release()),
 * however many reads bring them. */
#define CORD__BUDGET 64

cord__must_check int cord__core_init(cord__core_t *k, const cord__core_cfg_t *cfg);
void cord__core_free(cord__core_t *k);

/* ---- what the application asks (proc.c checks its arguments first) ---- */
int cord__core_send(cord__core_t *k, uint64_t id, uint64_t reply_to, uint32_t status, const cord_msg_t *m);
int cord__core_request(cord__core_t *k, const cord_msg_t *m, uint64_t *id);
int cord__core_reply(cord__core_t *k, uint64_t id, uint32_t status, const cord_msg_t *m);
int cord__core_cancel(cord__core_t *k, uint64_t id);
int cord__core_ping(cord__core_t *k, uint64_t *nonce);
/* Ends our direction with a Goodbye of `reason` (the json binding has none). */
void cord__core_end(cord__core_t *k, int reason);
/* 1 while the application may still send (Node's `connected`). */
bool cord__core_connected(const cord__core_t *k);
/* A message the application may send: 0 or the code refusing it. */
int cord__core_check_msg(const cord__core_t *k, const cord_msg_t *m);

/* ---- input ---- */
/* Where to read next, and how much at most; -ENOMEM when no room can be
 * made (the core has then failed the channel). */
int cord__core_rx_space(cord__core_t *k, uint8_t **p, size_t *n);
/* n bytes arrived, with descriptors fds[0..nfds) (now the core's) of
 * kinds[0..nfds) (NULL: CORD__FD_OTHER). */
void cord__core_rx_commit(cord__core_t *k, size_t n, const int *fds, const uint8_t *kinds, unsigned nfds);
/* The read reported lost descriptors (MSG_CTRUNC) [FD-7]. */
void cord__core_rx_lost_fds(cord__core_t *k);
/* End of file (or a reset read, END-6). */
void cord__core_rx_eof(cord__core_t *k);
/* Handles what is buffered until one event: 1 with *ev, 0 when more input
 * is needed, CORD__MORE when the budget is spent with frames left. Only
 * frames are handled in `hello_only` mode: the peer's Hello and no more,
 * and no event is returned (for cord_flush()). */
int cord__core_next(cord__core_t *k, cord_event_t *ev);
void cord__core_handshake_only(cord__core_t *k);
/* For cord_flush(): what the queue waits for in the input read so far (a
 * Cord peer's Hello; a Node.js peer's answer to our handle) is applied,
 * ahead of the events before it, which cord__core_next() still returns. */
void cord__core_flush_input(cord__core_t *k);
/* A step begins: the last event's bytes may now move, and the step's
 * budget of frames is full again. */
void cord__core_release(cord__core_t *k);

/* ---- output ---- */
/* The bytes to write next (*fds and *nfds: descriptors to pass with their
 * first byte, else NULL/0). 0 when nothing may go now. */
size_t cord__core_tx_peek(cord__core_t *k, const uint8_t **p, const int **fds, unsigned *nfds);
/* n bytes of what tx_peek gave were written. */
void cord__core_tx_done(cord__core_t *k, size_t n);
/* Bytes are waiting that tx_peek may hand out (before the handshake, only
 * the Hello counts). */
bool cord__core_tx_pending(const cord__core_t *k);
/* Everything of our direction is written: the glue shuts it down and
 * calls cord__core_tx_closed(). */
bool cord__core_tx_finished(const cord__core_t *k);
/* Our direction is over: shut down, or the peer's end is closed (EPIPE,
 * ECONNRESET: spec END-6), or given up; what is still queued is dropped. */
void cord__core_tx_closed(cord__core_t *k);

/* ---- the channel as a whole ---- */
/* A fatal error found locally [END-11]: reported once as an ERROR event,
 * then the outstanding requests as CLOSED; with `tell`, an Error frame is
 * the last frame of our direction. No-op once failed or ended. */
void cord__core_fail(cord__core_t *k, int code, bool tell, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The peer's process is gone: nothing more will arrive than what is
 * buffered, and nothing we send can reach it. */
void cord__core_peer_gone(cord__core_t *k);
/* Both directions are over and every event of the channel returned: the
 * glue closes the descriptor and reports DISCONNECT. */
bool cord__core_done(const cord__core_t *k);
/* The code DISCONNECT carries (0 or the fatal code) and its text. */
int cord__core_end_code(const cord__core_t *k);
const char *cord__core_end_detail(cord__core_t *k);

/* ---- node.c: the Node.js bindings' halves of the above ---- */
int cord__node_next(cord__core_t *k, cord_event_t *ev);
/* Queues a json message, or (value not NULL) an advanced one; with one
 * descriptor (m->fds) of `kind`, inside Node.js's NODE_HANDLE object. */
int cord__node_send(cord__core_t *k, const cord_msg_t *m, const cord_value_t *value, cord__fd_kind_t kind);
size_t cord__node_line_len(const uint8_t *p, size_t avail);
size_t cord__node_frame_len(const uint8_t *p, size_t avail);
/* tx_peek's and tx_done's part on the Node.js bindings: answers first,
 * and nothing past our handle message until the peer has answered it. */
size_t cord__node_tx_peek(cord__core_t *k, const uint8_t **p, const cord__mark_t **m);
void cord__node_tx_done(cord__core_t *k, size_t n);
void cord__node_flush_input(cord__core_t *k);
void cord__node_free(cord__core_t *k);

/* ---- core.c helpers node.c shares ---- */
void cord__core_set_detail(cord__core_t *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refuses what the application asked: keeps the reason for
 * cord_proc_detail() and returns `code`. */
int cord__core_refuse(cord__core_t *k, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cord__core_after_queue(cord__core_t *k);

#endif /* CORD_CORE_H */
