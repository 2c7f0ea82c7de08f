/* fuzz_decoders.c: differential fuzzer of the two SDKs' frame readers: the parent's cord_scan() and the child's nanopb codec must accept the same bodies and read the same fields from them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cord_child_codec.h"
#include "cord_scan.h"

/*
 * Spec FRAME-6, FRAME-7, FRAME-14 and FRAME-15 leave one reading of a body:
 * a member of Frame.body or Message.payload at most once, each known field
 * in its own wire type and range, the last value of a repeated scalar or
 * string. Both decoders are held to it, and to each other: on every input
 * they accept or refuse together, and what they accept they read alike.
 * A difference aborts, and libFuzzer keeps the input.
 */

static void differ(const char *what, const uint8_t *b, size_t n) {
  fprintf(stderr, "fuzz_decoders: the SDKs differ on %s for this body:", what);
  for (size_t i = 0; i < n && i < 64; i++)
    fprintf(stderr, " %02x", b[i]);
  fputc('\n', stderr);
  abort();
}

static int same_span(cord_scan_span_t a, cord__span_t b) { return a.n == b.len && (!a.n || a.p == b.ptr); }

int LLVMFuzzerTestOneInput(const uint8_t *b, size_t n) {
  cord_scan_frame_t p;
  cord__frame_t c;
  const char *why;
  size_t at;
  int parent_ok = cord_scan(b, n, &p, &why, &at) == 0;
  int child_ok = cord__frame_decode(&c, b, n) != 0;
  if (parent_ok != child_ok)
    differ(parent_ok ? "acceptance (the parent accepts, the child refuses)"
                     : "acceptance (the child accepts, the parent refuses)", b, n);
  if (!parent_ok)
    return 0;
  if (p.body != c.f.which_body)
    differ("the body member", b, n);
  switch (p.body) {
  case CORD_SCAN_HELLO: {
    const cord_v1_Hello *h = &c.f.body.hello;
    if (p.v[1] != h->magic || p.v[2] != h->min_version || p.v[3] != h->max_version || p.v[4] != h->max_frame ||
        p.v[5] != h->max_fds || p.v[6] != h->capabilities || p.v[7] != h->pid)
      differ("a Hello field", b, n);
    if (!same_span(p.s[0], c.s[0]) || !same_span(p.s[1], c.s[1]))
      differ("impl_name or impl_version", b, n);
    break;
  }
  case CORD_SCAN_MESSAGE: {
    const cord_v1_Message *m = &c.f.body.message;
    if (p.v[1] != m->id || p.v[2] != m->reply_to || p.v[3] != m->status || p.v[4] != m->fds)
      differ("a Message field", b, n);
    if (p.payload != c.kind)
      differ("the payload kind", b, n);
    if (!same_span(p.s[1], c.s[1]) || (p.payload == 5 /* typed */ && !same_span(p.s[0], c.s[0])))
      differ("the payload", b, n);
    break;
  }
  case CORD_SCAN_CANCEL:
    if (p.v[1] != c.f.body.cancel.id)
      differ("Cancel.id", b, n);
    break;
  case CORD_SCAN_PING:
    if (p.v[1] != c.f.body.ping.nonce)
      differ("Ping.nonce", b, n);
    break;
  case CORD_SCAN_PONG:
    if (p.v[1] != c.f.body.pong.nonce)
      differ("Pong.nonce", b, n);
    break;
  case CORD_SCAN_GOODBYE:
    if ((int32_t)p.v[1] != (int32_t)c.f.body.goodbye.reason || !same_span(p.s[0], c.s[0]))
      differ("a Goodbye field", b, n);
    break;
  case CORD_SCAN_ERROR:
    if (p.v[1] != c.f.body.error.code || !same_span(p.s[0], c.s[0]))
      differ("an Error field", b, n);
    break;
  default:
    break;
  }
  return 0;
}
