/* cord.pml: Promela model of the Cord v1 channel protocol (spec/cord-v1.md, section 14), verified exhaustively with Spin to establish MODEL-1. */

/*
 * What is modelled
 * ----------------
 * Two processes, Parent and Child, share one channel. Each direction of the
 * socket is a bounded FIFO queue (p2c: parent to child, c2p: child to
 * parent) whose capacity stands for the socket buffer. One queue element is
 * one whole frame: the byte-level framing of section 3 is abstracted away,
 * except for the one framing fact that changes the state machines, a stream
 * that ends in the middle of a frame (FRAME-12, TRUNCATED).
 *
 * End of file and broken pipes are facts about the socket, not frames, so
 * the model keeps three flags beside each queue:
 *   wclosed  the writer shut its direction down or its end was closed; the
 *            reader sees end of file once it has drained the queue;
 *   trunc    the writer died in the middle of a frame; the reader sees
 *            TRUNCATED instead of end of file once it has drained the queue;
 *   rclosed  the reader's end was closed; the kernel throws away what it had
 *            not read, and every later write fails with EPIPE (END-6).
 *
 * The parent does non-blocking I/O: it writes only when the queue has room,
 * and otherwise waits for whatever becomes possible first, reading included
 * (FLOW-1). The child does blocking I/O: once it has decided to write a
 * frame it waits for room and does nothing else in the meantime, reading
 * included (FLOW-2). Each action of a process is one atomic step, since
 * nothing the peer does in the middle of it could change its outcome.
 *
 * What each side may do (small bounds keep the search exhaustive):
 *   parent: request 1; then either request 2 or a one-way message; a
 *           Cancel of request 1 while it is outstanding; one Ping; Goodbye.
 *   child:  one frame of its own: request 1, a one-way message or a Ping;
 *           Goodbye, or a close without one once the parent's direction has
 *           ended.
 * Each side answers every request and Ping it receives, as the spec
 * requires.
 *
 * How the sides choose to end. The parent is either impatient (it may end
 * its direction at any time) or patient (it ends its direction, by Goodbye
 * or by closing, only when none of its requests is outstanding). The child
 * is either active (it may say Goodbye at any time after the handshake) or
 * passive (it says Goodbye only after the parent's direction has ended, as
 * a worker that runs until it is told to stop does, END-8). Spin finds a
 * deadlock only in a state where nothing at all can happen, so a side that
 * could always end its direction would hide every wait that never ends; a
 * patient parent and a passive child turn a reply that never comes into a
 * state where both wait, which the search reports.
 *
 * Faults. Every run holds at most one of these:
 *   - the parent crashes at any point;
 *   - the child crashes at any point;
 *   - the child hangs at any point: it stops reading and writing without
 *     exiting, and only the parent's kill ends it;
 *   - the child breaks the protocol once: a message before its Hello, a
 *     frame after its Goodbye, a reply to an id the parent never used, or a
 *     second reply to a request;
 *   - the parent breaks the protocol once: a message before its Hello, a
 *     frame after its Goodbye, or a reply to an id the child never used.
 * A crash can leave a partial frame behind (TRUNCATED) or not (plain end of
 * file, which is also how a peer that simply closes looks).
 *
 * Properties (MODEL-1). They are checked by assertions and by Spin's check
 * of valid end states. There are no end labels: every run must end with
 * every process terminated, and every queue empty (pan -q).
 *   P1 no deadlock: no run stops with a process that has not terminated,
 *      and Spin's `timeout`, which stands for the parent's grace period
 *      running out, fires only when the child really hangs;
 *   P2 no message, request or reply is delivered to an application before
 *      the peer's Hello (HELLO-5, HELLO-6);
 *   P3 no frame is delivered after the peer's Goodbye (END-1, END-2);
 *   P4 every request gets exactly one reply or is reported CLOSED, never
 *      both and never neither (REQ-2, REQ-5, REQ-7, REQ-8, REQ-9), and no
 *      side ever sends two replies to one request;
 *   P5 both sides end with their end of the channel closed (END-5) and,
 *      unless the parent itself died, the parent has reaped the child
 *      (END-10).
 *
 * Compile-time switches, given to spin as -DNAME:
 *   AS_WRITTEN  leave out the rule proposed below (REQ-11), so that
 *               the model follows cord-v1.md exactly as written. The check
 *               then fails; spec/model/README.md gives the counterexample.
 *   CAP=n       the capacity of each direction, in frames (default 2).
 */

