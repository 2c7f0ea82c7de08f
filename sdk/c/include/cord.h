/* cord.h: the Cord parent SDK: start children with every option of Node.js fork() and talk to them over a Cord channel. */
#ifndef CORD_H
#define CORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "cord_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Overview
 * ========
 * A parent starts a child with cord_spawn(). The child gets one end of a
 * Unix socket pair; the two sides speak the protocol of spec/cord-v1.md
 * (or, with CORD_SERIALIZATION_JSON, Node.js's own newline-delimited JSON
 * channel, spec section 13). Everything that happens to the child (a
 * message, a reply, its exit) is an event, taken one at a time with
 * cord_step() (never blocks) or cord_wait() (blocks up to a timeout).
 *
 * Sending never blocks either: cord_send() and friends encode the frame
 * into the child's send queue and return at once, telling the caller when
 * the queue has grown past its high-water mark (as Node.js's send()
 * returns false). The queue is written to the socket by cord_step(),
 * cord_wait(), cord_flush() and cord_loop_wait(), and immediately once a
 * batch is large enough; many small messages thus share one system call.
 *
 * A program with many children puts them in a cord_loop_t (epoll), whose
 * cost per event does not depend on the number of children. A program with
 * its own loop polls the descriptors that cord_fds() returns instead.
 *
 * Memory: the caller allocates every cord_proc_t and cord_loop_t (on the
 * stack, statically, or in its own structures) and must not move them
 * between cord_spawn()/cord_loop_init() and the matching close call. The
 * SDK allocates its internal buffers itself; a steady exchange of messages
 * of similar sizes allocates nothing (the buffers are reused), see
 * sdk/c/README.md for the exceptions.
 *
 * Threads: a child (and a loop) may be used by one thread at a time. Two
 * children may be used from two threads at once.
 *
 * Errors are negative codes from cord_errors.h: Cord's own (CORD_E*) or a
 * negated errno value. cord_strerror() turns any of them into text.
 */

#define CORD_VERSION_MAJOR 1
#define CORD_VERSION_MINOR 0
#define CORD_VERSION_PATCH 0
#define CORD_VERSION_STRING "1.0.0"

/* The protocol versions this SDK speaks (spec HELLO-3). */
#define CORD_PROTOCOL_MIN 1
#define CORD_PROTOCOL_MAX 1

/* The most stdio entries a child can have (descriptors 0..CORD_STDIO_MAX-1). */
#define CORD_STDIO_MAX 16

/* The most descriptors one message can pass (spec FD-1 recommends 64). */
#define CORD_FDS_MAX 64

/* ---------------------------------------------------------------------------
 * Options of cord_spawn(): every option of Node.js child_process.fork()
 * ------------------------------------------------------------------------ */

/* How the channel is spoken (Node's `serialization` option). */
typedef enum {
  /* Cord frames (spec sections 3 to 11). The default. */
  CORD_SERIALIZATION_CORD = 0,
  /* Node.js's own `json` channel (spec section 13): lets the parent fork an
   * unmodified Node.js module that calls process.send(). JSON one-way
   * messages cross it, each with at most one socket as a handle; see
   * cord_send(). */
  CORD_SERIALIZATION_JSON = 1,
  /* Node.js's `advanced` channel (spec section 13): V8's serialization
   * (v8.serialize) of each message, so BigInt, Date, Map, Set, binary
   * data, undefined and cycles cross as well. Messages arrive as values
   * (CORD_PAYLOAD_V8, cord_event_t.value) and go with cord_send_value(). */
  CORD_SERIALIZATION_ADVANCED = 2
} cord_serialization_t;

/* What one descriptor of the child is connected to (one entry of Node's
 * `stdio` array). Directions are from the child's point of view. */
typedef enum {
  /* The parent's own descriptor of the same number (Node's 'inherit'). */
  CORD_STDIO_INHERIT = 0,
  /* A pipe to the parent (Node's 'pipe'). Descriptor 0 is the child's input:
   * the parent writes it through cord_stdio_fd(). Every other pipe is an
   * output of the child, which the SDK reads and hands over as
   * CORD_EV_OUTPUT events. */
  CORD_STDIO_PIPE = 1,
  /* Nothing: /dev/null for descriptors 0 to 2, closed above (Node's 'ignore'). */
  CORD_STDIO_IGNORE = 2,
  /* The parent descriptor `fd` of the entry, duplicated into place (Node's
   * integer entries). The parent keeps its own copy. */
  CORD_STDIO_FD = 3,
  /* The channel (Node's 'ipc'). There must be exactly one, at an index of 3
   * or more; its index is the descriptor number the child finds in
   * CORD_CHANNEL_FD (or NODE_CHANNEL_FD). */
  CORD_STDIO_IPC = 4
} cord_stdio_kind_t;

typedef struct {
  cord_stdio_kind_t kind;
  /* For CORD_STDIO_FD: the parent's descriptor. Ignored otherwise. */
  int fd;
} cord_stdio_t;

/* Flags of cord_options_t.flags. Unknown bits are refused with -EINVAL. */
enum {
  /* Apply cord_options_t.uid in the child (uid 0 is a valid value, hence
   * the flag). */
  CORD_OPT_SETUID = 1u << 0,
  /* Apply cord_options_t.gid in the child, and clear its supplementary
   * groups. */
  CORD_OPT_SETGID = 1u << 1,
  /* Node's `detached`: the child starts a new session (setsid()), so that it
   * does not receive its parent's terminal signals and can outlive it.
   * cord_proc_close() then leaves it running instead of killing it. */
  CORD_OPT_DETACHED = 1u << 2,
  /* Node's `silent`: descriptors 0, 1 and 2 are pipes to the parent instead
   * of being inherited. Ignored when `stdio` is given, as in Node. */
  CORD_OPT_SILENT = 1u << 3,
  /* Node's `windowsVerbatimArguments`. Accepted for compatibility and
   * ignored: it only changes argument quoting on Windows. */
  CORD_OPT_WINDOWS_VERBATIM_ARGUMENTS = 1u << 4,
  /* Refuse descriptors from the child: the parent's Hello declares
   * max_fds 0 (spec FD-1). */
  CORD_OPT_NO_FDS = 1u << 5
};

/*
 * The options of cord_spawn(). Zero every field (cord_options_t o = {0};)
 * and set what you need: zero always means the default, which is Node's
 * default where Node has the option.
 */
