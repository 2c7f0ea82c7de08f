// channel.ts: the public shape of a channel, the same on Cord's framed binding and on Node.js's own json channel.

import type { Payload } from './payload.js';

/** Which wire the channel speaks: Cord frames, or Node.js's json lines (spec section 13). */
export type Binding = 'cord' | 'node-json';

/** What the peer said about itself in its Hello (all zero on the Node.js binding, which has none). */
export interface PeerInfo {
  /** The protocol version both sides use (spec HELLO-8). */
  readonly version: number;
  /** The largest frame body the peer accepts (spec FRAME-2). */
  readonly maxFrame: number;
  /** The most descriptors the peer accepts with one frame. */
  readonly maxFds: number;
  /** The peer's capability bits. */
  readonly capabilities: bigint;
  /** The peer's claims, for diagnostics only (spec SEC-7). */
  readonly pid: number;
  readonly implName: string;
  readonly implVersion: string;
}

/** A one-way message from the peer. */
export interface IncomingMessage {
  readonly kind: 'message';
  readonly payload: Payload;
}

/** What `reply()` sends: a status (0 for success) and a payload. */
export interface ReplyOptions {
  /** 0 for success, otherwise a code from the error table (spec REQ-2, ERR-1). */
  readonly status?: number;
}

/**
 * A request from the peer. Answer it exactly once with `reply()` (spec REQ-2);
 * `signal` aborts when the peer cancels it (spec REQ-7), after which a reply
 * with status CANCELLED (1009) is the usual answer.
 */
export interface IncomingRequest {
  readonly kind: 'request';
  readonly id: bigint;
  readonly payload: Payload;
  readonly signal: AbortSignal;
  /** True once a reply has been queued for this request. */
  readonly answered: boolean;
  /**
   * Queues the reply. Throws CordError: TOO_BIG when it exceeds the peer's
   * max_frame (nothing is sent and the request stays unanswered, so a smaller
   * reply, e.g. status FAILED, can follow), STATE when already answered or
   * for a status the wire does not carry (1-999, 2000-9999, spec ERR-2),
   * CLOSED when this side's direction has ended.
   */
  reply(payload?: Payload, options?: ReplyOptions): void;
}

/**
 * A report that does not end the channel: a non-fatal Error frame from the
 * peer (spec ERR-3), or a local one such as a Node.js line that was too long
 * and was dropped (spec NODE-6).
 */
export interface Notice {
  readonly kind: 'notice';
  readonly code: number;
  readonly detail: string;
  /** True when the peer sent it, false when this side noticed it. */
  readonly fromPeer: boolean;
}

/** What the channel's async iterator yields. */
export type Incoming = IncomingMessage | IncomingRequest | Notice;

/** The peer's answer to one of this side's requests. */
export interface Reply {
  /** 0 for success, otherwise the code the peer answered with. */
  readonly status: number;
  readonly payload: Payload;
}

/** Options of `request()`. */
export interface RequestOptions {
  /** Aborting it sends Cancel (spec REQ-6); the promise still settles with the peer's reply. */
  readonly signal?: AbortSignal;
}

/**
 * A channel to the parent. Iterate it with `for await` to receive messages,
 * requests and notices in order (spec MSG-2); the iteration ends when the
 * parent's direction ends (Goodbye or end of file) and throws a CordError
 * when the channel fails. Call `close()` when done, in every case.
 */
export interface Channel extends AsyncIterable<Incoming> {
  readonly binding: Binding;
  readonly peer: PeerInfo;
  /**
   * The status a child should exit with once the channel is over: 0, or 76
   * after a fatal protocol error (spec END-8).
   */
  readonly exitCode: number;
  /**
   * Queues a one-way message. Returns false once the bytes waiting to be
   * written pass the high-water mark (await `drain()` before sending more);
   * throws CordError: TOO_BIG over the peer's max_frame, ENOBUFS past the
   * queue's bound (spec FLOW-4), CLOSED after this side's direction ended,
   * NODE_UNREPRESENTABLE for what the Node.js binding cannot carry.
   */
  send(payload?: Payload): boolean;
  /**
   * Sends a request and resolves with the peer's reply; rejects with
   * CordError(CLOSED) when the peer's direction ends first (spec REQ-9), and
   * throws as `send()` does when it cannot be sent (REQ-11).
   */
  request(payload?: Payload, options?: RequestOptions): Promise<Reply>;
  /** Sends a Ping and resolves on its Pong; rejects with CLOSED when none can come (spec PING-5). */
  ping(): Promise<void>;
  /** Resolves once the bytes waiting to be written are below the high-water mark. */
  drain(): Promise<void>;
  /** Resolves once everything queued has been handed to the kernel (spec END-7). */
  flush(): Promise<void>;
  /**
   * Ends the channel as the spec says: answers the requests still unanswered
   * with CANCELLED (REQ-10), sends Goodbye, writes everything queued, waits
   * for the parent's direction to end, and closes the descriptor (END-1,
   * END-5). Never rejects; calling it again returns the same promise.
   */
  close(): Promise<void>;
}
