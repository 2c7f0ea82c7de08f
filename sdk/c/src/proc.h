/* proc.h: what a cord_proc_t holds behind its `priv` pointer: the core, the process, the descriptor, and its place in a loop. */
#ifndef CORD_PROC_H
#define CORD_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "process.h"

/* A node of an intrusive circular list; a node alone points at itself. */
typedef struct cord__qnode {
  struct cord__qnode *next, *prev;
} cord__qnode_t;

static inline void cord__q_init(cord__qnode_t *n) { n->next = n->prev = n; }
static inline bool cord__q_empty(const cord__qnode_t *n) { return n->next == n; }
static inline void cord__q_remove(cord__qnode_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  cord__q_init(n);
}
/* Appends n (alone) at the end of the list whose head is h. */
static inline void cord__q_push(cord__qnode_t *h, cord__qnode_t *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}

struct cord__proc_priv {
  cord_proc_t *owner;
  cord__core_t core;
  cord__process_t proc;
  int fd;           /* the parent's end of the channel; -1 once closed */
  bool fd_passing;  /* the channel is an AF_UNIX socket: descriptors can cross */
  int64_t hello_at; /* when the peer's Hello is overdue [HELLO-12]; 0: none */

  /* What is known of the descriptors' readiness when the SDK polls them
   * itself (cord_wait(), a cord_loop_t): the step then makes only the
   * system calls that can do something. A step the application calls
   * after its own poll tries them all. */
  bool in_wait;
  bool rx_ready, tx_blocked, pid_ready;
  bool more; /* the core's budget ran out with frames buffered: step again soon */

  /* Which terminal events were returned: they are derived from the state,
   * so they need no memory and cannot be lost. */
  bool disconnect_told, close_told;
  bool exit_drained; /* after the exit: the socket was read to its end */

  /* Membership of a cord_loop_t. */
  cord_loop_t *loop;
  size_t heap_index; /* in the loop's timer heap; SIZE_MAX when absent */
  cord__qnode_t ready, dirty, handed, member;
  bool drained; /* cord_step() has stopped returning events since the loop last handed it out */
};

/* cord_spawn()'s work once its options are checked: the private part,
 * the process, the channel. */
int cord__proc_spawned(cord_proc_t *c, const char *module, const char *const *args, const cord_options_t *o);
/* The next deadline of the process and channel timers, or 0. */
int64_t cord__proc_deadline(const struct cord__proc_priv *p);
/* Writes what the socket takes now. */
void cord__proc_flush(cord_proc_t *c);
/* Readiness seen by a loop for one of the child's descriptors. */
void cord__proc_hint(cord_proc_t *c, int which, uint32_t epoll_events);
enum { CORD__FD_CHANNEL = 0, CORD__FD_PID = 1, CORD__FD_STDIO = 2 };

/* ---- loop.c: each does nothing for a child outside any loop ---- */
void cord__loop_timer_changed(cord_proc_t *c); /* its next deadline moved */
void cord__loop_mark_dirty(cord_proc_t *c);    /* it has output to write */
void cord__loop_forget(cord_proc_t *c);        /* it is being closed */

#endif /* CORD_PROC_H */