typedef struct {
  /* Working directory of the child; NULL: the parent's (Node's `cwd`). */
  const char *cwd;
  /* The child's environment as "NAME=value" strings, NULL-terminated; NULL:
   * the parent's environment (Node's `env`). The SDK adds the channel
   * variable (CORD_CHANNEL_FD, or NODE_CHANNEL_FD and
   * NODE_CHANNEL_SERIALIZATION_MODE) and removes any stale copy of them. */
  const char *const *env;
  /* The program to run (Node's `execPath`). NULL: run the module itself.
   * When set, the child runs exec_path exec_argv... module args...; a name
   * without '/' is searched in the child's PATH. */
  const char *exec_path;
  /* Arguments placed before the module path, NULL-terminated (Node's
   * `execArgv`). Used only with exec_path; NULL: none. */
  const char *const *exec_argv;
  /* argv[0] as the child sees it; NULL: the program's path as given. */
  const char *argv0;
  /* Node's `serialization`; CORD_SERIALIZATION_CORD by default. */
  cord_serialization_t serialization;
  /* Node's `stdio` array: stdio_count entries for descriptors 0 up,
   * exactly one of them CORD_STDIO_IPC (else CORD_EIPCCOUNT). NULL: Node's
   * default, [inherit, inherit, inherit, ipc], or with CORD_OPT_SILENT
   * [pipe, pipe, pipe, ipc]. */
  const cord_stdio_t *stdio;
  int stdio_count;
  /* The child's user and group, applied only with CORD_OPT_SETUID and
   * CORD_OPT_SETGID (Node's `uid` and `gid`). */
  uid_t uid;
  gid_t gid;
  /* CORD_OPT_* flags. */
  unsigned flags;
  /* Node's `killSignal`: the signal of the `timeout` and of the first
   * escalation step of cord_stop(); 0: SIGTERM. */
  int kill_signal;
  /* Node's `timeout`: milliseconds after which the child is sent
   * kill_signal if it has not exited; 0: never. */
  uint32_t timeout_ms;

  /* -- Cord's own options -- */

  /* Largest frame body the parent accepts from the child (its Hello's
   * max_frame, spec FRAME-2); 0: 64 MiB (512 MiB on the json binding, as
   * Node.js itself, spec NODE-6). At least 256. Memory is taken as bytes
   * arrive, never for what a length announces. */
  uint32_t max_frame;
  /* Most descriptors the parent accepts with one message; 0: 16. At most
   * CORD_FDS_MAX. See CORD_OPT_NO_FDS to accept none. */
  uint32_t max_fds;
  /* Bytes queued for sending above which sends return 1 ("above the
   * high-water mark", Node's false); 0: 128 KiB. */
  size_t high_water;
  /* Bytes queued for sending (and, in cord_flush(), received but not yet
   * taken) beyond which the SDK refuses more (-ENOBUFS); 0: 64 MiB. A
   * single message larger than this is still accepted into an empty
   * queue. */
  size_t queue_limit;
  /* Milliseconds to wait for the child's Hello before failing the channel
   * with CORD_ETIMEOUT (spec HELLO-12); 0: 10 s. */
  uint32_t hello_timeout_ms;
  /* Milliseconds between the steps of cord_stop() (spec END-9); 0: 5 s. */
  uint32_t grace_ms;
  /* Name and version announced in the parent's Hello (spec HELLO-4, at most
   * 64 and 32 bytes); NULL: "cord-c" and CORD_VERSION_STRING. */
  const char *impl_name;
  const char *impl_version;
  /* Called with each whole frame (prefix included) or json line (newline
   * included) as the parent queues it (outgoing 1) or takes it from the
   * socket (outgoing 0), for logs and tools; NULL: none. It must not call
   * the SDK. `frame` is valid during the call only. */
  void (*trace)(void *trace_arg, int outgoing, const void *frame, size_t len);
  void *trace_arg;
} cord_options_t;

/* ---------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

/* The payload kinds of spec MSG-3; the values are cord.v1.Message's field
 * numbers. The child SDK's header has the same constants, so that both
 * headers can be included in one program. */
#ifndef CORD_PAYLOAD_NONE
#define CORD_PAYLOAD_NONE 0
#define CORD_PAYLOAD_TYPED 5
#define CORD_PAYLOAD_JSON 6
#define CORD_PAYLOAD_RAW 7
#endif
/* Not a field of cord.v1.Message: a message of Node.js's advanced channel,
 * V8's bytes (data, len) and their value (cord_event_t.value). */
#define CORD_PAYLOAD_V8 16
typedef int cord_payload_t;

/* A value of Node.js's advanced serialization: see the section "Values of
 * Node.js's advanced serialization" below. */
typedef struct cord_value cord_value_t;

/*
 * A message to send. Everything it points to is the caller's and need only
 * live for the duration of the call: the SDK encodes (and, for fds,
 * duplicates) before returning.
 */
typedef struct {
  cord_payload_t payload;
  /* CORD_PAYLOAD_TYPED: the fully qualified message name, NUL-terminated
   * ("example.v1.Job"). Ignored for other kinds. */
  const char *type_name;
  /* The payload bytes: JSON text (UTF-8, no NUL needed), raw bytes, or the
   * encoded typed message. May be NULL when len is 0. */
  const void *data;
  size_t len;
  /* Descriptors to pass with the message (spec section 8); the SDK
   * duplicates them, the caller's copies stay the caller's. */
  const int *fds;
  unsigned nfds;
} cord_msg_t;

/* ---------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------ */

