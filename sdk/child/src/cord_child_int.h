/* cord_child_int.h: what the child SDK's source files share and its users never see. */
#ifndef CORD_CHILD_INT_H
#define CORD_CHILD_INT_H

#include "cord_child.h"
#include "cord_child_codec.h"

/* Marks a fallible internal function whose result must be looked at. */
#define CORD__CHECK __attribute__((warn_unused_result))

/* Drops such a result where a failure changes nothing: the channel's
 * flags already record it (a (void) cast does not silence GCC here). */
#define CORD__IGNORE(call) ((void)!(call))

/* cord_chan_t.state */
#define CORD__HANDSHAKE 0 /* our Hello is sent, the parent's is awaited */
#define CORD__OPEN 1      /* both Hellos accepted */
#define CORD__ENDED 2     /* the parent's direction has ended; err says how */

/* cord_chan_t.flags */
#define CORD__F_NODE 0x01    /* the channel is Node.js's json binding */
#define CORD__F_GOODBYE 0x02 /* our Goodbye is sent */
#define CORD__F_NOWRITE 0x04 /* nothing more can be written: failed, or the peer's end is closed */
#define CORD__F_FATAL 0x08   /* a fatal protocol error ended the channel (exit status 76) */
#define CORD__F_PING 0x10    /* a Ping awaits its Pong */
#define CORD__F_BATCH 0x20   /* CORD_CHAN_F_BATCH: sends are queued */
#define CORD__F_SKIP 0x40    /* Node.js binding: discarding the rest of a too long line */
#define CORD__F_SKIPH 0x80   /* Node.js binding: that line is a NODE_HANDLE, answered NACK at its end [NODE-8] */
#define CORD__F_HOLD 0x100   /* Node.js binding: our handle awaits its answer; sends are queued [NODE-15] */
#define CORD__F_DUE 0x200    /* Node.js binding: the message of the handle refused last is delivered next [NODE-16] */

/* Reads what has arrived into the free end of the receive buffer, [fill,
 * rx_len), and moves fill past it; the descriptors that come with it are
 * queued, noted at the stream position just after the read [FD-5] (on the
 * Node.js binding, closed). nb is 0 to wait or MSG_DONTWAIT. Returns the
 * count, 0 at end of file (or a reset connection), -EAGAIN, -errno, or
 * CORD_EFDMISMATCH when descriptors were lost or cannot be queued [FD-7]. */
CORD__CHECK int cord__rd(cord_chan_t *ch, int nb);

/* Writes n bytes whole, passing nfds descriptors with the first byte
 * [FD-3]. Retries interrupted and short writes; never raises SIGPIPE.
 * Returns 0 or -errno; a failure stops all later writes. */
CORD__CHECK int cord__wr(cord_chan_t *ch, const void *buf, size_t n, const int *fds,
                         unsigned nfds);

/* Writes the n bytes just placed at tx + txn after what is queued: with
 * CORD_CHAN_F_BATCH, or while a handle of ours awaits its answer, and no
 * descriptors they only join the queue, else the queue and they are
 * written now, the descriptors with their first byte (the queue goes
 * first, on its own). Returns 0 or as cord__wr(). */
CORD__CHECK int cord__queue(cord_chan_t *ch, size_t n, const int *fds, unsigned nfds);

/* Writes what is queued in the transmit buffer; returns 0 or as cord__wr().
 * A failure discards it. While a handle of ours awaits its answer nothing
 * is written: -EAGAIN if something is queued [NODE-15]. */
CORD__CHECK int cord__flush(cord_chan_t *ch);

#ifndef CORD_CHILD_NO_FDS
/* Claims the n oldest waiting descriptors for the frame or line just read:
 * they become fdq[0, n) (the queue is settled, so nothing is claimed yet). */
void cord__claim(cord_chan_t *ch, unsigned n);

/* Closes the claimed descriptors fdq[0, head), which are not handed over
 * [FD-9, NODE-16], and moves the waiting ones to the front. */
void cord__discard(cord_chan_t *ch);
#else
#define cord__discard(ch) ((void)(ch))
#endif

/* Ends the parent's direction with code (0: cleanly). A fatal protocol
 * code sends an Error frame first when send is set, then shuts the socket
 * down. Always returns 0, so frame handlers can `return cord__stop(...)`. */
int cord__stop(cord_chan_t *ch, int code, int send);

#ifndef CORD_CHILD_NO_NODE
/* cord_chan_step() on the Node.js binding: 1 with a message in m, -EAGAIN,
 * or 0 once cord__stop() has ended the channel. */
CORD__CHECK int cord__node_pump(cord_chan_t *ch, cord_chan_msg_t *m, int nb);

/* Sends a message on the Node.js binding: one json line [NODE-4, NODE-7],
 * or CORD_ENODE for a request or reply (ids not 0), no message (o NULL),
 * descriptors or another payload [NODE-9]. */
CORD__CHECK int cord__node_send(cord_chan_t *ch, uint64_t ids, const cord_chan_out_t *o);

/* Where a NODE_HANDLE line keeps its parts, as offsets into the line. */
typedef struct cord__node_parts {
  size_t type_off, type_len; /* the "type" member's string, without its quotes; 0, 0 when there is none */
  size_t msg_off, msg_len;   /* the "msg" member's value, the user message; msg_len 0 when there is none */
} cord__node_parts_t;

/* What the JSON text is, by Node.js's rule [NODE-7]. h (may be NULL) gets
 * the parts of the outermost object that a NODE_HANDLE message has. */
#define CORD__NODE_USER 0       /* a user message */
#define CORD__NODE_INTERNAL 1   /* another NODE_ command, not delivered */
#define CORD__NODE_HANDLE 2     /* a handle with a message [NODE-8] */
#define CORD__NODE_ACK 3        /* the answers to a handle of ours [NODE-15] */
#define CORD__NODE_NACK 4
int cord__node_internal(const uint8_t *p, size_t n, cord__node_parts_t *h);
#endif

#endif /* CORD_CHILD_INT_H */
