// node.ts: the same Channel on Node.js's own channel (spec section 13), which Node's runtime opened at startup as process.send's channel.

import { CordError, Code } from './errors.js';
import { Inbox } from './inbox.js';
import { preview } from './framing.js';
import type { Payload } from './payload.js';
import type { Channel, Incoming, PeerInfo, Reply } from './channel.js';

/** Options of a Node.js-binding channel; `connect()` documents them. */
export interface NodeOptions {
  maxLine: number;
  highWater: number;
  maxQueue: number;
}

/** The parts of Node's internal channel handle this binding uses. */
interface IpcHandle {
  onread: (this: IpcHandle, arrayBuffer?: ArrayBuffer) => void;
  pendingHandle: { close(): void } | null;
  readStop(): number;
  readStart(): number;
}

/** Finds the runtime's channel handle, or null when this Node.js keeps it elsewhere. */
export function runtimeChannelHandle(): (IpcHandle & object) | null {
  const sym = Object.getOwnPropertySymbols(process).find((s) => s.description === 'kChannelHandle');
  const h = sym ? (process as unknown as Record<symbol, unknown>)[sym] : null;
  return h && typeof (h as IpcHandle).onread === 'function' ? (h as IpcHandle) : null;
}

/**
 * The serialization Node's runtime chose for its channel: the json reader
 * keeps a string buffer, the advanced one a list of chunks.
 */
export function runtimeSerialization(h: object): 'json' | 'advanced' | 'unknown' {
  const names = Object.getOwnPropertySymbols(h).map((s) => s.description);
  if (names.includes('kJSONBuffer')) return 'json';
  if (names.includes('kMessageBuffer')) return 'advanced';
  return 'unknown';
}

/** Spec NODE-7: an object whose `cmd` is a string longer than 5 starting NODE_. */
function isInternal(v: unknown): v is { cmd: string } {
  if (v === null || typeof v !== 'object') return false;
  const cmd = (v as { cmd?: unknown }).cmd;
  return typeof cmd === 'string' && cmd.length > 5 && cmd.startsWith('NODE_');
}

const NO_HELLO: PeerInfo = { version: 0, maxFrame: 0, maxFds: 0, capabilities: 0n, pid: 0, implName: '', implVersion: '' };

/**
 * A channel on the Node.js binding. Lines are read by this class, not by
 * Node's parser: Node's reader gives up the process on a line that is not
 * JSON, holds any line however long, and accepts descriptors; this one fails
 * the channel cleanly, drops lines over `maxLine` (NODE-6), and refuses every
 * handle (NODE-8). Messages leave through `process.send()`.
 */
export class NodeChannel implements Channel {
  readonly binding = 'node-json' as const;
  readonly peer = NO_HELLO;
  exitCode = 0;

  private readonly inbox: Inbox<Incoming>;
  private partial: Buffer[] = [];
  private partialLen = 0;
  private dropping = false;
  private ended = false;
  private failed = false;
  private sendClosed = false;
  private queued = 0;
  private queuedBytes = 0;
  private waiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;
  /** The runtime's handle this class reads, when it could be taken. */
  private handle: IpcHandle | null = null;
  private closedDone!: () => void;
  private readonly closed = new Promise<void>((resolve) => { this.closedDone = resolve; });

