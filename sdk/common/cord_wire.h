/* cord_wire.h: the numbers of spec/cord-v1.md that every implementation needs, defined once for both SDKs, and the length prefix. */
#ifndef CORD_WIRE_H
#define CORD_WIRE_H

#include <stdint.h>

/* Hello.magic, "CORD" once encoded as a little-endian fixed32 [HELLO-2]. */
#define CORD_WIRE_MAGIC 0x44524F43u

/* The protocol versions this document defines [HELLO-3]. */
#define CORD_WIRE_VERSION_MIN 1u
#define CORD_WIRE_VERSION_MAX 1u

/* Bytes of the length prefix of every frame [FRAME-1]. */
#define CORD_WIRE_PREFIX 4u

/* The smallest and largest max_frame a Hello may declare [FRAME-3]; every
 * frame sent before the peer's Hello is at most the smallest [FRAME-4]. */
#define CORD_WIRE_MIN_FRAME 256u
#define CORD_WIRE_MAX_FRAME 0x7fffffffu

/* The most descriptors a side should accept with one message [FD-1]. */
#define CORD_WIRE_FDS_MAX 64u

/* Writes the big-endian length prefix of a frame whose body has n bytes. */
static inline void cord_wire_put_prefix(uint8_t *p, uint32_t n) {
  p[0] = (uint8_t)(n >> 24);
  p[1] = (uint8_t)(n >> 16);
  p[2] = (uint8_t)(n >> 8);
  p[3] = (uint8_t)n;
}

/* Reads a length prefix. A value above CORD_WIRE_MAX_FRAME (the top bit
 * set) is reserved and exceeds every receiver's max_frame [FRAME-3]. */
static inline uint32_t cord_wire_get_prefix(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* CORD_WIRE_H */
