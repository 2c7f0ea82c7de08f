/* cord_child.h: the one public header of libcord-child, the Cord child SDK on nanopb. */
#ifndef CORD_CHILD_H
#define CORD_CHILD_H

/*
 * libcord-child is what a child program links to speak Cord (spec
 * cord-v1.md) with the parent that started it, or Node.js's json channel
 * (spec section 13) with an unmodified Node.js parent.
 *
 * It never allocates. The caller owns every byte it uses: the channel
 * object (cord_chan_t), a receive buffer whose size is the largest frame
 * the child accepts, a transmit buffer, and, for descriptor passing, a
 * small array of descriptors. Received strings and bytes are not copied:
 * a message hands out pointers into the receive buffer, valid until the
 * next call that receives. Each read takes whatever has arrived, up to the
 * free end of the receive buffer, and the frames in it are handed out one
 * by one without reading again. Sends encode straight into the transmit
 * buffer and write it before they return, so nothing is queued and nothing
 * can be lost at exit (spec END-7); with CORD_CHAN_F_BATCH they are queued
 * there instead and written together, at the latest before the SDK waits
 * to receive and when the channel closes.
 *
 * The request tables are fixed in size (cord_child_config.h): at most
 * CORD_CHILD_IN_REQS (4) of the parent's requests can await a reply at
 * once, and the SDK answers a fifth FAILED itself; at most
 * CORD_CHILD_OUT_REQS (4) own requests can be outstanding.
 *
 * One thread uses a channel at a time; nothing here is thread-safe. Every
 * function that can fail returns a negative code from cord_errors.h (a
 * protocol code such as CORD_EPROTOCOL, or -errno); cord_strerror() turns
 * it into text when the program links cord_errors.c.
 *
 * The protocol words (Hello, Goodbye, max_frame ...) are the spec's, and
 * ids such as [FRAME-5] name its rules.
 */

#include <stddef.h>
#include <stdint.h>

#include <pb.h>

#include "cord.pb.h"
#include "cord_child_config.h"
#include "cord_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses of spec CHAN-7 and END-8. */
#define CORD_EXIT_OK 0          /* the channel ended without a fatal error */
#define CORD_EXIT_NOCHANNEL 64  /* started without a usable channel */
#define CORD_EXIT_PROTOCOL 76   /* the channel ended with a fatal protocol error */

/*
 * CORD_CHAN_BUFFER: defines a static buffer for cord_chan_cfg_t and checks
 * at compile time that it is at least CORD_MIN_FRAME (256) bytes, the
 * smallest max_frame the spec allows.
 *
 * Example usage:
 *   CORD_CHAN_BUFFER(rx, 256);
 *   CORD_CHAN_BUFFER(tx, 256);
 */