#ifndef CAP
#define CAP 2          /* two frames per direction: enough to fill both directions at once */
#endif
#define P_NREQ 2       /* the parent's request ids are 1..P_NREQ (REQ-1) */
#define BAD_ID 3       /* an id that no request ever uses */

mtype = { HELLO, MSG, REQ, REP, CANCEL, PING, PONG, BYE, ERR };

/* The argument of an ERR frame says whether its code is fatal (the table of
 * section 11); the code itself does not matter to the state machines. */
#define E_NONFATAL 0   /* for example UNKNOWN_REQUEST (REQ-5) */
#define E_FATAL    1   /* for example UNEXPECTED_FRAME, TIMEOUT */

/* A request at its requester. */
#define R_NONE   0     /* not sent */
#define R_OUT    1     /* outstanding: sent and no reply yet; a Cancel does not change this (REQ-6) */
#define R_DONE   2     /* its one reply was delivered */
#define R_CLOSED 3     /* reported CLOSED to the application (REQ-9) */

/* A request at its receiver. */
#define G_NONE     0   /* never received */
#define G_PENDING  1   /* received, not yet answered */
#define G_ANSWERED 2   /* answered */


chan p2c = [CAP] of { mtype, byte };
chan c2p = [CAP] of { mtype, byte };

bit p2c_wclosed, p2c_trunc, p2c_rclosed;
bit c2p_wclosed, c2p_trunc, c2p_rclosed;

bit faulted;                    /* the run's one fault has happened (which one does not
                                 * matter afterwards, so it is not kept: runs whose
                                 * faults had the same effect can then merge) */
bit p_crash, c_crash, c_hang;   /* set by Chaos; the process reacts at once */
bit c_hung;                     /* ghost: the child really is hanging */
bit c_kill;                     /* the parent's kill signal (END-9) */

/* How each side chooses to end (see the header); fixed for a whole run. */
bit p_patient;      /* the parent ends its direction only when no request of its own is outstanding */
bit c_passive;      /* the child says Goodbye only after the parent's direction has ended */

/* What the other processes and the final check see of each side. */
bit p_closed;       /* the parent closed its end (END-5) */
bit p_reaped;       /* the parent reaped the child (END-10) */
bit p_dead;         /* the parent crashed */
bit c_closed;       /* the child's end is closed */
bit c_exited;       /* the child has exited and is a zombie until reaped */

/*
 * REQ-11 (added to cord-v1.md after this model found the flaw): a side MUST NOT send a
 * request once the peer's direction has ended; an implementation asked to
 * send one refuses it with a local error and sends nothing.
 *
 * Why: MSG-1 and END-3 let a side go on sending messages after the peer's
 * Goodbye, and a request is a message. But the peer may send nothing after
 * its Goodbye (END-1), so the request can never be answered, and REQ-9 has
 * already reported every outstanding request CLOSED when the Goodbye
 * arrived, and then considers none outstanding, so the new request is never
 * reported CLOSED either: it has no outcome at all, against REQ-2 and REQ-9.
 * A requester that waits for its replies before it says Goodbye then waits
 * forever, while the peer waits for that Goodbye (END-1, END-8).
 */
#ifdef AS_WRITTEN
#define P_MAY_REQUEST 1
#define C_MAY_REQUEST 1
#else
#define P_MAY_REQUEST (!p_in_ended)
#define C_MAY_REQUEST (!c_in_ended)
#endif