typedef enum {
  CORD_EV_NONE = 0,
  /* The handshake completed (spec section 4): the child's Hello is in
   * cord_proc_t.peer. On the json binding there is no handshake and this
   * event comes right after the spawn. */
  CORD_EV_READY,
  /* A message from the child: one-way (ev.id == 0) or a request (ev.id !=
   * 0), which the parent must answer with cord_reply() (spec REQ-2). */
  CORD_EV_MESSAGE,
  /* The outcome of one of the parent's requests (ev.id): the child's reply
   * (ev.error == 0; ev.status and the payload are the child's), or its
   * failure (ev.error < 0: CORD_ECLOSED when the channel ended first, spec
   * REQ-9, or CORD_ETOOBIG when it could not be sent). Exactly one per
   * request. */
  CORD_EV_REPLY,
  /* The child cancelled its request ev.id, which the parent has not
   * answered yet (spec REQ-7): the parent still owes exactly one reply. */
  CORD_EV_CANCEL,
  /* The outcome of cord_ping() (ev.id is its nonce): the child's Pong
   * (ev.error == 0), or CORD_ECLOSED when the channel ended first and no
   * Pong can come (spec PING-7). Exactly one per Ping. */
  CORD_EV_PONG,
  /* The send queue, which had reached the high-water mark, is below it
   * again. */
  CORD_EV_DRAIN,
  /* Something went wrong that the parent should know: ev.error is the code
   * and ev.detail says more. A non-fatal Error frame from the child
   * (ev.error is the negated code it sent), a line refused on the json
   * binding, or a fatal failure of the channel, which a
   * CORD_EV_DISCONNECT then follows. */
  CORD_EV_ERROR,
  /* Output of the child on a CORD_STDIO_PIPE descriptor: ev.stdio_fd says
   * which (1, 2, ...), ev.data and ev.len hold the bytes; ev.len == 0 means
   * the child closed it. */
  CORD_EV_OUTPUT,
  /* The channel has ended in both directions and is closed (Node's
   * 'disconnect'). ev.error is 0 after a Goodbye or end of file, else the
   * fatal code that ended it. */
  CORD_EV_DISCONNECT,
  /* The child has exited (Node's 'exit'): ev.exit_status is its exit
   * status, or -1 if a signal ended it, in which case ev.term_signal is
   * that signal. The child has been reaped. */
  CORD_EV_EXIT,
  /* The last event (Node's 'close'): the child has exited, the channel is
   * closed and every output pipe has reached its end. */
  CORD_EV_CLOSE
} cord_event_type_t;

/*
 * An event. Everything it points to belongs to the SDK and stays valid
 * until the next cord_step(), cord_wait() or cord_proc_close() on the same
 * child, except the descriptors in fds, which the event hands over to the
 * caller: the caller must close them.
 */
typedef struct {
  cord_event_type_t type;
  /* CORD_EV_ERROR, CORD_EV_REPLY, CORD_EV_PONG, CORD_EV_DISCONNECT: 0 or a negative code. */
  int error;
  /* MESSAGE: the request id (0: one-way). REPLY, CANCEL: the request's id.
   * PONG: the nonce. */
  uint64_t id;
  /* REPLY: the child's status (0: success; spec REQ-2). ERROR from the
   * child's Error frame: the code as it was sent (a code above 2147483647
   * has no negative int: `error` is then INT_MIN). */
  uint32_t status;
  /* MESSAGE, REPLY: the payload. */
  cord_payload_t payload;
  const char *type_name; /* CORD_PAYLOAD_TYPED: the message name, NUL-terminated. */
  /* Payload bytes, or OUTPUT bytes. CORD_PAYLOAD_V8: V8's bytes of the
   * frame (header FF 0F on), which for a message that came with a handle
   * are those of Node.js's NODE_HANDLE object around it. ERROR on the
   * advanced binding for a message that could not be read: its bytes, so
   * that nothing is lost. */
  const void *data;
  size_t len;
  /* MESSAGE, REPLY: descriptors passed with the message; now the caller's.
   * On the Node.js bindings, at most one: the socket of a handle (Node's
   * process.send(message, handle)). */
  int *fds;
  unsigned nfds;
  /* OUTPUT: the child's descriptor the bytes came from. */
  int stdio_fd;
  /* EXIT: see CORD_EV_EXIT. */
  int exit_status;
  int term_signal;
  /* ERROR, DISCONNECT: text for a person (never NULL for ERROR). */
  const char *detail;
  /* MESSAGE with CORD_PAYLOAD_V8: the message as a value, in memory of the
   * SDK's (at most CORD_V8_ARENA_BOUND(len) bytes), valid as long as the
   * event. NULL otherwise. */
  const cord_value_t *value;
} cord_event_t;

/* ---------------------------------------------------------------------------
 * The child
 * ------------------------------------------------------------------------ */

/* What the child said in its Hello (valid after CORD_EV_READY). */
typedef struct {
  uint32_t version;      /* the version agreed for the channel */
  uint32_t max_frame;    /* the largest frame the child accepts */
  uint32_t max_fds;      /* the most descriptors it accepts per message */
  uint64_t capabilities; /* its Capability bits */
  uint32_t pid;          /* the pid it claims (diagnostics only) */
  char impl_name[65];    /* its implementation name, NUL-terminated */
  char impl_version[33];
} cord_peer_t;

typedef struct cord_proc_s cord_proc_t;
typedef struct cord_loop_s cord_loop_t;

/*
 * A child process and its channel. Allocated by the caller, filled by
 * cord_spawn(), released by cord_proc_close(). The fields before `priv`
 * may be read at any time; none may be written except `data`.
 */
struct cord_proc_s {
  /* For the caller's own use; the SDK never touches it. */
  void *data;
  /* The child's process id. */
  pid_t pid;
  /* 1 while messages can be sent (Node's `connected`): from the spawn until
   * cord_disconnect() or the end of the channel. */
  int connected;
  /* 1 once the child has exited; then exit_status and term_signal are set
   * as in CORD_EV_EXIT. */
  int exited;
  int exit_status;
  int term_signal;
  /* The child's Hello (after CORD_EV_READY). */
  cord_peer_t peer;
  /* The channel mode it was spawned with. */
  cord_serialization_t serialization;
  /* Private: the SDK's state. Never read or written by the caller. */
  struct cord__proc_priv *priv;
};

/*
 * cord_spawn: starts `module` with `args` as a child with a Cord channel, as
 * Node.js fork(module, args, opts) does.
 *
 * `args` is NULL or a NULL-terminated argument list (not including argv[0]).
 * The child runs `module args...`, or `exec_path exec_argv... module args...`
 * when opts->exec_path is set. opts may be NULL for all defaults.
 *
 * Failure to start the child is reported here, synchronously: a program
 * that does not exist (-ENOENT), is not executable (-EACCES), a cwd that
 * does not exist (-ENOENT), a uid or gid that cannot be applied (-EPERM), a
 * stdio array without exactly one ipc entry (CORD_EIPCCOUNT), a bad option
 * (-EINVAL). On failure no child runs, nothing is leaked, and
 * cord_proc_close() must not be called; cord_spawn_error() then gives a
 * sentence saying what failed, for a person.
 *
 * On success the child runs; its first event is CORD_EV_READY (or a failure
 * of the handshake). Messages may be sent at once: they wait in the queue
 * until the child's Hello says how large a frame it accepts, and any that
 * turn out too large are dropped with a CORD_EV_ERROR (and a CORD_EV_REPLY
 * failure for requests). The cost of this call does not depend on the size
 * of the parent's memory (the child is created with vfork semantics).
 *
 * Example usage:
 *   cord_proc_t c;
 *   const char *args[] = {"--verbose", NULL};
 *   int err = cord_spawn(&c, "./worker", args, NULL);
 *   if (err < 0) fprintf(stderr, "%s\n", cord_spawn_error());
 */
