/* fake_parent.h: a scripted Cord parent for the child SDK's tests: raw sockets and protobuf-c frames. */
#ifndef FAKE_PARENT_H
#define FAKE_PARENT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cord.pb-c.h"
#include "cord_child.h"

/*
 * The tests run the child and its parent in one process, without threads:
 * the parent writes its frames into the socket pair first (the socket
 * buffer holds them), the child reads and answers, and the parent then
 * reads what the child wrote. Nothing waits on time; every read of the
 * parent gives up after FP_TIMEOUT_MS so that a missing frame fails the
 * test instead of hanging it.
 */
#define FP_TIMEOUT_MS 5000
#define FP_MAGIC 0x44524F43u

/* Creates the channel: a socket pair whose child end is named by
 * CORD_CHANNEL_FD (or NODE_CHANNEL_FD when node is set). Returns the
 * parent's end; *child_fd (may be NULL) gets the child's. */
int fp_channel(int node, int *child_fd);

/* Writes bytes, or a whole frame with its prefix, to the child. */
void fp_raw(int fd, const void *buf, size_t n);
/* Writes bytes in one sendmsg() with nfds descriptors on their first byte,
 * as a Cord parent passes them and as Node.js passes a handle. */
void fp_raw_fds(int fd, const void *buf, size_t n, const int *fds, unsigned nfds);
void fp_put(int fd, const Cord__V1__Frame *f);
/* Packs a frame with its prefix into out; returns the length. */
size_t fp_pack(const Cord__V1__Frame *f, uint8_t *out, size_t cap);

/* The parent's Hello: version 1..1, max_frame 1 MiB, max_fds 16, CANCEL. */
void fp_hello(int fd);
void fp_hello_ex(int fd, uint32_t min_v, uint32_t max_v, uint32_t max_frame, uint32_t max_fds);

/* A Message. kind: 0 none, 5 typed (type given), 6 json, 7 raw. */
void fp_msg(int fd, uint64_t id, uint64_t reply_to, uint32_t status, int kind, const char *type,
            const void *data, size_t len);
void fp_json(int fd, uint64_t id, const char *json);
/* A Message passing descriptors: fds announced, nfds attached with its first byte. */
void fp_msg_fds(int fd, uint64_t id, uint64_t reply_to, uint32_t announced, const int *fds,
                unsigned nfds);
void fp_cancel(int fd, uint64_t id);
void fp_ping(int fd, uint64_t nonce);
void fp_pong(int fd, uint64_t nonce);
void fp_goodbye(int fd);
void fp_error(int fd, uint32_t code, const char *detail);

/* Reads the next frame from the child: NULL at end of file. Asserts on a
 * time-out or on bytes protobuf-c cannot decode. *fds_out/nfds (may be
 * NULL) receive descriptors that came with the frame's bytes. */
Cord__V1__Frame *fp_get(int fd);
Cord__V1__Frame *fp_get_fds(int fd, int *fds_out, unsigned *nfds);
void fp_free(Cord__V1__Frame *f);
/* Asserts that the next frame has this body case, and returns it. */
Cord__V1__Frame *fp_expect(int fd, Cord__V1__Frame__BodyCase body);
/* Asserts that the child has written nothing more and closed or shut
 * down its end: the next read is end of file. */
void fp_expect_eof(int fd);
/* Reads one line (the Node.js binding) into buf; returns its length
 * without the 0a, or -1 at end of file. */
int fp_line(int fd, char *buf, size_t cap);

/* Opens a child channel on caller-provided static buffers of the given
 * size (rx_len, tx_len), with a descriptor queue of fdq_len. Returns
 * cord_chan_open()'s result. */
int fp_child_open(cord_chan_t *ch, size_t rx_len, size_t tx_len, unsigned fdq_len, unsigned flags);
/* The buffers fp_child_open() uses, to look at them. */
extern uint8_t fp_rx[1 << 17], fp_tx[1 << 17];

/* A full handshake: parent Hello written, child opened, child Hello read
 * and checked. Returns the parent's end. */
int fp_start(cord_chan_t *ch, size_t rx_len);

/* Whether a descriptor is open. */
int fp_is_open(int fd);

#endif /* FAKE_PARENT_H */