/* Throw away what a closing reader had not read: the kernel frees it. */
#define DRAIN(q) do :: len(q) > 0 -> q?_,_ :: else -> break od

/* A frame reaches the application only after the peer's Hello (HELLO-6)
 * and before the peer's Goodbye (END-2). The checks that enforce this are
 * in the receive code; these assertions are what the verifier checks
 * against it (P2, P3). */
#define P_DELIVER assert(p_hello && !p_peer_bye)
#define C_DELIVER assert(c_hello && !c_peer_bye)

/* The parent writes only when it can do so without blocking (FLOW-1), and
 * sends nothing but its Hello before it has the child's (HELLO-5). */
#define P_ROOM (!p_out_ended && !p2c_rclosed && len(p2c) < CAP)
#define P_TALK (P_ROOM && p_hello)
#define P_OUTSTANDING (p_req[1] == R_OUT || p_req[2] == R_OUT)

/* The child may send anything but its Hello only after the parent's
 * (HELLO-5), and nothing at all after its Goodbye (END-1). */
#define C_TALK (!c_out_ended && c_hello)

/* REQ-9, END-3, END-11: when the child's direction ends, each outstanding
 * request of the parent is reported CLOSED, exactly once. */
inline p_close_one(id) {
  if
  :: p_req[id] == R_OUT ->
     p_req[id] = R_CLOSED;
     p_nclo[id]++;
     assert(p_nrep[id] + p_nclo[id] == 1)     /* P4 */
  :: else -> skip
  fi
}

inline p_close_requests() {
  p_close_one(1);
  p_close_one(2)
}

inline c_close_requests() {
  if
  :: c_req == R_OUT ->
     c_req = R_CLOSED;
     c_nclo++;
     assert(c_nrep + c_nclo == 1)             /* P4 */
  :: else -> skip
  fi
}

/* A fatal error found by the parent (section 11, END-11): report the
 * outstanding requests CLOSED, send an Error frame if that can be done
 * without blocking (it is a SHOULD) and it makes sense (not for a received
 * fatal Error or a truncated stream), then close the channel. */
inline p_fatal(send_error) {
  p_close_requests();
  if
  :: send_error && P_ROOM -> p2c!ERR,E_FATAL
  :: else -> skip
  fi;
  p_in_ended = 1;
  p_out_ended = 1;
  goto p_close
}

/* The child's blocking write (FLOW-2): it waits until the queue has room,
 * or until the parent's end is closed, in which case the write fails with
 * EPIPE and the child's own direction has ended (END-6). */
inline c_write(ft, fa) {
  atomic {
    (len(c2p) < CAP || c2p_rclosed) ->
    if
    :: c2p_rclosed -> c_out_ended = 1
    :: else -> c2p!ft,fa
    fi
  }
}

/* A fatal error found by the child: the same steps as p_fatal, but the
 * Error frame is written the child's way, blocking until it fits. */
inline c_fatal(send_error) {
  c_close_requests();
  c_in_ended = 1;
  if
  :: send_error && !c_out_ended -> c_write(ERR, E_FATAL)
  :: else -> skip
  fi;
  c_out_ended = 1;
  goto c_close
}

/* A process that has ended keeps its variables in the state vector while
 * the other goes on. Clearing them lets states that differ only in what a
 * dead process once knew merge into one. */
inline p_forget() {
  f = 0; a = 0;
  p_hello = 0; p_peer_bye = 0; p_in_ended = 0; p_out_ended = 0;
  p_ping_sent = 0; p_cxl_sent = 0; p_owe_pong = 0; p_owe_unknown = 0;
  p_esc = 0; p_next = 0; p_got = 0; p_nsent = 0;
  p_req[1] = 0; p_req[2] = 0; p_nrep[1] = 0; p_nrep[2] = 0;
  p_nclo[1] = 0; p_nclo[2] = 0
}