CORD_EXTERN int cord_spawn(cord_proc_t *c, const char *module, const char *const *args,
               const cord_options_t *opts);

/*
 * cord_attach: speaks Cord (or, with opts->serialization, Node's json
 * channel) as the parent on `fd`, a connected stream socket whose other
 * end belongs to a child the caller started by other means, or to a test
 * or a fuzzer in the same process. The SDK takes `fd` over (it makes it
 * non-blocking and close-on-exec, and closes it). There is no process:
 * no CORD_EV_EXIT comes, CORD_EV_CLOSE follows CORD_EV_DISCONNECT, and
 * cord_kill() answers -ESRCH. Only an AF_UNIX socket passes descriptors;
 * on another one the Hello declares max_fds 0. The options about a
 * process (cwd, env, stdio, uid...) are ignored.
 *
 * Returns 0, or -EBADF/-ENOTSOCK when fd is not a stream socket (it is
 * then left open), -EINVAL for a bad option, -ENOMEM.
 *
 * Example usage:
 *   int sv[2];
 *   socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
 *   cord_attach(&c, sv[0], NULL);   // sv[1] is the child's end
 */
CORD_EXTERN int cord_attach(cord_proc_t *c, int fd, const cord_options_t *opts);

/* cord_spawn_error: the sentence describing the last cord_spawn() failure
 * of the calling thread ("" if none). Valid until that thread's next
 * cord_spawn(). */
CORD_EXTERN const char *cord_spawn_error(void);

/*
 * cord_step: does whatever work is ready without blocking (writes queued
 * frames, reads and decodes what arrived, notices the child's exit and
 * expired timers) and returns the next event, if any.
 *
 * Returns 1 with *ev filled; -EAGAIN when there is no event now (call again
 * after the child's descriptors become ready or cord_timeout() elapses); 0
 * once CORD_EV_CLOSE has been returned, and forever after: nothing more
 * will come; or another negative code on misuse (-EINVAL). These are the
 * meanings of cord_chan_step() in the child SDK. Call it until it stops
 * returning 1 whenever the child's descriptors are ready, or events may
 * wait unseen.
 *
 * Example usage:
 *   cord_event_t ev;
 *   while (cord_step(&c, &ev) == 1)
 *     handle(&ev);
 */
CORD_EXTERN int cord_step(cord_proc_t *c, cord_event_t *ev);

/*
 * cord_wait: as cord_step(), but blocks until an event arrives or
 * timeout_ms elapses (-1: no limit). Returns 1 with *ev, -ETIMEDOUT, or 0
 * once CORD_EV_CLOSE has been returned. For small programs and tests.
 */
CORD_EXTERN int cord_wait(cord_proc_t *c, cord_event_t *ev, int timeout_ms);

/*
 * cord_send: queues a one-way message (spec section 5).
 *
 * Returns 0 when queued with the queue below the high-water mark, 1 when
 * queued but the queue is at or above it (the caller should wait for
 * CORD_EV_DRAIN before sending much more), or a negative code with nothing
 * queued: CORD_ECLOSED (the parent's direction has ended), CORD_ETOOBIG
 * (the frame would exceed the child's max_frame, or the fds its max_fds),
 * -ENOBUFS (the queue is at queue_limit), -EINVAL (a bad message),
 * CORD_ENODE (json binding: not a one-way JSON message, or text Node.js
 * would choke on: empty, containing a raw newline, not JSON, or a NODE_
 * internal message; a descriptor that is no socket Node.js takes as a
 * handle; the advanced binding, which takes cord_send_value()). The child
 * SDK returns the same codes for the same misuse.
 *
 * On the json binding a message may pass one descriptor (nfds 1; more is
 * CORD_ETOOBIG): it goes as Node.js's process.send(message, handle) does,
 * inside a NODE_HANDLE message, as a net.Server for a listening socket, a
 * net.Socket for another TCP or Unix stream socket, a dgram.Socket for a
 * UDP socket. Until the child has answered that it got it, nothing more
 * is written (as Node.js does); a child that did not get it answers
 * NODE_HANDLE_NACK, which comes as a CORD_EV_ERROR (CORD_EUNSUPPORTED):
 * Node.js then drops the message too.
 */
CORD_EXTERN int cord_send(cord_proc_t *c, const cord_msg_t *m);

/*
 * cord_proc_detail: a sentence on why the last call on c that was refused
 * was refused ("" before any): for a JSON text Node.js could not take, what
 * is wrong and at which byte. The text stays until the next refusal. The
 * child SDK's cord_chan_detail() is its twin.
 *
 * Example usage:
 *   if (cord_send_json(&c, text) < 0) fprintf(stderr, "%s\n", cord_proc_detail(&c));
 */
CORD_EXTERN const char *cord_proc_detail(const cord_proc_t *c);

/* cord_send_json: cord_send() of one JSON text, NUL-terminated. */
CORD_EXTERN int cord_send_json(cord_proc_t *c, const char *json);

/*
 * cord_send_value: queues the value v as one message on Node.js's advanced
 * channel (CORD_SERIALIZATION_ADVANCED), with the descriptor fds[0] when
 * nfds is 1 (fds may be NULL when nfds is 0): Node.js's receiver gets it as
 * process.on('message', (m, handle) => ...), a net.Server for a listening
 * socket, a net.Socket for another stream socket (TCP or Unix), a
 * dgram.Socket for a UDP one. The value is encoded before the call
 * returns; v and fds stay the caller's.
 *
 * Returns as cord_send(), and: CORD_ENODE on another binding, for a value
 * that is one of Node.js's internal messages (an object whose "cmd" starts
 * "NODE_"), or for a descriptor Node.js cannot take as a handle;
 * CORD_ETOOBIG for more than one descriptor, a value nested deeper than
 * CORD_V8_MAX_DEPTH or larger than 2 GiB; -EINVAL for a value that cannot
 * be encoded (cord_v8_encode()). cord_proc_detail() says why.
 *
 * Example usage:
 *   cord_value_t *job = cord_value_new(&arena, CORD_VALUE_MAP);
 *   ...
 *   cord_send_value(&c, job, &listener, 1);   // Node: (m, server) => server.on('connection', ...)
 */