  /**
   * Takes the runtime's channel: from here on this class reads it. Messages
   * Node's parser had already read (while an ES module graph was loading)
   * are taken over first, in order. `handle` is null when this Node.js keeps
   * the handle where it cannot be found, or when the channel has already
   * ended.
   */
  constructor(public opts: NodeOptions, handle: IpcHandle | null) {
    this.inbox = new Inbox<Incoming>(() => {}, () => {});
    if (!process.connected) {
      // The parent's direction ended before the SDK was loaded.
      this.ended = this.sendClosed = true;
      this.inbox.end();
      this.closedDone();
      return;
    }
    const replay = (v: unknown) => this.onValue(JSON.stringify(v), v);
    process.on('message', replay);
    const state = readState();
    if (handle && state) {
      this.handle = handle;
      // Node replays what it buffered on the next tick; after that, this class is the only reader.
      process.nextTick(() => process.nextTick(() => process.off('message', replay)));
      // The start of a line Node's parser had read stays the start of the next line.
      const bufSym = Object.getOwnPropertySymbols(handle).find((x) => x.description === 'kJSONBuffer');
      const held = bufSym ? (handle as unknown as Record<symbol, unknown>)[bufSym] : '';
      if (typeof held === 'string' && held.length > 0) this.keep(Buffer.from(held, 'utf8'));
      handle.onread = (arrayBuffer?: ArrayBuffer) => {
        // NODE-8: no handle is ever accepted; closing the wrap closes its descriptor.
        const stray = handle.pendingHandle;
        handle.pendingHandle = null;
        if (stray) stray.close();
        if (arrayBuffer) {
          this.onChunk(Buffer.from(arrayBuffer, state.offset(), state.nread()));
          return;
        }
        // Node's own end-of-file path would close the descriptor at once; this
        // side may still send (END-3), so it closes in close() instead.
        this.onEnd();
      };
    } else {
      // Without access to the handle, Node's parser reads; the limits it has are Node's own.
      process.on('disconnect', () => this.onEnd());
    }
    // Node's runtime answers NODE_HANDLE with ACK; this binding answers NACK (NODE-8).
    process.removeAllListeners('internalMessage');
    process.on('internalMessage', (m: unknown, h?: { close?(): void }) => {
      h?.close?.();
      if (isInternal(m) && m.cmd === 'NODE_HANDLE') this.nack();
    });
    process.on('disconnect', () => {
      this.sendClosed = true;
      this.closedDone();
    });
  }

  /** The runtime leaves its channel unreferenced; once the application uses it, it keeps the process alive. */
  ref(): void {
    (process.channel as unknown as { ref(): void } | undefined)?.ref();
  }

  [Symbol.asyncIterator](): AsyncIterator<Incoming> {
    return this.inbox[Symbol.asyncIterator]();
  }