inline c_forget() {
  f = 0; a = 0;
  c_hello = 0; c_peer_bye = 0; c_in_ended = 0; c_out_ended = 0;
  c_used = 0; c_owe_pong = 0; c_owe_unknown = 0;
  c_req = 0; c_nrep = 0; c_nclo = 0;
  c_got[1] = 0; c_got[2] = 0; c_nsent[1] = 0; c_nsent[2] = 0
}

/* ------------------------------------------------------------------------ */

proctype Parent()
{
  mtype f;            /* the frame just read and its argument; cleared after */
  byte a;             /* use so that they do not split states needlessly */
  bit p_hello;        /* the child's Hello has been received */
  bit p_peer_bye;     /* the child's Goodbye has been received */
  bit p_in_ended;     /* the child's direction has ended (Goodbye, end of file or fatal error) */
  bit p_out_ended;    /* the parent's own direction has ended (Goodbye, EPIPE or close) */
  bit p_ping_sent, p_cxl_sent;
  bit p_owe_pong;     /* a Ping arrived and its Pong is still to be sent (PING-2) */
  bit p_owe_unknown;  /* an Error UNKNOWN_REQUEST is still to be sent (REQ-5) */
  bit p_esc;          /* the parent has begun to stop a silent child (END-9) */
  byte p_next = 1;    /* the next request id: 1, 2, ..., never reused (REQ-1) */
  byte p_req[P_NREQ + 1];     /* each request of the parent, at the parent */
  byte p_nrep[P_NREQ + 1];    /* ghost: replies delivered for each of them */
  byte p_nclo[P_NREQ + 1];    /* ghost: CLOSED reports for each of them */
  byte p_got;                 /* the child's request, at the parent */
  byte p_nsent;               /* ghost: replies the parent sent to it */

  {
  /* A faulty parent may send a message before its Hello, against HELLO-5.
   * Both must fit in the empty queue, since the parent never blocks in a
   * write (FLOW-1). */
  if
  :: atomic { !faulted && CAP >= 2 -> faulted = 1; p2c!MSG,0 }
  :: skip
  fi;

  /* HELLO-1: the Hello is the first frame, sent without waiting for the
   * child's. The queue holds at most the faulty message here, so this
   * never blocks; if the child is already gone, the write fails (END-6). */
  atomic {
    if
    :: p2c_rclosed -> p_out_ended = 1
    :: else -> p2c!HELLO,0
    fi
  };

  do
  /* ---- what the parent owes; written as soon as there is room ---- */
  :: atomic { P_TALK && p_owe_pong ->
     p2c!PONG,0; p_owe_pong = 0 }                       /* PING-2 */
  :: atomic { P_TALK && p_got == G_PENDING ->
     p2c!REP,1; p_got = G_ANSWERED;                    /* REQ-2, REQ-7 */
     p_nsent++; assert(p_nsent == 1) }                 /* P4: one reply only */
  :: atomic { P_TALK && p_owe_unknown ->
     p2c!ERR,E_NONFATAL; p_owe_unknown = 0 }           /* REQ-5 */

  /* ---- what the parent's application may choose to send ---- */
  :: atomic { P_TALK && p_next <= P_NREQ && P_MAY_REQUEST ->
     p2c!REQ,p_next; p_req[p_next] = R_OUT; p_next++ } /* REQ-1, REQ-11 */
  :: atomic { P_TALK && p_next == 2 ->
     /* The second message is one-way instead of request 2 (MSG-1). */
     p2c!MSG,0; p_next = P_NREQ + 1 }
  :: atomic { P_TALK && !p_cxl_sent && p_req[1] == R_OUT ->
     /* REQ-6: Cancel only for an outstanding id. One Cancel, of request 1,
      * shows both cases at the child: it arrives before the reply is sent
      * (REQ-7) or after, having crossed the reply on the wire (REQ-8). */
     p2c!CANCEL,1; p_cxl_sent = 1 }
  :: atomic { P_TALK && !p_ping_sent ->
     p2c!PING,0; p_ping_sent = 1 }                     /* PING-1 */
  :: atomic { P_TALK && !p_owe_pong && (!p_patient || !P_OUTSTANDING) ->
     /* END-1: Goodbye, then shut the direction down; nothing follows it,
      * not even a non-fatal Error (ERR-3). A Ping received before the
      * Goodbye is answered first (PING-2). */
     p2c!BYE,0; p_out_ended = 1; p2c_wclosed = 1; p_owe_unknown = 0 }

  /* ---- the one protocol violation of a faulty parent ---- */
  :: atomic { P_TALK && len(p2c) + 2 <= CAP && !faulted ->
     /* a frame after its Goodbye, without shutting the direction down
      * between the two (END-1); both must fit, as above */
     faulted = 1; p2c!BYE,0; p2c!MSG,0; p_out_ended = 1; p2c_wclosed = 1 }
  :: atomic { P_TALK && !faulted ->
     /* a reply to an id the child never used (the child only uses 1) */
     faulted = 1; p2c!REP,2 }

  /* ---- a write finds the child's end closed: EPIPE (END-6) ---- */
  :: atomic { !p_out_ended && p2c_rclosed ->
     p_out_ended = 1; p_owe_pong = 0; p_owe_unknown = 0 }
  /* ---- END-3: once the child's direction has ended, the parent may close
   * instead of sending its own Goodbye; a patient parent first waits for
   * its outstanding requests, as it does before a Goodbye ---- */
  :: atomic { p_in_ended && !p_out_ended && (!p_patient || !P_OUTSTANDING) ->
     p_out_ended = 1; p_owe_pong = 0; p_owe_unknown = 0 }

  /* ---- reading. It is possible whenever a frame is there, whatever the
   * parent would like to write: this is what lets a child that is blocked
   * in a write go on (FLOW-1) ---- */
  :: atomic { len(c2p) > 0 ->
     c2p?f,a;
     if
     :: !p_hello ->
        if
        :: f == HELLO -> p_hello = 1
        :: else -> p_fatal(1)                   /* HELLO-6: UNEXPECTED_FRAME */
        fi
     :: p_hello && p_peer_bye ->
        p_fatal(1)                              /* END-2: UNEXPECTED_FRAME */
     :: p_hello && !p_peer_bye ->
        if
        :: f == HELLO -> p_fatal(1)             /* HELLO-10 */
        :: f == MSG -> P_DELIVER                /* MSG-2 */
        :: f == REQ ->
           if
           :: p_got != G_NONE -> p_fatal(1)     /* REQ-4: PROTOCOL */
           :: else -> P_DELIVER; p_got = G_PENDING
           fi
        :: f == REP ->
           if
           :: a >= 1 && a <= P_NREQ && p_req[a] == R_OUT ->
              P_DELIVER;
              p_req[a] = R_DONE;
              p_nrep[a]++;
              assert(p_nrep[a] + p_nclo[a] == 1)   /* P4 */
           :: else ->
              /* REQ-5: never sent, or already answered: not delivered, not
               * fatal. An Error frame SHOULD follow, and can only be sent
               * before the parent's Goodbye (ERR-3). */
              p_owe_unknown = !p_out_ended
           fi
        :: f == CANCEL ->
           /* REQ-7: the child's request, if not yet answered, still gets
            * exactly one reply (CANCELLED or its result: the model does not
            * tell them apart). REQ-8: a Cancel for an id already answered,
            * the race of a Cancel crossing the reply, is ignored. */
           skip
        :: f == PING ->
           p_owe_pong = !p_out_ended            /* PING-2: only before the Goodbye */
        :: f == PONG ->
           skip                                 /* PING-3 */
        :: f == BYE ->
           p_peer_bye = 1; p_in_ended = 1;
           p_close_requests()                   /* END-3, REQ-9 */
        :: f == ERR ->
           if
           :: a == E_FATAL -> p_fatal(0)        /* END-11 */
           :: else -> skip                      /* ERR-3 */
           fi
        fi
     fi;
     f = 0; a = 0 }

  /* ---- end of file, or a truncated frame, once the queue is drained ---- */
  :: atomic { len(c2p) == 0 && c2p_wclosed && !p_in_ended ->
     if
     :: c2p_trunc -> p_fatal(0)                 /* FRAME-12: TRUNCATED */
     :: else ->
        p_in_ended = 1;                         /* END-4: a disconnect, not an error */
        p_close_requests()                      /* REQ-9 */
     fi }

  /* ---- both directions have ended: close (END-5) ---- */
  :: p_in_ended && p_out_ended -> break

  /* ---- the grace period runs out ---- */
  :: atomic { timeout ->
     /* Spin's timeout holds only when no process can move. The only
      * legitimate way to get there is a child that hangs; anything else is
      * a deadlock of the protocol (P1). */
     assert(c_hung);
     if
     :: !p_hello ->
        /* HELLO-12: no Hello in time is the fatal error TIMEOUT. HELLO-5
         * allows one Error frame before the handshake, but no Goodbye. */
        p_fatal(1)
     :: p_hello && !p_out_ended && !p_esc ->
        /* END-9: first ask the child to stop, with Goodbye(REASON_SHUTDOWN),
         * if it can be written at all ... */
        p_esc = 1;
        if
        :: P_ROOM -> p2c!BYE,0; p_out_ended = 1; p2c_wclosed = 1
        :: else -> skip
        fi
     :: else ->
        c_kill = 1                              /* ... then kill it (END-9). */
     fi }
  od;

p_close:
  /* END-5: the parent closes its end; frames of the child it has not read
   * are freed by the kernel. Nothing can change the outcome of a request
   * after this, so P4 is checked here: each request the parent sent has
   * exactly one outcome. */
  atomic {
    p2c_wclosed = 1; c2p_rclosed = 1; DRAIN(c2p); p_closed = 1;
    assert(p_nrep[1] + p_nclo[1] == (p_req[1] != R_NONE));
    assert(p_nrep[2] + p_nclo[2] == (p_req[2] != R_NONE));
    p_forget()
  };

  /* END-10: reap the child; if it does not exit in time, kill it (END-9). */
  do
  :: c_exited -> break
  :: atomic { timeout -> assert(c_hung); c_kill = 1 }
  od;
  p_reaped = 1

  } unless {
    /* The parent dies, at any point: the kernel closes its end. If it was
     * in the middle of writing a frame, the child will see TRUNCATED. */
    atomic {
      p_crash ->
      if
      :: !p2c_wclosed && !p_out_ended -> p2c_trunc = 1
      :: true -> skip
      fi;
      p2c_wclosed = 1; c2p_rclosed = 1; DRAIN(c2p); p_dead = 1;
      p_forget(); p_crash = 0
    }
  }
}