CORD_EXTERN int cord_send_value(cord_proc_t *c, const cord_value_t *v, const int *fds, unsigned nfds);

/*
 * cord_send_pbc: cord_send() of a protobuf-c message as a typed payload;
 * its type name is taken from its descriptor.
 */
CORD_EXTERN int cord_send_pbc(cord_proc_t *c, const ProtobufCMessage *msg);

/*
 * cord_request: queues a request (spec section 6) and stores its id in *id.
 * Its outcome comes later as exactly one CORD_EV_REPLY with that id.
 * Returns as cord_send(), and CORD_ECLOSED once the child's direction has
 * ended, since no reply could come (spec REQ-11); the json binding refuses
 * requests (CORD_ENODE).
 */
CORD_EXTERN int cord_request(cord_proc_t *c, const cord_msg_t *m, uint64_t *id);

/*
 * cord_reply: answers the child's request `id` with `status` (0: success)
 * and an optional payload m (NULL: none). Each request must be answered
 * exactly once (spec REQ-2); a second reply, or a reply to an id the child
 * never sent, gives CORD_ESTATE. `status` is 0, a protocol code (1000 to
 * 1999) or an application code (10000 and up); any other gives -EINVAL
 * (spec ERR-1, ERR-2). Otherwise returns as cord_send().
 */
CORD_EXTERN int cord_reply(cord_proc_t *c, uint64_t id, uint32_t status, const cord_msg_t *m);

/*
 * cord_cancel: asks the child to abandon the parent's request `id` (spec
 * REQ-6). The request stays outstanding: its CORD_EV_REPLY still comes,
 * with status CANCELLED (1009) or the normal result. CORD_ESTATE if `id`
 * is not outstanding.
 */
CORD_EXTERN int cord_cancel(cord_proc_t *c, uint64_t id);

/* cord_ping: sends a Ping; the child's Pong comes as CORD_EV_PONG with the
 * same nonce, which is stored in *nonce if not NULL, or, if the child's
 * direction ends first, a CORD_EV_PONG with error CORD_ECLOSED (spec
 * PING-7). Returns CORD_ECLOSED once the child's direction has ended (spec
 * PING-5). */
CORD_EXTERN int cord_ping(cord_proc_t *c, uint64_t *nonce);

/*
 * cord_disconnect: ends the parent's direction of the channel (Node's
 * disconnect()): sends Goodbye (reason SHUTDOWN) after whatever is queued
 * and shuts the socket down for writing. `connected` becomes 0 at once;
 * replies still arrive until the child's direction ends, which the child
 * does and then exits (spec END-8). CORD_EV_DISCONNECT follows. On the json
 * binding the socket is simply shut down. CORD_ECLOSED if already
 * disconnected.
 */
CORD_EXTERN int cord_disconnect(cord_proc_t *c);

/*
 * cord_stop: stops the child as spec END-9 says: cord_disconnect(), then
 * after grace_ms the kill signal, then after grace_ms SIGKILL, each step
 * only if the child is still running. The events come as usual, ending
 * with CORD_EV_CLOSE.
 */
CORD_EXTERN int cord_stop(cord_proc_t *c);

/* cord_kill: sends `sig` to the child (Node's kill()); -ESRCH once it has
 * been reaped. The exit comes as CORD_EV_EXIT. */
CORD_EXTERN int cord_kill(cord_proc_t *c, int sig);

/*
 * cord_flush: writes the send queue, blocking up to timeout_ms (-1: no
 * limit), while still reading what the child sends (spec FLOW-1), which
 * later cord_step() calls return. Returns 0 when the queue is empty,
 * -ETIMEDOUT, or CORD_ECLOSED if the child's end closed first.
 */
CORD_EXTERN int cord_flush(cord_proc_t *c, int timeout_ms);

/*
 * cord_fds: the descriptors to poll for the child, and the events to ask
 * for (POLLIN, plus POLLOUT on the channel while the queue is not empty).
 * Fills up to `max` entries of fds and events; returns how many.
 */
CORD_EXTERN int cord_fds(const cord_proc_t *c, int *fds, short *events, int max);

/* cord_timeout: milliseconds until the child's next timer (a handshake
 * timeout, the `timeout` option, a cord_stop() step), or -1 if none. */
CORD_EXTERN int cord_timeout(const cord_proc_t *c);

/* cord_stdio_fd: the parent's end of the pipe at the child's descriptor
 * `child_fd` (0 for its input), or -1 if that descriptor is not a pipe. The
 * SDK owns it; the caller may write to descriptor 0's pipe, and close it
 * with cord_close_stdin(). */
CORD_EXTERN int cord_stdio_fd(const cord_proc_t *c, int child_fd);

/* cord_close_stdin: closes the parent's end of the child's input pipe, so
 * the child reads end of file. */
CORD_EXTERN int cord_close_stdin(cord_proc_t *c);

/*
 * cord_proc_close: releases everything the SDK holds for the child. A
 * child that has not exited is killed with SIGKILL and reaped, unless it
 * was started with CORD_OPT_DETACHED, in which case it is left running.
 * Descriptors handed over by events stay the caller's. The struct may be
 * reused afterwards.
 */
CORD_EXTERN void cord_proc_close(cord_proc_t *c);

/*
 * The names of version 1.0, kept so that programs written for it still
 * build, with a warning: the parent's handle was called cord_child_t, too
 * close to the child SDK's names, for a process that is not a child SDK.
 */
typedef cord_proc_t cord_child_t __attribute__((deprecated("renamed cord_proc_t")));
CORD_EXTERN __attribute__((deprecated("renamed cord_proc_close"))) void cord_child_close(cord_proc_t *c);

/*
 * cord_replace_allocator: makes every allocation of the SDK go through the
 * four functions given (all four, with the contracts of the C library's
 * malloc, realloc, calloc and free), as libuv's uv_replace_allocator()
 * does. Call it before any other call of the SDK, from one thread; memory
 * taken with one set must not be freed with another. Returns 0, or -EINVAL
 * if a function is NULL. The SDK copes with any allocation failing: the
 * call that needed it returns -ENOMEM, or, for memory needed by what the
 * child sent, the channel fails with -ENOMEM; no event that ends a
 * request, the channel or the process is ever lost.
 */
typedef void *(*cord_malloc_fn)(size_t size);
typedef void *(*cord_realloc_fn)(void *ptr, size_t size);
typedef void *(*cord_calloc_fn)(size_t count, size_t size);
typedef void (*cord_free_fn)(void *ptr);
CORD_EXTERN int cord_replace_allocator(cord_malloc_fn m, cord_realloc_fn r, cord_calloc_fn c, cord_free_fn f);