  private onChunk(chunk: Buffer): void {
    let start = 0;
    while (!this.failed) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        this.keep(chunk.subarray(start));
        return;
      }
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.dropping || this.partialLen + piece.length > this.opts.maxLine) {
        this.reset();
        this.inbox.push({ kind: 'notice', code: Code.FRAME_TOO_LARGE, detail: `a line longer than ${this.opts.maxLine} bytes was dropped`, fromPeer: false });
        continue;
      }
      const line = this.partialLen ? Buffer.concat([...this.partial, piece]) : piece;
      this.reset();
      this.onLine(line);
    }
  }

  /** Keeps the start of a line for the next read, or drops it once it is over the limit (NODE-6). */
  private keep(rest: Buffer): void {
    if (rest.length === 0 || this.dropping) return;
    if (this.partialLen + rest.length > this.opts.maxLine) {
      this.reset();
      this.dropping = true;
      return;
    }
    this.partial.push(Buffer.from(rest));
    this.partialLen += rest.length;
  }

  private reset(): void {
    this.partial = [];
    this.partialLen = 0;
    this.dropping = false;
  }

  private onLine(line: Buffer): void {
    const text = line.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.fail(Code.PROTOCOL, `a line that is not JSON: ${preview([...line.subarray(0, 32)])}`);
      return;
    }
    this.onValue(text, value);
  }

  private onValue(text: string, value: unknown): void {
    if (isInternal(value)) {
      // NODE-7: never delivered. NODE_HANDLE is refused, other internal messages are ignored.
      if (value.cmd === 'NODE_HANDLE') this.nack();
      return;
    }
    this.inbox.push({ kind: 'message', payload: { kind: 'json', text } });
  }

  /**
   * Answers a NODE_HANDLE (NODE-8). A parent that sends handles and never
   * reads the answers fills the send queue; this side then stops reading
   * until it drains, so the answers cost bounded memory.
   */
  private nack(): void {
    try {
      this.sendValue({ cmd: 'NODE_HANDLE_NACK' });
    } catch {
      return; // The channel is closed: nobody is left to answer.
    }
    if (this.queuedBytes > this.opts.highWater && this.handle) {
      const h = this.handle;
      h.readStop();
      void this.drain().then(() => h.readStart());
    }
  }

  private onEnd(): void {
    if (this.ended || this.failed) return;
    if (this.partialLen > 0 || this.dropping) {
      this.fail(Code.TRUNCATED, 'end of file inside a line'); // NODE-10
      return;
    }
    this.ended = true;
    this.inbox.end();
  }

  private fail(code: number, detail: string): void {
    if (this.failed) return;
    this.failed = true;
    this.exitCode = 76;
    this.inbox.end(new CordError(code, detail));
    void this.flush().then(() => this.disconnect());
  }

  private disconnect(): void {
    this.sendClosed = true;
    if (process.connected) process.disconnect();
    else this.closedDone();
  }

  private sendValue(value: unknown): boolean {
    if (this.sendClosed || !process.connected || !process.send) throw new CordError(Code.CLOSED, 'the channel is closed');
    const bytes = JSON.stringify(value).length + 1;
    if (this.queuedBytes + bytes > this.opts.maxQueue) {
      throw new CordError(Code.ENOBUFS, `send queue would pass its bound of ${this.opts.maxQueue} bytes`);
    }
    this.queued++;
    this.queuedBytes += bytes;
    process.send(value, undefined, {}, (err) => {
      if (err) this.sendClosed = true;
      this.queued--;
      this.queuedBytes -= bytes;
      if (this.queuedBytes < this.opts.highWater || this.queued === 0) {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    });
    return this.queuedBytes < this.opts.highWater;
  }

  send(payload?: Payload): boolean {
    if (!payload || payload.kind !== 'json') {
      throw new CordError(Code.NODE_UNREPRESENTABLE, `a ${payload?.kind ?? 'empty'} payload has no form on a Node.js channel`);
    }
    // NODE-4: refuse what would end the Node.js peer.
    const t = payload.text;
    if (t.length === 0 || t.includes('\n')) {
      throw new CordError(Code.NODE_UNREPRESENTABLE, 'an empty text or one with a raw newline cannot be a line');
    }
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      throw new CordError(Code.NODE_UNREPRESENTABLE, 'the text is not JSON');
    }
    if (isInternal(value)) throw new CordError(Code.NODE_UNREPRESENTABLE, `cmd ${value.cmd} is reserved for Node.js`); // NODE-7
    return this.sendValue(value);
  }

  request(): Promise<Reply> {
    return Promise.reject(new CordError(Code.NODE_UNREPRESENTABLE, 'a Node.js channel has no requests')); // NODE-9
  }

  ping(): Promise<void> {
    return Promise.reject(new CordError(Code.NODE_UNREPRESENTABLE, 'a Node.js channel has no Ping'));
  }

  private waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (done() ? resolve() : this.waiters.push(check));
      this.waiters.push(check);
    });
  }

  drain(): Promise<void> {
    return this.waitFor(() => this.queuedBytes < this.opts.highWater || this.sendClosed);
  }

  flush(): Promise<void> {
    return this.waitFor(() => this.queued === 0);
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.inbox.discard();
      this.closing = this.flush().then(() => {
        this.disconnect();
        return this.closed;
      });
    }
    return this.closing;
  }
}

/** Node's shared read state (the byte count and offset of the chunk onread is given), or null. */
function readState(): { nread(): number; offset(): number } | null {
  try {
    const sw = (process as unknown as { binding(n: string): Record<string, unknown> }).binding('stream_wrap');
    const s = sw.streamBaseState as Int32Array | undefined;
    const n = sw.kReadBytesOrError as number | undefined;
    const o = sw.kArrayBufferOffset as number | undefined;
    if (!s || n === undefined || o === undefined) return null;
    return { nread: () => s[n] as number, offset: () => s[o] as number };
  } catch {
    return null;
  }
}
