/* cord_errors.h: the one table of Cord error codes, shared by both SDKs and by spec/cord-v1.md section 11. */
#ifndef CORD_ERRORS_H
#define CORD_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Marks what a shared build of an SDK exports; everything else in it is
 * hidden (its sources are compiled with -fvisibility=hidden). */
#ifndef CORD_EXTERN
#if defined(__GNUC__)
#define CORD_EXTERN __attribute__((visibility("default")))
#else
#define CORD_EXTERN
#endif
#endif

/*
 * Every Cord function that can fail returns 0 (or a count) on success and a
 * negative code on failure. Codes 1..999 are POSIX errno values, returned
 * negated (-ENOENT); the codes below are Cord's own, also negated. On the
 * wire (Error.code, Message.status) the same codes travel positive.
 *
 * CORD_ERRNO_MAP(X) expands X(NAME, code, fatal, "message") once per
 * code; the spec's table has the same rows, and a test checks that the two
 * agree. "fatal" says whether the code ends the channel.
 */
#define CORD_ERRNO_MAP(X)                                                              \
  X(EPROTOCOL,   1000, 1, "malformed frame or protocol violation")                     \
  X(EFRAMESIZE,  1001, 1, "frame length exceeds the receiver's max_frame")             \
  X(ETRUNCATED,  1002, 1, "stream ended in the middle of a frame")                     \
  X(ENOTCORD,    1003, 1, "peer is not speaking Cord")                                 \
  X(EVERSION,    1004, 1, "no protocol version in common")                             \
  X(EUNEXPECTED, 1005, 1, "frame not allowed in the channel's state")                  \
  X(EFDMISMATCH, 1006, 1, "passed descriptors do not match their frames")              \
  X(EUNKNOWNREQ, 1007, 0, "reply names no outstanding request")                        \
  X(ETIMEOUT,    1008, 1, "peer did not answer in time")                               \
  X(ECANCELLED,  1009, 0, "request cancelled")                                         \
  X(EUNSUPPORTED,1010, 0, "payload, type or frame not supported by the receiver")      \
  X(ECLOSED,     1011, 0, "channel has ended: no reply can come, nothing can be sent")  \
  X(EFAILED,     1012, 0, "receiver failed to handle the request")                     \
  X(ENOCHANNEL,  2000, 0, "started without a usable channel")                          \
  X(ENODE,       2001, 0, "not representable on a Node.js json channel")               \
  X(EIPCCOUNT,   2002, 0, "stdio needs exactly one ipc entry")                         \
  X(ESTATE,      2003, 0, "call not valid in the channel's current state")             \
  X(ETOOBIG,     2004, 0, "message exceeds the peer's max_frame or max_fds, or a limit") \
  X(EBUILD,      2005, 0, "program and library were built with different options")

/* The constants: CORD_EPROTOCOL == -1000 and so on. */
enum cord_errno {
#define CORD__ERRNO_ENUM(name, code, fatal, msg) CORD_##name = -(code),
  CORD_ERRNO_MAP(CORD__ERRNO_ENUM)
#undef CORD__ERRNO_ENUM
  CORD__ERRNO_MAX_ = -10000 /* Codes at or below this are the application's. */
};

/* First code of the application range (spec ERR-1). */
#define CORD_APP_ERROR_MIN 10000

/*
 * cord_strerror: a constant, human-readable message for any code (negative,
 * as the SDKs return it, or positive, as on the wire). POSIX codes give the
 * C library's message; unknown codes give a message naming their range.
 * The string is static and never freed. Thread-safe.
 */
CORD_EXTERN const char *cord_strerror(int err);

/*
 * cord_err_name: the constant's name without the CORD_ prefix ("EPROTOCOL",
 * "ENOENT"), or "UNKNOWN" for a code in no table. Thread-safe.
 */
CORD_EXTERN const char *cord_err_name(int err);

/*
 * cord_err_is_fatal: 1 if the code ends a channel (spec section 11), else 0.
 * Application codes and unknown protocol codes are not fatal (spec ERR-2).
 */
CORD_EXTERN int cord_err_is_fatal(int err);

/*
 * cord_preview: writes into out (capacity outlen, always NUL-terminated if
 * outlen > 0) the preview of spec HELLO-7: up to the first 32 bytes of buf
 * as hex, then the same bytes as printable ASCII between '|'. Returns the
 * length of the preview that fits. 131 bytes always suffice.
 */
#define CORD_PREVIEW_MAX 131
CORD_EXTERN int cord_preview(const void *buf, unsigned long len, char *out, unsigned long outlen);

#ifdef __cplusplus
}
#endif
#endif /* CORD_ERRORS_H */