/* cord_event_name: "MESSAGE", "EXIT", ... for an event type. */
CORD_EXTERN const char *cord_event_name(cord_event_type_t type);

/*
 * cord_event_unpack: decodes a CORD_PAYLOAD_TYPED payload of an event with
 * protobuf-c, checking that its type is desc's. Returns the message
 * (free it with protobuf_c_message_free_unpacked(msg, NULL)), or NULL if
 * the event holds another type or the bytes do not decode.
 */
CORD_EXTERN ProtobufCMessage *cord_event_unpack(const cord_event_t *ev, const ProtobufCMessageDescriptor *desc);

/*
 * cord_frame_describe: writes into out (capacity outlen, NUL-terminated) a
 * one-line text of an encoded cord.v1.Frame body (without its prefix), in
 * protobuf text format as `protoc --decode` prints it, squeezed to one
 * line; strings and bytes longer than 64 bytes are cut and marked.
 * Returns the length written, or CORD_EPROTOCOL if the bytes do not decode.
 */
CORD_EXTERN int cord_frame_describe(const void *body, size_t len, char *out, size_t outlen);

/* ---------------------------------------------------------------------------
 * The loop: many children, one epoll
 * ------------------------------------------------------------------------ */

/*
 * A set of children watched with one epoll instance and one timer heap.
 * Allocated by the caller; fields private.
 */
struct cord_loop_s {
  int epfd;
  struct cord__loop_priv *priv;
};

/* cord_loop_init: prepares an empty loop. Returns 0 or a negative code. */
CORD_EXTERN int cord_loop_init(cord_loop_t *loop);

/*
 * cord_loop_add: watches a spawned child in the loop until
 * cord_proc_close(), which removes it. A child belongs to one loop at most.
 */
CORD_EXTERN int cord_loop_add(cord_loop_t *loop, cord_proc_t *c);

/*
 * cord_loop_wait: writes every child's queue, then waits up to timeout_ms
 * (-1: no limit) for any child to have work, and stores up to `max`
 * children that do in `ready`. Returns how many (0 on timeout) or a
 * negative code. Call cord_step() on each until it stops returning 1; a child left
 * with events is returned again by the next call. The work per call grows
 * with the number of ready children, not with the number of children.
 *
 * Example usage:
 *   cord_proc_t *ready[64];
 *   int n = cord_loop_wait(&loop, ready, 64, -1);
 *   for (int i = 0; i < n; i++)
 *     while (cord_step(ready[i], &ev) == 1) handle(ready[i], &ev);
 */
CORD_EXTERN int cord_loop_wait(cord_loop_t *loop, cord_proc_t **ready, int max, int timeout_ms);

/* cord_loop_close: releases the loop. Its children must have been closed
 * first (cord_proc_close() removes them). */
CORD_EXTERN void cord_loop_close(cord_loop_t *loop);

/* ---------------------------------------------------------------------------
 * Values of Node.js's `advanced` serialization
 * ---------------------------------------------------------------------------
 * A Node.js child forked with `serialization: 'advanced'` sends and reads
 * V8's structured clone format (v8.serialize, header FF 0F) instead of
 * JSON, so it can pass what JSON cannot: BigInt, Date, RegExp, Map, Set,
 * binary data, undefined, sparse arrays, shared references and cycles.
 * In C such a message is a tree of cord_value_t nodes (a graph, when the
 * sender shared an object or made a cycle), allocated from a cord_arena_t
 * that the caller owns: one arena per message or per batch, freed or reset
 * at once, so nothing is freed node by node.
 *
 * Reading is plain C: switch on v->type and read the union member that the
 * type names. Strings are UTF-8 and NUL-terminated (WTF-8, that is UTF-8
 * that also encodes lone surrogates, for the strings JavaScript allows and
 * UTF-8 does not). Building is with cord_value_*() constructors and
 * cord_value_put()/cord_value_push().
 *
 * Example usage (the example in sdk/c/README.md, built and run by a test):
 *   cord_arena_t a;
 *   cord_arena_init(&a, 0);
 *   cord_value_t *job = cord_value_new(&a, CORD_VALUE_OBJECT);
 *   cord_value_put(&a, job, "id", cord_value_bigint_i64(&a, -42));
 *   cord_value_put(&a, job, "when", cord_value_date(&a, 1.7e12));
 *   size_t len;
 *   cord_v8_encode(job, buf, sizeof buf, &len, NULL);  // buf: FF 0F 6F ...
 *   const cord_value_t *back;
 *   cord_v8_decode(&a, buf, len, 0, &back, NULL);
 *   cord_value_get(back, "id")->u.bytes.ptr[0];          // 42, and kind 1: negative
 *   cord_arena_free(&a);
 */

/* An arena: memory for values, obtained in chunks and released at once. */
struct cord__chunk;
typedef struct cord_arena {
  struct cord__chunk *head; /* private: the chunks, newest first */
  size_t bytes;             /* bytes the arena holds from malloc, all chunks */
  size_t limit;             /* the most it may hold; 0: no limit */
} cord_arena_t;

/* cord_arena_init: an empty arena that will hold at most `limit` bytes
 * (0: no limit). Allocates nothing. */
CORD_EXTERN void cord_arena_init(cord_arena_t *a, size_t limit);

/* cord_arena_alloc: n bytes aligned to 8, zeroed, valid until the arena is
 * reset or freed; NULL when the limit or malloc says no. */
CORD_EXTERN void *cord_arena_alloc(cord_arena_t *a, size_t n);

/* cord_arena_reset: forgets every value in the arena, keeping its largest
 * chunk for reuse. */
CORD_EXTERN void cord_arena_reset(cord_arena_t *a);

/* cord_arena_free: releases all of the arena's memory; it may be used
 * again, as if just initialised with the same limit. */
CORD_EXTERN void cord_arena_free(cord_arena_t *a);