/* ------------------------------------------------------------------------ */

proctype Child()
{
  mtype f;
  byte a;
  bit c_hello, c_peer_bye, c_in_ended, c_out_ended;   /* as for the parent */
  bit c_used;                  /* the child's one frame of its own has been sent */
  bit c_owe_pong, c_owe_unknown;
  byte c_req;                  /* the child's request (id 1), at the child */
  byte c_nrep, c_nclo;         /* ghost: its replies delivered and CLOSED reports */
  byte c_got[P_NREQ + 1];      /* each request of the parent, at the child */
  byte c_nsent[P_NREQ + 1];    /* ghost: replies the child sent to each */

  {
  /* A faulty child may send a message before its Hello, against HELLO-5. */
  if
  :: atomic { !faulted -> faulted = 1; c_write(MSG, 0) }
  :: skip
  fi;

  /* HELLO-1: the Hello first, without waiting for the parent's. */
  c_write(HELLO, 0);

  do
  /* ---- what the child owes; each write blocks until it is done ---- */
  :: atomic { C_TALK && c_owe_pong ->
     c_write(PONG, 0); c_owe_pong = 0 }                /* PING-2 */
  :: atomic { C_TALK && c_got[1] == G_PENDING ->
     c_write(REP, 1); c_got[1] = G_ANSWERED;           /* REQ-2, REQ-7 */
     c_nsent[1]++; assert(c_nsent[1] == 1) }           /* P4: one reply only */
  :: atomic { C_TALK && c_got[2] == G_PENDING ->
     c_write(REP, 2); c_got[2] = G_ANSWERED;
     c_nsent[2]++; assert(c_nsent[2] == 1) }
  :: atomic { C_TALK && c_owe_unknown ->
     c_write(ERR, E_NONFATAL); c_owe_unknown = 0 }     /* REQ-5 */

  /* ---- what the child's application may choose to send ---- */
  /* The child sends one frame of its own: a one-way message, a request,
   * or a Ping. Allowing all three in one run multiplies the state space by
   * four and adds no interplay that one of them alone does not show. */
  :: atomic { C_TALK && !c_used ->
     c_used = 1; c_write(MSG, 0) }                     /* MSG-1 */
  :: atomic { C_TALK && !c_used && C_MAY_REQUEST ->
     c_used = 1; c_req = R_OUT;                        /* REQ-1, REQ-11 */
     c_write(REQ, 1);
     if
     :: c_out_ended ->
        /* END-6: the write failed and the request was never sent; the
         * application is told it failed, which is its one outcome. */
        c_req = R_CLOSED; c_nclo++
     :: else -> skip
     fi }
  :: atomic { C_TALK && !c_used ->
     c_used = 1; c_write(PING, 0) }                    /* PING-1 */
  :: atomic { C_TALK && !c_owe_pong && (!c_passive || c_in_ended) ->
     /* END-1, END-8: Goodbye, then shut the direction down, then go on
      * reading until the parent's direction ends. Answering every request
      * first is only a SHOULD (REQ-10), so this child may leave requests
      * unanswered; the parent then reports them CLOSED. A passive child
      * says Goodbye only once the parent's direction has ended. */
     c_write(BYE, 0);
     c_out_ended = 1; c2p_wclosed = 1; c_owe_unknown = 0 }

  /* ---- the one protocol violation of a faulty child ---- */
  :: atomic { C_TALK && !faulted ->
     /* a frame after its Goodbye, without shutting down between the two */
     faulted = 1;
     c_write(BYE, 0);
     c_write(MSG, 0);
     c_out_ended = 1; c2p_wclosed = 1 }
  :: atomic { C_TALK && !faulted ->
     /* a reply to an id the parent never used */
     faulted = 1;
     c_write(REP, BAD_ID) }
  :: atomic { !c_out_ended && c_got[1] == G_ANSWERED && !faulted ->
     /* a second reply to a request it has already answered */
     faulted = 1;
     c_write(REP, 1) }

  /* ---- reading, whenever the child is not writing (FLOW-2) ---- */
  :: atomic { len(p2c) > 0 ->
     p2c?f,a;
     if
     :: !c_hello ->
        if
        :: f == HELLO -> c_hello = 1
        :: else -> c_fatal(1)                   /* HELLO-6: UNEXPECTED_FRAME */
        fi
     :: c_hello && c_peer_bye ->
        c_fatal(1)                              /* END-2: UNEXPECTED_FRAME */
     :: c_hello && !c_peer_bye ->
        if
        :: f == HELLO -> c_fatal(1)             /* HELLO-10 */
        :: f == MSG -> C_DELIVER                /* MSG-2 */
        :: f == REQ ->
           if
           :: c_got[a] != G_NONE -> c_fatal(1)  /* REQ-4 */
           :: else -> C_DELIVER; c_got[a] = G_PENDING
           fi
        :: f == REP ->
           if
           :: a == 1 && c_req == R_OUT ->
              C_DELIVER;
              c_req = R_DONE;
              c_nrep++;
              assert(c_nrep + c_nclo == 1)      /* P4 */
           :: else ->
              c_owe_unknown = !c_out_ended      /* REQ-5 */
           fi
        :: f == CANCEL ->
           /* REQ-7: a request not yet answered still gets exactly one reply.
            * REQ-8: a Cancel for a request already answered, which crossed
            * the reply on the wire, is ignored without an error. */
           skip
        :: f == PING ->
           c_owe_pong = !c_out_ended            /* PING-2 */
        :: f == PONG -> skip                    /* PING-3 */
        :: f == BYE ->
           c_peer_bye = 1; c_in_ended = 1;
           c_close_requests()                   /* END-3, REQ-9 */
        :: f == ERR ->
           if
           :: a == E_FATAL -> c_fatal(0)        /* END-11 */
           :: else -> skip                      /* ERR-3 */
           fi
        fi
     fi;
     f = 0; a = 0 }

  /* ---- end of file, or a truncated frame, once the queue is drained ---- */
  :: atomic { len(p2c) == 0 && p2c_wclosed && !c_in_ended ->
     if
     :: p2c_trunc -> c_fatal(1)                 /* FRAME-12: TRUNCATED */
     :: else ->
        c_in_ended = 1;                         /* END-4 */
        c_close_requests()                      /* REQ-9 */
     fi }

  /* ---- END-8: the parent's direction has ended, so the child stops: it
   * may close without a Goodbye (END-3), and leaves once both directions
   * have ended ---- */
  :: atomic { c_in_ended && !c_out_ended ->
     c_out_ended = 1; c_owe_pong = 0; c_owe_unknown = 0 }
  :: c_in_ended && c_out_ended -> break
  od;

c_close:
  /* END-5: close the channel, then exit. */
  atomic { f = 0; a = 0; c2p_wclosed = 1; p2c_rclosed = 1; DRAIN(p2c); c_closed = 1 };
  atomic {
    /* P4: the child's request has exactly one outcome. */
    assert(c_nrep + c_nclo == (c_req != R_NONE));
    c_forget();
    c_exited = 1
  }

  } unless {
    atomic {
      (c_crash || c_hang) ->
      /* The child crashes, or hangs and does nothing more until it is
       * killed. If it stopped in the middle of writing a frame, the parent
       * will see TRUNCATED once the child's end is closed. */
      if
      :: !c2p_wclosed && !c_out_ended -> c2p_trunc = 1
      :: true -> skip
      fi;
      c_forget();
      c_hung = c_hang
    };
    atomic {
      (c_kill || c_crash) ->
      /* It dies, by the crash or by the parent's kill: the kernel closes
       * its end. */
      c2p_wclosed = 1; p2c_rclosed = 1; DRAIN(p2c); c_closed = 1;
      c_crash = 0; c_hang = 0; c_hung = 0; c_kill = 0;
      c_exited = 1
    }
  }
}

/* Chaos injects at most one crash or hang, at any point of a run: it can
 * take its one step between any two steps of the other processes. */
proctype Chaos()
{
  if
  :: atomic { !faulted && !p_reaped && !p_dead -> faulted = 1; p_crash = 1 }
  :: atomic { !faulted && !c_exited -> faulted = 1; c_crash = 1 }
  :: atomic { !faulted && !c_exited -> faulted = 1; c_hang = 1 }
  :: skip
  fi
}

init
{
  /* How the two sides choose to end. A passive child with an impatient
   * parent is left out: a passive child only ever does what an active
   * child may do, and an impatient parent can always end its direction, so
   * the pair finds nothing the others do not (it also verifies when it is
   * checked on its own). */
  atomic {
    if
    :: p_patient = 0; c_passive = 0
    :: p_patient = 1; c_passive = 0
    :: p_patient = 1; c_passive = 1
    fi;
    run Parent(); run Child(); run Chaos()
  };
  (_nr_pr == 1);
  /* P5: every run ends with the child gone and its end closed and, unless
   * the parent died, the parent's end closed and the child reaped. */
  assert(c_exited && c_closed);
  assert(p_dead || (p_closed && p_reaped))
}
