// cord.ts: the child side of Cord's framed binding over the inherited socket: handshake, messages, requests, cancel, ping, errors and the orderly end.

import type { Socket } from 'node:net';
import { fromBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { FrameSchema, MessageSchema, Goodbye_Reason } from './gen/cord_pb.js';
import type { Frame, Hello, Message } from './gen/cord_pb.js';
import { CordError, Code, codeName, isFatal } from './errors.js';
import { FrameReader, encodeFrame, preview, clip, HELLO_LIMIT, MAX_FRAME_LIMIT } from './framing.js';
import { Inbox } from './inbox.js';
import { checkReading } from './reading.js';
import { empty } from './payload.js';
import type { Payload } from './payload.js';
import type {
  Channel, Incoming, IncomingRequest, PeerInfo, Reply, ReplyOptions, RequestOptions,
} from './channel.js';

const MAGIC = 0x44524f43;
const VERSION = 1;
const CAPABILITY_CANCEL = 1n;
const EMPTY = Buffer.alloc(0);

/** Options of a Cord-binding channel; `connect()` documents them. */
export interface CordOptions {
  maxFrame: number;
  cancel: boolean;
  implName: string;
  implVersion: string;
  highWater: number;
  maxQueue: number;
}

type FrameInit = MessageInitShape<typeof FrameSchema>;

interface Outstanding {
  resolve(r: Reply): void;
  reject(e: unknown): void;
}

/** The payload of a decoded Message, as the application sees it. */
function payloadOf(m: Message): Payload {
  const p = m.payload;
  switch (p.case) {
    case 'json': return { kind: 'json', text: p.value };
    case 'raw': return { kind: 'raw', bytes: p.value };
    case 'typed': return { kind: 'typed', type: p.value.type, value: p.value.value };
    default: return empty;
  }
}

/** The Message.payload member for a payload to send. */
function payloadInit(p: Payload): MessageInitShape<typeof MessageSchema>['payload'] {
  switch (p.kind) {
    case 'json': return { case: 'json', value: p.text };
    case 'raw': return { case: 'raw', value: p.bytes };
    case 'typed': return { case: 'typed', value: { type: p.type, value: p.value } };
    default: return { case: undefined };
  }
}

/**
 * One channel of the Cord binding. Created by `connect()`, which awaits
 * `handshake` before handing it to the application.
 */
export class CordChannel implements Channel {
  readonly binding = 'cord' as const;
  peer: PeerInfo = {
    version: 0, maxFrame: HELLO_LIMIT, maxFds: 0, capabilities: 0n, pid: 0, implName: '', implVersion: '',
  };
  exitCode = 0;

  /** Settles when the peer's Hello has been accepted, or the channel failed first. */
  readonly handshake: Promise<void>;
  private handshakeDone!: () => void;
  private handshakeFailed!: (e: unknown) => void;
  private helloReceived = false;

  private readonly reader: FrameReader;
  private readonly inbox: Inbox<Incoming>;
  /** This side's direction: open, Goodbye sent, or closed (fatal error, or a write failed). */
  private ours: 'open' | 'goodbye' | 'closed' = 'open';
  /** The parent's direction: open, or ended by Goodbye or end of file. */
  private theirs: 'open' | 'goodbye' | 'ended' = 'open';
  private failure: CordError | null = null;
  private nextId = 1n;
  private readonly outstanding = new Map<bigint, Outstanding>();
  private readonly unanswered = new Map<bigint, { abort: AbortController; req: IncomingRequest }>();
  private nextNonce = 1n;
  private readonly pings = new Map<bigint, Outstanding>();
  private out: Buffer[] = [];
  private outBytes = 0;
  private closing: Promise<void> | null = null;
  private readonly socketClosed: Promise<void>;
  /** Why reading is paused: the application has not taken what came, or the parent has not read what this side answered. */
  private readonly held = new Set<'inbox' | 'output'>();

  constructor(private readonly socket: Socket, private readonly opts: CordOptions) {
    this.handshake = new Promise<void>((resolve, reject) => {
      this.handshakeDone = resolve;
      this.handshakeFailed = reject;
    });
    // Nothing waits on the handshake promise when the channel fails after it.
    this.handshake.catch(() => {});
    this.reader = new FrameReader(HELLO_LIMIT, Code.NOT_CORD);
    this.inbox = new Inbox<Incoming>(() => this.gate('inbox', true), () => this.gate('inbox', false));
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.onError(err));
    socket.on('drain', () => { if (this.held.has('output')) this.gate('output', false); });
    // HELLO-1: say Hello at once, without waiting for the parent's.
    this.write(encodeFrame({
      body: {
        case: 'hello',
        value: {
          magic: MAGIC, minVersion: VERSION, maxVersion: VERSION, maxFrame: opts.maxFrame, maxFds: 0,
          capabilities: opts.cancel ? CAPABILITY_CANCEL : 0n, pid: process.pid,
          implName: clip(opts.implName, 64), implVersion: clip(opts.implVersion, 32),
        },
      },
    }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Incoming> {
    return this.inbox[Symbol.asyncIterator]();
  }

  // ---- reading ------------------------------------------------------------------

  /**
   * Pauses reading while anything holds it. Frames this side sends in answer
   * to the parent's (Pong, Error) count against the send queue's bound as
   * well: past it, this side reads nothing more until the parent has read,
   * so a parent that sends Pings and never reads costs bounded memory.
   */
  private gate(why: 'inbox' | 'output', hold: boolean): void {
    if (hold) {
      this.held.add(why);
      this.socket.pause();
    } else {
      this.held.delete(why);
      if (this.held.size === 0 && !this.failure) this.socket.resume();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    try {
      for (const body of this.reader.push(chunk)) {
        this.onFrame(body);
        if (this.failure) return;
      }
    } catch (e) {
      if (e instanceof CordError) {
        // FRAME-5: the body of an oversized frame is never read.
        const detail = e.code === Code.NOT_CORD ? `${e.message}; first bytes: ${preview(this.reader.firstBytes)}` : e.message;
        this.fail(e.code, detail.replace(/^[A-Z_]+: /, ''));
      } else {
        this.fail(Code.PROTOCOL, String(e));
      }
    }
  }

  private onEnd(): void {
    if (this.failure) return;
    if (!this.reader.atBoundary) {
      // FRAME-12: a partial frame at end of file is fatal; the stream it concerns is gone, so no Error frame.
      this.fail(Code.TRUNCATED, 'end of file inside a frame', false);
      return;
    }
    this.peerEnded('end of file');
  }

  private onError(err: NodeJS.ErrnoException): void {
    if (this.failure) return;
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      // END-6: the peer's end is closed; reads that reset are end of file.
      this.ours = 'closed';
      if (this.theirs === 'open') this.onEnd();
      this.finishIfDone();
      return;
    }
    this.fail(Code.FAILED, `channel: ${err.message}`, false);
  }

  private onFrame(body: Uint8Array): void {
    // FRAME-14, FRAME-15: only a body with one reading is decoded.
    let bad = checkReading(body);
    let frame: Frame | undefined;
    if (bad === null) {
      try {
        frame = fromBinary(FrameSchema, body);
      } catch (e) {
        bad = (e as Error).message;
      }
    }
    if (frame === undefined) {
      if (!this.helloReceived) {
        this.fail(Code.NOT_CORD, `first frame does not decode; first bytes: ${preview(this.reader.firstBytes)}`);
      } else {
        this.fail(Code.PROTOCOL, `frame does not decode: ${bad}`);
      }
      return;
    }
    if (!this.helloReceived) {
      this.onFirstFrame(frame);
      return;
    }
    if (this.theirs !== 'open') {
      // END-2: nothing may follow the peer's Goodbye.
      this.fail(Code.UNEXPECTED_FRAME, `${frame.body.case ?? 'a frame'} after the peer's Goodbye`);
      return;
    }
    const b = frame.body;
    switch (b.case) {
      case 'message': this.onMessage(b.value); break;
      case 'cancel': this.unanswered.get(b.value.id)?.abort.abort(); break; // REQ-8: others are ignored
      case 'ping':
        if (this.ours === 'open') this.write(encodeFrame({ body: { case: 'pong', value: { nonce: b.value.nonce } } }));
        break;
      case 'pong': {
        const p = this.pings.get(b.value.nonce); // PING-3: unknown nonces are ignored
        if (p) {
          this.pings.delete(b.value.nonce);
          p.resolve({ status: 0, payload: empty });
        }
        break;
      }
      case 'goodbye':
        this.theirs = 'goodbye';
        this.peerEnded('the parent said Goodbye');
        break;
      case 'error':
        if (isFatal(b.value.code)) {
          // END-11: the peer's fatal error is this side's failure too; its channel is closed already.
          this.fail(b.value.code, `the parent reported ${codeName(b.value.code)}: ${b.value.detail}`, false);
        } else {
          this.inbox.push({ kind: 'notice', code: b.value.code, detail: b.value.detail, fromPeer: true });
        }
        break;
      case 'hello':
        this.fail(Code.UNEXPECTED_FRAME, 'a second Hello'); // HELLO-10
        break;
      default:
        // FRAME-8: a body this side does not know is discarded; the channel stays open.
        break;
    }
  }

  private onFirstFrame(frame: Frame): void {
    const b = frame.body;
    if (b.case !== 'hello') {
      this.fail(Code.UNEXPECTED_FRAME, `first frame is ${b.case ?? 'empty'}, not a Hello`); // HELLO-6
      return;
    }
    const h: Hello = b.value;
    if (h.magic !== MAGIC) {
      this.fail(Code.NOT_CORD, `Hello with magic 0x${h.magic.toString(16)}; first bytes: ${preview(this.reader.firstBytes)}`);
      return;
    }
    if (h.minVersion > h.maxVersion || h.maxFrame < 256 || h.maxFrame > MAX_FRAME_LIMIT) {
      this.fail(Code.PROTOCOL, `malformed Hello: versions ${h.minVersion}..${h.maxVersion}, max_frame ${h.maxFrame}`); // HELLO-9
      return;
    }
    const v = Math.min(VERSION, h.maxVersion);
    if (v < Math.max(VERSION, h.minVersion)) {
      this.fail(Code.VERSION_MISMATCH,
        `no common version: we speak ${VERSION}..${VERSION}, peer speaks ${h.minVersion}..${h.maxVersion}`); // HELLO-8
      return;
    }
    this.helloReceived = true;
    this.peer = {
      version: v, maxFrame: h.maxFrame, maxFds: h.maxFds, capabilities: h.capabilities, pid: h.pid,
      implName: h.implName, implVersion: h.implVersion,
    };
    this.reader.limit = this.opts.maxFrame;
    this.reader.tooLarge = Code.FRAME_TOO_LARGE;
    this.handshakeDone();
  }

  private onMessage(m: Message): void {
    if ((m.id !== 0n && m.replyTo !== 0n) || (m.status !== 0 && m.replyTo === 0n)) {
      this.fail(Code.PROTOCOL, `message with id ${m.id}, reply_to ${m.replyTo}, status ${m.status}`); // MSG-5
      return;
    }
    if (m.fds !== 0) {
      // FD-7: this side declared max_fds 0, so no frame may announce descriptors.
      this.fail(Code.FD_MISMATCH, `message announces ${m.fds} descriptors; max_fds is 0`);
      return;
    }
    if (m.replyTo !== 0n) {
      const o = this.outstanding.get(m.replyTo);
      if (!o) {
        // REQ-5: not delivered, reported, and the channel stays open.
        if (this.ours === 'open') {
          this.write(encodeFrame({ body: { case: 'error', value: { code: Code.UNKNOWN_REQUEST, detail: `reply to unknown request ${m.replyTo}` } } }));
        }
        return;
      }
      this.outstanding.delete(m.replyTo);
      o.resolve({ status: m.status, payload: payloadOf(m) });
      return;
    }
    if (m.id === 0n) {
      this.inbox.push({ kind: 'message', payload: payloadOf(m) });
      return;
    }
    if (this.unanswered.has(m.id)) {
      this.fail(Code.PROTOCOL, `request id ${m.id} is already waiting for its reply`); // REQ-4
      return;
    }
    this.inbox.push(this.makeRequest(m.id, payloadOf(m)));
  }

  private makeRequest(id: bigint, payload: Payload): IncomingRequest {
    const abort = new AbortController();
    const self = this;
    const req: IncomingRequest = {
      kind: 'request', id, payload, signal: abort.signal,
      get answered() { return !self.unanswered.has(id); },
      reply(p: Payload = empty, options: ReplyOptions = {}) { self.reply(id, p, options.status ?? 0); },
    };
    this.unanswered.set(id, { abort, req });
    return req;
  }

  private reply(id: bigint, payload: Payload, status: number): void {
    if (!this.unanswered.has(id)) throw new CordError(Code.STATE, `request ${id} is already answered`);
    // ERR-1, ERR-2: on the wire a status is 0, a protocol code, or an application code.
    if (!Number.isInteger(status) || status < 0 || status > 0x7fffffff || (status > 0 && status < 1000) || (status >= 2000 && status < 10000)) {
      throw new CordError(Code.STATE, `status ${status} may not be sent (spec ERR-2)`);
    }
    this.queueFrame({ body: { case: 'message', value: { replyTo: id, status, payload: payloadInit(payload) } } });
    this.unanswered.delete(id);
  }

  /** The parent's direction has ended (Goodbye or end of file): REQ-9 and END-8. */
  private peerEnded(why: string): void {
    if (this.theirs === 'ended') return;
    if (!this.helloReceived) {
      this.fail(Code.CLOSED, `${why} before the parent's Hello`, false);
      return;
    }
    this.theirs = 'ended';
    this.failOutstanding(why);
    this.inbox.end();
    this.finishIfDone();
  }

  private failOutstanding(why: string): void {
    const err = new CordError(Code.CLOSED, why);
    for (const o of this.outstanding.values()) o.reject(err);
    this.outstanding.clear();
    for (const p of this.pings.values()) p.reject(err);
    this.pings.clear();
  }

  /**
   * Fails the channel with `code` (END-11): sends an Error frame when this
   * side's direction is still open and `tell` is set, then closes the channel.
   */
  private fail(code: number, detail: string, tell = true): void {
    if (this.failure) return;
    const err = new CordError(code, detail);
    this.failure = err;
    if (isFatal(code)) this.exitCode = 76;
    this.socket.pause();
    if (tell && isFatal(code) && this.ours === 'open') {
      this.write(encodeFrame({ body: { case: 'error', value: { code, detail: clip(detail) } } }));
    }
    this.ours = 'closed';
    this.theirs = 'ended';
    this.failOutstanding(`channel failed: ${detail}`);
    this.handshakeFailed(err);
    this.inbox.end(code === Code.CLOSED ? undefined : err);
    this.endAndClose();
  }

  /** Ends this side's direction once every queued byte is written, then closes the descriptor. */
  private endAndClose(): void {
    this.flushOut();
    const s = this.socket;
    if (s.destroyed) return;
    if (s.writableFinished) {
      s.destroy();
      return;
    }
    s.once('finish', () => s.destroy());
    if (!s.writableEnded) s.end();
  }

  /** Closes the descriptor once both directions have ended (END-5). */
  private finishIfDone(): void {
    if (this.theirs === 'ended' && this.ours !== 'open' && this.closing) this.endAndClose();
  }

  // ---- writing ------------------------------------------------------------------

  /**
   * Queues a frame. The frames of one turn of the event loop are joined and
   * leave in one write. Past the high-water mark this side stops reading
   * until the parent has taken what is queued: frames answering the
   * parent's (Pong, Error) then cost bounded memory however fast the parent
   * sends Pings without reading.
   */
  private write(frame: Buffer): void {
    this.out.push(frame);
    this.outBytes += frame.length;
    if (this.out.length === 1) process.nextTick(() => this.flushOut());
    if (this.queued() > this.opts.highWater && !this.held.has('output')) this.gate('output', true);
  }

  /** Hands what is queued to the socket, as one buffer. */
  private flushOut(): void {
    if (this.out.length === 0) return;
    const b = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (this.socket.write(b) && this.held.has('output')) this.gate('output', false);
  }

  /** Bytes waiting to be written: joined in this turn, or in the socket's buffer. */
  private queued(): number {
    return this.outBytes + this.socket.writableLength;
  }

  /** Encodes and queues a frame after the checks every send shares. */
  private queueFrame(frame: FrameInit): boolean {
    if (this.ours !== 'open') throw new CordError(Code.CLOSED, 'this side has ended its direction');
    const buf = encodeFrame(frame);
    if (buf.length - 4 > this.peer.maxFrame) {
      throw new CordError(Code.TOO_BIG, `frame of ${buf.length - 4} bytes exceeds the parent's max_frame ${this.peer.maxFrame}`);
    }
    if (this.queued() + buf.length > this.opts.maxQueue) {
      throw new CordError(Code.ENOBUFS, `send queue would pass its bound of ${this.opts.maxQueue} bytes`);
    }
    this.write(buf);
    return this.queued() < this.opts.highWater;
  }

  send(payload: Payload = empty): boolean {
    return this.queueFrame({ body: { case: 'message', value: { payload: payloadInit(payload) } } });
  }

  request(payload: Payload = empty, options: RequestOptions = {}): Promise<Reply> {
    // REQ-11: no request once the parent's direction has ended.
    if (this.theirs !== 'open') return Promise.reject(new CordError(Code.CLOSED, "the parent's direction has ended"));
    const id = this.nextId++;
    try {
      this.queueFrame({ body: { case: 'message', value: { id, payload: payloadInit(payload) } } });
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<Reply>((resolve, reject) => {
      this.outstanding.set(id, { resolve, reject });
      const signal = options.signal;
      if (signal) {
        const onAbort = () => {
          // REQ-6: Cancel only while the request is outstanding; its reply still settles the promise.
          if (this.outstanding.has(id) && this.ours === 'open') {
            this.write(encodeFrame({ body: { case: 'cancel', value: { id } } }));
          }
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  ping(): Promise<void> {
    if (this.theirs !== 'open' || this.ours !== 'open') {
      return Promise.reject(new CordError(Code.CLOSED, 'no Pong can come')); // PING-5
    }
    const nonce = this.nextNonce++;
    this.write(encodeFrame({ body: { case: 'ping', value: { nonce } } }));
    return new Promise<void>((resolve, reject) => {
      this.pings.set(nonce, { resolve: () => resolve(), reject });
    });
  }

  drain(): Promise<void> {
    this.flushOut();
    if (this.queued() < this.opts.highWater || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.queued() < this.opts.highWater || this.socket.destroyed) {
          this.socket.off('drain', check);
          this.socket.off('close', check);
          resolve();
        }
      };
      this.socket.on('drain', check);
      this.socket.on('close', check);
    });
  }

  flush(): Promise<void> {
    this.flushOut();
    if (this.socket.destroyed || this.socket.writableEnded || this.socket.writableLength === 0) return Promise.resolve();
    // A write completes after every write queued before it.
    return new Promise((resolve) => this.socket.write(EMPTY, () => resolve()));
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    // The application takes nothing more: keep reading (END-1) without queueing.
    this.inbox.discard();
    if (this.ours === 'open') {
      for (const [id] of this.unanswered) {
        try {
          this.reply(id, empty, Code.CANCELLED); // REQ-10
        } catch {
          // A reply that cannot go is reported CLOSED to the parent by REQ-9.
        }
      }
      this.write(encodeFrame({ body: { case: 'goodbye', value: { reason: Goodbye_Reason.DONE } } }));
      this.ours = 'goodbye';
      this.flushOut();
    }
    if (this.theirs === 'ended') {
      this.endAndClose();
    } else {
      // END-1: this direction is over; shut it down and read until the parent's ends.
      this.flushOut();
      this.socket.end();
    }
    await this.socketClosed;
  }
}