/* The types of values. The comment says which member of u holds it. */
typedef enum cord_value_type {
  CORD_VALUE_UNDEFINED = 0, /* (nothing) */
  CORD_VALUE_NULL,          /* (nothing) */
  CORD_VALUE_BOOL,          /* u.boolean: 0 or 1 */
  CORD_VALUE_INT32,         /* u.int32: a number V8 wrote as an integer */
  CORD_VALUE_DOUBLE,        /* u.number: any other number (-0, NaN, 2**31, 1.5) */
  CORD_VALUE_BIGINT,        /* u.bytes: magnitude, little-endian, no high zero bytes (0n: len 0); kind 1: negative */
  CORD_VALUE_STRING,        /* u.string */
  CORD_VALUE_OBJECT,        /* u.object: members in order */
  CORD_VALUE_ARRAY,         /* aux: length; u.array */
  CORD_VALUE_DATE,          /* u.number: milliseconds since 1970 (NaN: an invalid date) */
  CORD_VALUE_REGEXP,        /* u.string: the source; aux: CORD_REGEXP_* flags */
  CORD_VALUE_MAP,           /* u.list: key, value, key, value, ... */
  CORD_VALUE_SET,           /* u.list */
  CORD_VALUE_ARRAYBUFFER,   /* u.bytes */
  CORD_VALUE_VIEW,          /* u.bytes; kind: cord_view_kind_t (Buffer, a typed array, DataView) */
  CORD_VALUE_BOXED,         /* u.boxed: the BOOL, DOUBLE, BIGINT or STRING in a Boolean, Number, BigInt or String object */
  CORD_VALUE_ERROR          /* kind: cord_error_kind_t; u.object: "message", "stack" (strings) and "cause", as present */
} cord_value_type_t;

/* CORD_VALUE_VIEW kinds: Node.js's own numbering of ArrayBufferView types. */
typedef enum cord_view_kind {
  CORD_VIEW_INT8 = 0,
  CORD_VIEW_UINT8,
  CORD_VIEW_UINT8_CLAMPED,
  CORD_VIEW_INT16,
  CORD_VIEW_UINT16,
  CORD_VIEW_INT32,
  CORD_VIEW_UINT32,
  CORD_VIEW_FLOAT32,
  CORD_VIEW_FLOAT64,
  CORD_VIEW_DATAVIEW,
  CORD_VIEW_BUFFER, /* a Node.js Buffer */
  CORD_VIEW_BIGINT64,
  CORD_VIEW_BIGUINT64
} cord_view_kind_t;

/* CORD_VALUE_ERROR kinds: the constructor the receiver uses. */
typedef enum cord_error_kind {
  CORD_ERROR_ERROR = 0,
  CORD_ERROR_EVAL,
  CORD_ERROR_RANGE,
  CORD_ERROR_REFERENCE,
  CORD_ERROR_SYNTAX,
  CORD_ERROR_TYPE,
  CORD_ERROR_URI
} cord_error_kind_t;

/* CORD_VALUE_REGEXP flags (V8's bits). */
#define CORD_REGEXP_GLOBAL (1u << 0)       /* g */
#define CORD_REGEXP_IGNORE_CASE (1u << 1)  /* i */
#define CORD_REGEXP_MULTILINE (1u << 2)    /* m */
#define CORD_REGEXP_STICKY (1u << 3)       /* y */
#define CORD_REGEXP_UNICODE (1u << 4)      /* u */
#define CORD_REGEXP_DOT_ALL (1u << 5)      /* s */
#define CORD_REGEXP_HAS_INDICES (1u << 7)  /* d */
#define CORD_REGEXP_UNICODE_SETS (1u << 8) /* v */

/* A member of an object: a key (UTF-8, NUL-terminated; number keys such as
 * {1: x} appear as JavaScript names them, "1") and its value. */
typedef struct cord_member {
  const char *key;
  size_t key_len;
  const cord_value_t *value;
} cord_member_t;

struct cord_value {
  uint8_t type;      /* cord_value_type_t */
  uint8_t kind;      /* VIEW: cord_view_kind_t; ERROR: cord_error_kind_t; BIGINT: 1 if negative */
  uint16_t flags;    /* private: the builder's bookkeeping */
  uint32_t aux;      /* ARRAY: length; REGEXP: flags */
  union {
    int boolean;
    int32_t int32;
    double number;
    struct {
      const char *ptr; /* UTF-8 (WTF-8), NUL-terminated; may hold NUL bytes */
      size_t len;      /* bytes, without the terminating NUL */
    } string;
    struct {
      const uint8_t *ptr; /* aligned to 8 */
      size_t len;
    } bytes;
    struct {
      cord_member_t *members;
      uint32_t count;
      uint32_t cap; /* private: room the builder has */
    } object;
    struct {
      const cord_value_t **items;
      uint32_t count;
      uint32_t cap; /* private: room the builder has */
    } list;
    struct {
      const cord_value_t **items; /* aux of them, NULL for a hole; NULL for a sparse (or empty) array */
      cord_value_t *props;        /* NULL, or an OBJECT: the elements of a sparse array and the
                                     properties that are not elements ("x" in a.x = 1) */
    } array;
    const cord_value_t *boxed;
  } u;
};

/* ---- building values ---- */

/*
 * cord_value_new: a node of the given type with every field zero (an empty
 * object, map, set or error, undefined, null, false, 0, an empty string,
 * an empty dense array), to fill in or grow with cord_value_put() and
 * cord_value_push(). NULL when the arena is full.
 */
CORD_EXTERN cord_value_t *cord_value_new(cord_arena_t *a, cord_value_type_t type);

/* cord_value_bool, _int32, _double, _date: a node holding the value;
 * NULL when the arena is full. */
CORD_EXTERN cord_value_t *cord_value_bool(cord_arena_t *a, int b);
CORD_EXTERN cord_value_t *cord_value_int32(cord_arena_t *a, int32_t i);
CORD_EXTERN cord_value_t *cord_value_double(cord_arena_t *a, double d);
CORD_EXTERN cord_value_t *cord_value_date(cord_arena_t *a, double ms);

/* cord_value_string: a STRING holding a copy of s[0..len), which must be
 * UTF-8 (WTF-8: lone surrogates allowed); NULL if it is not, or when the
 * arena is full. cord_value_regexp: the same for a RegExp's source, with
 * CORD_REGEXP_* flags (the source must be a pattern JavaScript accepts:
 * Node.js ends on one it cannot compile, and Cord cannot check that). */
CORD_EXTERN cord_value_t *cord_value_string(cord_arena_t *a, const char *s, size_t len);
CORD_EXTERN cord_value_t *cord_value_regexp(cord_arena_t *a, const char *source, size_t len, uint32_t flags);

/* cord_value_bytes: an ARRAYBUFFER, VIEW (kind: cord_view_kind_t) or
 * BIGINT magnitude (kind: 1 if negative) holding a copy of p[0..len),
 * aligned to 8. NULL for another type, or when the arena is full. */