#define CORD_CHAN_BUFFER(name, size)                                                     \
  _Static_assert((size) >= CORD_MIN_FRAME, #name ": Cord buffers hold at least 256 bytes"); \
  static uint8_t name[size]

/* Bits of cord_chan_cfg_t.flags. Unknown bits make cord_chan_open() fail. */
#define CORD_CHAN_F_CANCEL (1u << 0)  /* announce CAPABILITY_CANCEL: the program acts on cancel events (REQ-7) */
#define CORD_CHAN_F_NO_NODE (1u << 1) /* do not accept a Node.js parent even when the binding is compiled in */
/* Coalesce sends: each send only queues its frame in the transmit buffer,
 * and the queue is written with one system call when the next frame does
 * not fit, before a receive reads the channel (so before it could wait),
 * on cord_chan_flush(), and at Goodbye and close (END-7). A frame passing
 * descriptors is written at once, after what is queued. A program that
 * sends and then works for long without receiving calls cord_chan_flush(). */
#define CORD_CHAN_F_BATCH (1u << 2)

/* How cord_chan_open() finds its parent and what it declares in its Hello. */
typedef struct cord_chan_cfg {
  /* Receive buffer. Owned by the caller; must stay valid until
   * cord_chan_close(). Its size is declared as max_frame in the Hello, so
   * the parent never sends a larger frame body [FRAME-2]. At least 256
   * bytes and at most 2147483647. On the Node.js binding it holds one
   * line; longer lines are discarded [NODE-6]. */
  void *rx;
  size_t rx_len;
  /* Transmit buffer, at least 256 bytes. Owned by the caller; must stay
   * valid until cord_chan_close(). A message whose frame does not fit is
   * refused with CORD_ETOOBIG. */
  void *tx;
  size_t tx_len;
  /* Descriptor queue: room for received descriptors. Owned by the caller;
   * must stay valid until cord_chan_close(). The Hello declares max_fds =
   * min(fdq_len, CORD_CHILD_MAX_FDS); NULL or 0 declares 0, and the parent
   * then passes none. On the Node.js binding it holds the descriptors of
   * handles, two waiting at most [NODE-16]; NULL or 0 refuses every
   * handle. Ignored when CORD_CHILD_NO_FDS is defined. */
  int *fdq;
  unsigned fdq_len;
  /* Implementation name and version for the Hello (diagnostics only);
   * NULL means CORD_CHILD_IMPL_NAME and CORD_CHILD_IMPL_VERSION. Read
   * during cord_chan_open() only. At most 64 and 32 bytes [HELLO-4]. */
  const char *impl_name;
  const char *impl_version;
  /* CORD_CHAN_F_* bits; 0 for the defaults. */
  unsigned flags;
} cord_chan_cfg_t;

/* A byte range inside the receive buffer. Not NUL-terminated. */
typedef struct cord_span {
  const uint8_t *ptr;
  size_t len;
} cord_span_t;

/* cord_chan_msg_t.type: what cord_chan_recv() handed over. */
typedef enum cord_chan_event_type {
  CORD_CHAN_EV_NONE = 0,    /* nothing (a call that returned no event leaves this) */
  CORD_CHAN_EV_MESSAGE = 1, /* a user message: one-way, a request (id != 0) or a reply (reply_to != 0) */
  CORD_CHAN_EV_CANCEL = 2,  /* the parent cancelled request `id`, which is not answered yet [REQ-7] */
  CORD_CHAN_EV_PONG = 3,    /* the Pong for the Ping sent with nonce `id`; status 1011 (CLOSED): none can come [PING-7] */
  CORD_CHAN_EV_CLOSED = 4,  /* own request `reply_to` ended without a reply (status 1011, CLOSED) [REQ-9] */
  CORD_CHAN_EV_ERROR = 5,   /* a non-fatal problem report with code `status` and text `data` [ERR-3, NODE-6, NODE-16] */
  CORD_CHAN_EV_HANDLE = 6   /* Node.js binding: the parent's answer to the handle sent last; status 0 (NODE_HANDLE_ACK)
                             * or 1010 UNSUPPORTED (NODE_HANDLE_NACK: Node.js dropped the message and its handle) [NODE-15] */
} cord_chan_event_type_t;

/* cord_chan_msg_t.payload and cord_chan_out_t.payload: the payload kind,
 * numbered as the fields of cord.v1.Message. */
/* The same constants as cord.h's: both SDKs may be used in one program. */
#ifndef CORD_PAYLOAD_NONE
#define CORD_PAYLOAD_NONE 0
#define CORD_PAYLOAD_TYPED 5
#define CORD_PAYLOAD_JSON 6
#define CORD_PAYLOAD_RAW 7
#endif

/*
 * A received message or event. Filled by cord_chan_recv() and
 * cord_chan_step(); every pointer in it points into the caller's receive
 * buffer or descriptor queue and is valid until the next call to either.
 */
typedef struct cord_chan_msg {
  cord_chan_event_type_t type; /* CORD_CHAN_EV_*: what this is */
  int payload;       /* CORD_PAYLOAD_*: the payload kind (CORD_CHAN_EV_MESSAGE only) */
  uint64_t id;       /* request id; or the id cancelled (CANCEL); or the nonce (PONG) */
  uint64_t reply_to; /* the own request this replies to (MESSAGE, CLOSED) */
  uint32_t status;   /* reply status: 0 success, else a code of the error table; or the code (ERROR) */
  unsigned nfds;     /* descriptors passed with the message; they belong to the program from now on */
  const int *fds;    /* nfds descriptors, close-on-exec, in the order the parent attached them */
  cord_span_t type_name; /* typed payload: the message's full type name; Node.js binding: the handle's type
                          * (net.Server, net.Socket, net.Native, dgram.Socket, dgram.Native) when nfds is 1 */
  cord_span_t data;  /* json text, raw bytes or typed value; ERROR: its detail */
} cord_chan_msg_t;

/*
 * A message to send. Zero-initialise it and set what is needed; every
 * pointer is read during the call only.
 */
typedef struct cord_chan_out {
  int payload;                /* CORD_PAYLOAD_* */
  const char *type_name;      /* typed: full type name, e.g. "example.v1.Job"; Node.js binding with a
                               * descriptor: the handle's type, NULL to name it from the descriptor */
  size_t type_name_len;       /* bytes at type_name; 0: type_name is NUL-terminated */
  const void *data;           /* json text, raw bytes, or an encoded typed value */
  size_t len;                 /* bytes at data */
  const pb_msgdesc_t *fields; /* typed: when set, src is encoded with these nanopb fields instead of data */
  const void *src;            /* typed: the nanopb struct to encode straight into the frame */
  uint32_t status;            /* cord_chan_reply() only: 0, a protocol code 1000..1999, or >= 10000 */
  unsigned nfds;              /* descriptors to pass (duplicates: the program keeps its own); on the Node.js
                               * binding at most one, a socket passed as a handle [NODE-14] */
  const int *fds;
} cord_chan_out_t;

/*
 * The channel. Allocated by the caller (static, on the stack, inside its
 * own struct); every field is private to the SDK from cord_chan_open()
 * until cord_chan_close().
 */
typedef struct cord_chan {
  /* The detail is first, at the same place whatever the compile-time
   * knobs, so that cord_chan_detail() can explain a CORD_EBUILD. */
  const char *detail;      /* text of the last failure, inside rx, or a constant */
  /* The fields used most come next: x86-64 reaches the first 128 bytes
   * of a struct with shorter instructions. */
  uint8_t *rx, *tx;
  uint32_t rx_len, tx_len;
  uint32_t start, fill;    /* the receive buffer holds the bytes [start, fill) not yet handled */
  uint32_t len;            /* body length of a frame whose prefix was taken off to make room, else 0 */
  uint32_t txn;            /* bytes queued at the start of the transmit buffer (CORD_CHAN_F_BATCH) */
  uint32_t peer_max;       /* the parent's max_frame: 256 until its Hello [FRAME-4] */
  int fd, err;             /* the channel; the final result once the parent's direction ended */
  uint8_t state;
  uint16_t flags;
#ifndef CORD_CHILD_NO_FDS
  /* Received descriptors [FD-5]: fdq[0, head) were claimed by the last
   * frame, fdq[head, head + nq) wait; the first n0 of them came with the
   * read that ended at stream position p0, the rest with the one at p1.
   * pos is the stream position of rx[0], modulo 2^32. */
  uint8_t fdq_len, nq, max_fds, peer_fds, head, n0;
  uint32_t pos, p0, p1;
  int *fdq;
#endif
#ifndef CORD_CHILD_NO_NODE
  uint32_t scan; /* line reader of the Node.js binding: how far the search for 0a has got */
#endif
  uint64_t next_id, ping;  /* next own request id; the nonce of the Ping awaiting its Pong */
  uint64_t out[CORD_CHILD_OUT_REQS]; /* own outstanding requests, 0 = free */
  uint64_t in[CORD_CHILD_IN_REQS];   /* received requests not yet answered, 0 = free */
} cord_chan_t;

/*
 * CORD_CHILD_BUILD: the knobs and layouts this program was compiled with,
 * which cord_chan_open() compares with the library's own (CORD_EBUILD).
 * Bit 0: CORD_CHILD_NO_FDS; bit 1: CORD_CHILD_NO_NODE; bits 8-15 and
 * 16-23: CORD_CHILD_OUT_REQS and CORD_CHILD_IN_REQS; bits 32-47 and 48-63:
 * the sizes of cord_chan_t and cord_chan_msg_t.
 */
#ifdef CORD_CHILD_NO_FDS
#define CORD__BUILD_NO_FDS 1u
#else
#define CORD__BUILD_NO_FDS 0u
#endif
#ifdef CORD_CHILD_NO_NODE
#define CORD__BUILD_NO_NODE 2u
#else
#define CORD__BUILD_NO_NODE 0u
#endif
#define CORD_CHILD_BUILD                                                                              \
  ((uint64_t)(CORD__BUILD_NO_FDS | CORD__BUILD_NO_NODE | (unsigned)CORD_CHILD_OUT_REQS << 8 |          \
              (unsigned)CORD_CHILD_IN_REQS << 16) |                                                   \
   (uint64_t)(sizeof(cord_chan_t) & 0xffff) << 32 | (uint64_t)(sizeof(cord_chan_msg_t) & 0xffff) << 48)

/*
 * cord_chan_open: finds the channel the parent gave this process and
 * completes the handshake.
 *
 * It reads CORD_CHANNEL_FD (or NODE_CHANNEL_FD without it), checks that it
 * names an open AF_UNIX SOCK_STREAM socket, removes the channel variables
 * from the environment and makes the descriptor close-on-exec [CHAN-6,
 * CHAN-9, NODE-2]. On a Cord channel it then sends its Hello and reads and
 * checks the parent's [HELLO-1..HELLO-10], blocking until the parent's
 * Hello has arrived; on the Node.js binding there is no handshake.
 *
 * ch: caller-owned, written whole; it must stay at the same address until
 *     cord_chan_close(). cfg: read during the call only, but the buffers it
 *     names must outlive the channel.
 *
 * Returns 0 when the channel is ready (or the parent was already gone; the
 * first receive then reports the end). CORD_ENOCHANNEL when the process was
 * started without a usable channel [CHAN-7, CHAN-8, NODE-3]: cord_chan_detail()
 * says why, and the program should exit with CORD_EXIT_NOCHANNEL.
 * CORD_ENOTCORD, CORD_EVERSION, CORD_EUNEXPECTED, CORD_EPROTOCOL... when the
 * handshake failed: an Error frame was sent, and the program should exit
 * with cord_chan_close(ch). -EINVAL for a bad cfg. CORD_EBUILD when this
 * program was compiled with other knobs of cord_child_config.h than the
 * library (their layouts of cord_chan_t differ, as zlib's deflateInit()
 * checks sizeof(z_stream)): *ch is then left alone but for the text of
 * cord_chan_detail(), which names the knob, and no other call may be made
 * on it. Call it before starting threads: it edits the environment.
 *
 * cord_chan_open is a macro that passes CORD_CHILD_BUILD, what this
 * program was compiled with, to cord_chan_open_().
 *
 * Example usage:
 *   CORD_CHAN_BUFFER(rx, 1024);
 *   CORD_CHAN_BUFFER(tx, 1024);
 *   cord_chan_t ch;
 *   cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
 *   int r = cord_chan_open(&ch, &cfg);
 *   if (r == CORD_ENOCHANNEL) return CORD_EXIT_NOCHANNEL;
 *   if (r < 0) return cord_chan_close(&ch);
 */
int cord_chan_open_(cord_chan_t *ch, const cord_chan_cfg_t *cfg, uint64_t build);
#define cord_chan_open(ch, cfg) cord_chan_open_((ch), (cfg), CORD_CHILD_BUILD)

/*
 * cord_chan_open_or_exit: cord_chan_open(), but on failure writes one line
 * to standard error (the program name, then cord_chan_detail()) and exits:
 * with status 64 when there is no usable channel [CHAN-7, CHAN-8], with
 * cord_chan_close()'s status (76) when the handshake failed, and 1 for a
 * bad cfg or a build mismatch. Returns only when the channel is ready.
 * A macro, as cord_chan_open() is.
 *
 * Example usage:
 *   cord_chan_open_or_exit(&ch, &cfg, argv[0]);
 */
void cord_chan_open_or_exit_(cord_chan_t *ch, const cord_chan_cfg_t *cfg, const char *prog, uint64_t build);
#define cord_chan_open_or_exit(ch, cfg, prog) cord_chan_open_or_exit_((ch), (cfg), (prog), CORD_CHILD_BUILD)

/*
 * cord_chan_recv: waits for the next message or event and stores it in *m
 * (caller-owned, overwritten whole).
 *
 * On the Node.js binding, a handle whose descriptor is what its type says
 * is answered NODE_HANDLE_ACK and comes as a message with nfds 1 and the
 * type in type_name; any other is answered NACK, its descriptor closed,
 * and it comes as CORD_CHAN_EV_ERROR (status 1010, the line as data),
 * followed by its message without a descriptor [NODE-8, NODE-16].
 *
 * Pings are answered inside [PING-2]; unknown frame kinds are skipped
 * [FRAME-8]; replies naming no outstanding request are discarded [REQ-5];
 * cancels of answered requests are ignored [REQ-8]. When the parent's
 * direction ends, each own outstanding request is first reported as a
 * CORD_CHAN_EV_CLOSED event [REQ-9].
 *
 * Returns 1 with an event in *m; 0 once the parent's direction has ended
 * cleanly (its Goodbye, or end of file on a frame boundary) [END-4];
 * a negative code once the channel has failed (a fatal protocol error, with
 * an Error frame sent when the spec asks for one, or an I/O error). After
 * 0 or a failure every later call returns the same. Interrupted reads are
 * retried, so a signal does not end the wait.
 *
 * Example usage:
 *   cord_chan_msg_t m;
 *   while ((r = cord_chan_recv(&ch, &m)) > 0)
 *     if (m.type == CORD_CHAN_EV_MESSAGE && m.id)
 *       cord_chan_reply(&ch, m.id, NULL);
 *   return cord_chan_close(&ch);
 */
int cord_chan_recv(cord_chan_t *ch, cord_chan_msg_t *m);

/*
 * cord_chan_step: cord_chan_recv() for a program's own poll loop. It reads
 * only what is already there and returns -EAGAIN, with nothing in *m,
 * when no whole message has arrived yet; poll cord_chan_fd() for POLLIN and
 * call it again. A frame may arrive over several calls. Sends still block
 * until written, as the spec lets a child do [FLOW-2].
 *
 * Example usage:
 *   struct pollfd p = {.fd = cord_chan_fd(&ch), .events = POLLIN};
 *   for (;;) {
 *     r = cord_chan_step(&ch, &m);
 *     if (r == -EAGAIN) { poll(&p, 1, -1); continue; }
 *     if (r <= 0) break;
 *     handle(&m);
 *   }
 */
int cord_chan_step(cord_chan_t *ch, cord_chan_msg_t *m);

/* cord_chan_fd: the channel's descriptor, to poll for POLLIN; -1 after close. */
int cord_chan_fd(const cord_chan_t *ch);

/*
 * cord_chan_is_node: 1 when the channel is Node.js's json binding (only
 * one-way json messages can be sent), 0 for Cord.
 */
int cord_chan_is_node(const cord_chan_t *ch);

/*
 * cord_chan_send: sends a one-way message. *out is read during the call
 * only. On the Node.js binding only a json payload can be sent [NODE-9]:
 * one line, the text followed by 0a, with at most one descriptor, a
 * socket that goes as a handle [NODE-14]: a listening stream socket as a
 * net.Server, another TCP or AF_UNIX stream socket as a net.Socket, a UDP
 * socket as a dgram.Socket, or as the type out->type_name names when the
 * descriptor is what that type says (net.Native, dgram.Native). Node.js
 * answers a handle before it takes anything more [NODE-15]: until its
 * answer has been received (CORD_CHAN_EV_HANDLE), later sends are queued
 * in the transmit buffer and return 0, and a send that does not fit there,
 * or a second handle, returns -EAGAIN; receive until the answer, then
 * send again. The queue goes once the answer is read (with
 * CORD_CHAN_F_BATCH, as that flag says). A NACK means Node.js dropped the
 * message and its handle.
 *
 * Returns 0 once the whole frame is written (with CORD_CHAN_F_BATCH: once
 * it is queued; a failure to write what is queued is returned by the call
 * that writes it). CORD_ETOOBIG when the frame
 * exceeds the parent's max_frame or the transmit buffer, or descriptors
 * exceed the parent's max_fds [FRAME-2, FD-1]; nothing is sent then.
 * CORD_ENODE when the binding cannot carry it: not one-way json, an empty
 * or multi-line text, an internal NODE_ message, more than one
 * descriptor, or one that is no socket Node.js takes (a pipe, a file...)
 * or not what the named type says [NODE-4, NODE-7, NODE-9, NODE-14].
 * -ENOTSUP for a descriptor when CORD_CHILD_NO_FDS is defined.
 * -EINVAL for a bad *out. CORD_ECLOSED after the own Goodbye or a failure;
 * -EPIPE when the parent has closed its end [END-6]. SIGPIPE is never
 * raised. The parent SDK returns the same codes for the same misuse.
 *
 * Example usage:
 *   cord_chan_out_t o = {.payload = CORD_PAYLOAD_RAW, .data = "hi", .len = 2};
 *   r = cord_chan_send(&ch, &o);
 */
int cord_chan_send(cord_chan_t *ch, const cord_chan_out_t *out);

/*
 * cord_chan_send_json: sends one JSON text (len bytes, no NUL needed) as a
 * one-way message; the text must be valid JSON, which is not checked.
 * Returns as cord_chan_send().
 *
 * Example usage:
 *   r = cord_chan_send_json(&ch, "{\"ready\":true}", 14);
 */
int cord_chan_send_json(cord_chan_t *ch, const char *json, size_t len);

/*
 * cord_chan_send_typed: encodes the nanopb struct *src (described by
 * fields) straight into the transmit buffer as a one-way typed message of
 * type `type`. Returns as cord_chan_send().
 *
 * Example usage:
 *   example_Progress p = {.percent = 50};
 *   r = cord_chan_send_typed(&ch, "example.Progress", example_Progress_fields, &p);
 */
int cord_chan_send_typed(cord_chan_t *ch, const char *type, const pb_msgdesc_t *fields,
                         const void *src);

/*
 * cord_chan_request: sends *out as a request and stores its id (1, 2, 3 ...
 * never reused [REQ-1]) in *id (may be NULL). The reply comes back as a
 * CORD_CHAN_EV_MESSAGE whose reply_to is that id, or, if the channel ends
 * first, as a CORD_CHAN_EV_CLOSED event. Returns as cord_chan_send(), and
 * -ENOBUFS when CORD_CHILD_OUT_REQS requests are already outstanding.
 *
 * Example usage:
 *   uint64_t id;
 *   cord_chan_out_t q = {.payload = CORD_PAYLOAD_JSON, .data = "{\"need\":1}", .len = 10};
 *   r = cord_chan_request(&ch, &q, &id);
 */
int cord_chan_request(cord_chan_t *ch, const cord_chan_out_t *out, uint64_t *id);

/*
 * cord_chan_reply: answers the parent's request `id` with *out (NULL: an
 * empty success). out->status is 0, a protocol code, or an application code
 * >= 10000 [ERR-1, ERR-2]. Each request is answered exactly once [REQ-2]:
 * a second reply, or a reply to an id never received, is refused with
 * CORD_ESTATE. Otherwise returns as cord_chan_send().
 *
 * Example usage:
 *   cord_chan_out_t e = {.status = 1009};   // CANCELLED
 *   r = cord_chan_reply(&ch, m.id, &e);
 */
int cord_chan_reply(cord_chan_t *ch, uint64_t id, const cord_chan_out_t *out);

/*
 * cord_chan_echo: gives a received message back: a request is answered with
 * its own payload (the same kind, type and bytes), a one-way message is
 * sent back as one. Descriptors that came with it are closed: an echo has
 * no use for them. Other events (cancels, pongs, replies...) are left
 * alone. Returns 0, or as cord_chan_reply() and cord_chan_send().
 *
 * Example usage:
 *   while (cord_chan_recv(&ch, &m) > 0)
 *     cord_chan_echo(&ch, &m);
 */
int cord_chan_echo(cord_chan_t *ch, const cord_chan_msg_t *m);

/*
 * cord_chan_cancel: asks the parent to abandon the child's own request
 * `id` [REQ-6]. The request stays outstanding: its reply still comes, as a
 * CORD_CHAN_EV_MESSAGE with reply_to == id (status 1009, CANCELLED, or the
 * normal result), or as CORD_CHAN_EV_CLOSED.
 *
 * Returns 0 once the Cancel is written, CORD_ESTATE if `id` is not an
 * outstanding request, CORD_ENODE on the Node.js binding, or as
 * cord_chan_send().
 *
 * Example usage:
 *   uint64_t id;
 *   cord_chan_request(&ch, &q, &id);
 *   cord_chan_cancel(&ch, id);
 */
int cord_chan_cancel(cord_chan_t *ch, uint64_t id);

/*
 * cord_chan_ping: sends a Ping with this nonce; its Pong comes back as a
 * CORD_CHAN_EV_PONG event (status 0), or, if the parent's direction ends
 * first, as one with status 1011, CLOSED [PING-7]. Only the latest Ping is
 * matched [PING-3].
 * Returns as cord_chan_send().
 *
 * Example usage:
 *   r = cord_chan_ping(&ch, 7);
 */
int cord_chan_ping(cord_chan_t *ch, uint64_t nonce);

/*
 * cord_chan_goodbye: sends Goodbye, after which nothing more is sent, and
 * shuts down the writing direction [END-1]. Keep receiving until 0: the
 * parent's replies may still come. CORD_ENODE on the Node.js binding,
 * which has no Goodbye [NODE-9]. cord_chan_close() sends it when needed.
 *
 * Example usage:
 *   r = cord_chan_goodbye(&ch);
 */
int cord_chan_goodbye(cord_chan_t *ch);

/*
 * cord_chan_flush: writes the sends that CORD_CHAN_F_BATCH has queued,
 * blocking until they are written (as a send does without the flag).
 * Returns 0 (also when nothing was queued), or the failure of the write,
 * as cord_chan_send() returns it: the queued frames are then discarded,
 * and later sends fail. -EAGAIN, writing nothing, while a handle sent on
 * the Node.js binding awaits the parent's answer [NODE-15].
 *
 * Example usage:
 *   cord_chan_send(&ch, &progress);   // queued
 *   cord_chan_flush(&ch);             // on its way before the long work
 *   long_work();
 */
int cord_chan_flush(cord_chan_t *ch);

/*
 * cord_chan_close: ends the channel as spec END-8 asks: sends Goodbye if it
 * has not been sent and the channel has not failed, closes the descriptor
 * and every received descriptor not yet handed over [FD-9]. Every queued
 * send is written first [END-7]; on the Node.js binding, what waits behind
 * a handle of ours first has the parent's answer read, and messages that
 * arrive meanwhile are dropped. Returns cord_chan_exit_status(), so a
 * child can end with `return cord_chan_close(&ch);`. Closing twice is
 * harmless.
 *
 * Example usage:
 *   return cord_chan_close(&ch);
 */
int cord_chan_close(cord_chan_t *ch);

/*
 * cord_chan_exit_status: the exit status spec END-8 gives the channel so
 * far: CORD_EXIT_PROTOCOL (76) after a fatal protocol error, detected here
 * or reported by the parent, else CORD_EXIT_OK (0).
 *
 * Example usage:
 *   exit(cord_chan_exit_status(&ch));
 */
int cord_chan_exit_status(const cord_chan_t *ch);

/*
 * cord_chan_detail: a NUL-terminated text about the last failure ("" if
 * none or CORD_CHILD_NO_ERRSTR): the check that failed for CORD_ENOCHANNEL,
 * a preview of the first bytes for CORD_ENOTCORD [HELLO-7], both version
 * ranges for CORD_EVERSION [HELLO-8], the length and limit for
 * CORD_EFRAMESIZE [FRAME-5], the parent's own detail for an Error frame it
 * sent. It lives in the receive buffer and is valid until the next call.
 * The parent's text is its claim: escape it before showing it [SEC-7].
 *
 * Example usage:
 *   fprintf(stderr, "cord: %s: %s\n", cord_strerror(r), cord_chan_detail(&ch));
 */
const char *cord_chan_detail(const cord_chan_t *ch);

/*
 * cord_chan_decode_typed: decodes a received typed payload straight into
 * the caller's nanopb struct *dest (described by fields), with no copy of
 * the bytes. When type is not NULL the message's type name must equal it.
 * Returns 0; CORD_EUNSUPPORTED when the payload is not typed or names
 * another type; -EBADMSG when the value does not decode.
 *
 * Example usage:
 *   example_Job job = example_Job_init_zero;
 *   if (cord_chan_decode_typed(&m, "example.Job", example_Job_fields, &job) == 0) ...
 */
int cord_chan_decode_typed(const cord_chan_msg_t *m, const char *type, const pb_msgdesc_t *fields,
                           void *dest);

#ifdef __cplusplus
}
#endif
#endif /* CORD_CHILD_H */
