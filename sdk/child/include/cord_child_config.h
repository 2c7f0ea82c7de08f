/* cord_child_config.h: every compile-time knob of libcord-child, in one place. */
#ifndef CORD_CHILD_CONFIG_H
#define CORD_CHILD_CONFIG_H

/*
 * Each knob below is present but commented out, as in nanopb's pb.h and
 * Lua's luaconf.h. Uncomment a line here, or pass the same -D flag to the
 * compiler, to change it. The library and every program that includes
 * cord_child.h MUST be compiled with the same knobs: they change the
 * layout of cord_chan_t, exactly as nanopb's PB_* options change its
 * structs. The defaults follow the commented lines.
 */

/* Leave out descriptor passing (spec section 8); Hello then declares max_fds 0. */
/* #define CORD_CHILD_NO_FDS 1 */

/* Leave out the Node.js json binding (spec section 13); NODE_CHANNEL_FD is then ignored. */
/* #define CORD_CHILD_NO_NODE 1 */

/* Leave out every diagnostic text: Error frames carry no detail and cord_chan_detail() returns "". */
/* #define CORD_CHILD_NO_ERRSTR 1 */

/* Most descriptors accepted with one frame, and the size of the control buffer of each read (FD-1: at most 64). */
/* #define CORD_CHILD_MAX_FDS 4 */

/* Own requests that can be outstanding at once; one more is refused with -ENOBUFS. */
/* #define CORD_CHILD_OUT_REQS 4 */

/* Received requests that can await their reply at once; one more is answered FAILED by the SDK. */
/* #define CORD_CHILD_IN_REQS 4 */

/* The name this implementation gives in its Hello, unless cord_chan_cfg_t names another (HELLO-4: at most 64 bytes). */
/* #define CORD_CHILD_IMPL_NAME "cord-child" */

/* The version this implementation gives in its Hello (HELLO-4: at most 32 bytes). */
/* #define CORD_CHILD_IMPL_VERSION "1.0.0" */

/* ---- defaults and checks; nothing below this line is meant to be edited ---- */

#ifndef CORD_CHILD_MAX_FDS
#define CORD_CHILD_MAX_FDS 4
#endif
#ifndef CORD_CHILD_OUT_REQS
#define CORD_CHILD_OUT_REQS 4
#endif
#ifndef CORD_CHILD_IN_REQS
#define CORD_CHILD_IN_REQS 4
#endif
#ifndef CORD_CHILD_IMPL_NAME
#define CORD_CHILD_IMPL_NAME "cord-child"
#endif
#ifndef CORD_CHILD_IMPL_VERSION
#define CORD_CHILD_IMPL_VERSION "1.0.0"
#endif

/* The smallest max_frame the spec allows (FRAME-3), and so the smallest
 * receive and transmit buffer: every Hello and every Error this SDK sends
 * before the peer's Hello fits in it (FRAME-4). */
#define CORD_MIN_FRAME 256 /* CORD_WIRE_MIN_FRAME of cord_wire.h, here for the program's _Static_assert */

_Static_assert(CORD_CHILD_MAX_FDS >= 1 && CORD_CHILD_MAX_FDS <= 64,
               "CORD_CHILD_MAX_FDS: between 1 and 64 (spec FD-1)");
_Static_assert(CORD_CHILD_OUT_REQS >= 1 && CORD_CHILD_OUT_REQS <= 255,
               "CORD_CHILD_OUT_REQS: between 1 and 255");
_Static_assert(CORD_CHILD_IN_REQS >= 1 && CORD_CHILD_IN_REQS <= 255,
               "CORD_CHILD_IN_REQS: between 1 and 255");
_Static_assert(sizeof(CORD_CHILD_IMPL_NAME) - 1 <= 64, "CORD_CHILD_IMPL_NAME: at most 64 bytes (HELLO-4)");
_Static_assert(sizeof(CORD_CHILD_IMPL_VERSION) - 1 <= 32, "CORD_CHILD_IMPL_VERSION: at most 32 bytes (HELLO-4)");

#endif /* CORD_CHILD_CONFIG_H */