CORD_EXTERN cord_value_t *cord_value_bytes(cord_arena_t *a, cord_value_type_t type, unsigned kind, const void *p, size_t len);

/* cord_value_bigint_i64: a BIGINT of the value of i. */
CORD_EXTERN cord_value_t *cord_value_bigint_i64(cord_arena_t *a, int64_t i);

/* cord_value_array: an ARRAY of `length` holes to fill with
 * cord_value_set_index(); sparse != 0 makes a sparse array, whose elements
 * are kept by index (any length costs nothing until elements are set). */
CORD_EXTERN cord_value_t *cord_value_array(cord_arena_t *a, uint32_t length, int sparse);

/*
 * cord_value_put: appends the member key[0..strlen(key)) = v to an OBJECT,
 * an ERROR ("message", "stack", "cause") or an ARRAY (a property that is
 * not an element). The key is copied and must be UTF-8. A key put twice
 * makes cord_v8_encode() refuse the value. Returns 0, -EINVAL (wrong type,
 * v NULL, key not UTF-8) or -ENOMEM.
 */
CORD_EXTERN int cord_value_put(cord_arena_t *a, cord_value_t *target, const char *key, const cord_value_t *v);

/* cord_value_put_n: cord_value_put() with a key of key_len bytes (may hold NUL). */
CORD_EXTERN int cord_value_put_n(cord_arena_t *a, cord_value_t *target, const char *key, size_t key_len,
                                 const cord_value_t *v);

/*
 * cord_value_push: appends v to a SET, to a MAP (push the key, then its
 * value), or to a dense ARRAY (its length grows by one; NULL pushes a
 * hole). Returns 0, -EINVAL or -ENOMEM.
 */
CORD_EXTERN int cord_value_push(cord_arena_t *a, cord_value_t *target, const cord_value_t *v);

/* cord_value_set_index: element i of an ARRAY is v (NULL: a hole); i must
 * be below its length. Returns 0, -EINVAL or -ENOMEM. */
CORD_EXTERN int cord_value_set_index(cord_arena_t *a, cord_value_t *array, uint32_t i, const cord_value_t *v);

/* ---- reading values ---- */

/* cord_value_get: the value of the member `key` of an OBJECT, ERROR or
 * ARRAY (its non-element properties), or NULL. Linear in the members. */
CORD_EXTERN const cord_value_t *cord_value_get(const cord_value_t *v, const char *key);

/* cord_value_index: element i of an ARRAY (dense or sparse), or NULL for a
 * hole, an index past the end, or another type. */
CORD_EXTERN const cord_value_t *cord_value_index(const cord_value_t *v, uint32_t i);

/* cord_value_type_name: "undefined", "object", "Map", ... for a type. */
CORD_EXTERN const char *cord_value_type_name(int type);

/* ---- the wire format ---- */

/* Why a decode or encode failed, and where. */
typedef struct cord_v8_error {
  size_t offset; /* decode: byte offset of the fault in the input; encode: bytes written before it */
  char what[120]; /* one sentence naming the V8 tag or value type, NUL-terminated */
} cord_v8_error_t;

/* An arena limit that never refuses a message of len bytes: 33 bytes for
 * each (32 at most in values, and the arena's slack), plus 64 KiB. */
#define CORD_V8_ARENA_BOUND(len) ((size_t)(len) * 33 + ((size_t)64 << 10))

/* Flags of cord_v8_decode(). */
#define CORD_V8_NO_REFS (1u << 0) /* refuse object references: the result is a tree, never a graph */

/*
 * The deepest nesting cord_v8_encode() writes. Node.js 20 fails (and
 * ends) reading a message nested deeper than about 1,900 levels of
 * objects or sparse arrays (3,300 of dense arrays) with its default stack;
 * cord_v8_decode() reads any depth, with no recursion.
 */
#define CORD_V8_MAX_DEPTH 1500

/*
 * cord_v8_decode: reads one value serialized by V8 (buf[0..len): the
 * header FF 0F, or version 14's FF 0E, then the value; Node.js's host
 * objects for Buffer, typed arrays and DataView), into nodes allocated from
 * `a`. On success *out is the value, valid until the arena is reset, and
 * no pointer refers into buf. Memory is reserved as the bytes are read,
 * never on the word of a length field: the arena holds at most
 * CORD_V8_ARENA_BOUND(len) bytes for any input (32 bytes per input byte
 * for a message of Boolean objects, the worst; JSON-like data takes 4 to
 * 12), and temporary memory of the same order is freed before returning.
 * It reads as Node.js 20's reader does: duplicate keys are refused, bytes
 * after the value are ignored, an object's members come in JavaScript's
 * order (element indices first). Returns 0; CORD_EPROTOCOL for bytes
 * that are no such value; CORD_EUNSUPPORTED for a V8 tag this codec does
 * not cover (SharedArrayBuffer, WebAssembly, ...) or refused by flags;
 * -ENOMEM when the arena's limit or malloc says no; -EINVAL for unknown
 * flags. On
 * failure err (may be NULL) says what and where, and the arena keeps what
 * was allocated until reset.
 */
CORD_EXTERN int cord_v8_decode(cord_arena_t *a, const void *buf, size_t len, unsigned flags,
                               const cord_value_t **out, cord_v8_error_t *err);

/*
 * cord_v8_encode: writes v as V8 does (header FF 0F; Latin-1 strings when
 * they fit, UTF-16 otherwise, with V8's padding counted from buf; numbers
 * as INT32 and DOUBLE say; shared nodes and cycles as object references)
 * into buf[0..cap). *len is set to the full length whether or not it fit:
 * call with cap 0 to learn it. The first byte's position parity matters to
 * UTF-16 padding: inside a frame of Node.js's advanced channel (a 4-byte
 * length, then this), any even offset gives the bytes Node.js writes.
 * Allocates temporary memory, freed before returning; v is not modified.
 * Returns 0; -ENOBUFS if cap < *len (nothing else is wrong); -EINVAL for a
 * value that cannot be sent (a string that is not WTF-8, a key twice in
 * one object, an element index among an array's properties, a BOXED or
 * ERROR holding the wrong type, an unknown type or kind); CORD_ETOOBIG for
 * nesting deeper than CORD_V8_MAX_DEPTH or a BigInt over V8's 2**30 bits;
 * -ENOMEM. err (may be NULL) names the fault.
 */
CORD_EXTERN int cord_v8_encode(const cord_value_t *v, void *buf, size_t cap, size_t *len, cord_v8_error_t *err);

#ifdef __cplusplus
}
#endif
#endif /* CORD_H */
