// connect.ts: finds the channel a parent gave this process (spec CHAN-6 to CHAN-9, NODE-2, NODE-3) and opens it.

import * as fs from 'node:fs';
import * as net from 'node:net';
import { CordError, Code } from './errors.js';
import { CordChannel } from './cord.js';
import { NodeChannel } from './node.js';
import { takeRuntimeChannel } from './early.js';
import { HELLO_LIMIT, MAX_FRAME_LIMIT } from './framing.js';
import type { Channel } from './channel.js';

/** Options of `connect()`; every field may be left out, and zero or absent means the default. */
export interface ConnectOptions {
  /**
   * The largest frame body this child accepts, in bytes, declared in its Hello
   * (spec FRAME-2): 256 to 2^31 - 1; default 16 MiB. A frame over it fails the
   * channel with FRAME_TOO_LARGE before any of it is buffered.
   */
  maxFrame?: number;
  /**
   * The longest line accepted on the Node.js binding, in bytes; longer lines
   * are dropped and reported as a notice (spec NODE-6). Default 256 MiB.
   */
  maxLine?: number;
  /** Announce CAPABILITY_CANCEL: the application watches each request's `signal`. Default true. */
  cancel?: boolean;
  /** The name and version in this child's Hello, for the parent's diagnostics. Default "cord-node" and the SDK's version. */
  implName?: string;
  implVersion?: string;
  /** Bytes waiting to be written past which `send()` returns false. Default 128 KiB, as Node.js. */
  highWater?: number;
  /** Bytes waiting to be written past which a send is refused with ENOBUFS (spec FLOW-4). Default 64 MiB. */
  maxQueue?: number;
}

/** This SDK's version, sent in the Hello. */
export const VERSION = '1.0.0';

const O_CLOEXEC = 0o2000000;

function noChannel(detail: string): CordError {
  return new CordError(Code.NO_CHANNEL, detail);
}

function positive(v: number | undefined, dflt: number, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined || v === 0) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new CordError(Code.STATE, `${name} must be an integer from ${min} to ${max}`);
  return v;
}

/**
 * True when `fd` is close-on-exec. Node.js offers no fcntl(); its startup
 * (libuv's uv_disable_stdio_inheritance) marks descriptors 0 to 15, and any
 * open ones right after them, close-on-exec before a module runs.
 */
function closeOnExec(fd: number): boolean | undefined {
  try {
    const m = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? (parseInt(m[1] as string, 8) & O_CLOEXEC) !== 0 : undefined;
  } catch {
    return undefined;
  }
}

/** True when the channel descriptor of this process is close-on-exec, for tests and the conformance testee. */
export function channelIsCloseOnExec(fd: number): boolean {
  return closeOnExec(fd) === true;
}

/** Opens the descriptor named by CORD_CHANNEL_FD after the checks of CHAN-6. */
function openCordSocket(value: string): { socket: net.Socket; fd: number } {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value) || Number(value) > 0x7fffffff) {
    throw noChannel(`CORD_CHANNEL_FD=${JSON.stringify(value)}: not a decimal descriptor number`);
  }
  const fd = Number(value);
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch {
    throw noChannel(`CORD_CHANNEL_FD=${value}: descriptor ${fd} is not open`);
  }
  if (!st.isSocket()) throw noChannel(`CORD_CHANNEL_FD=${value}: descriptor ${fd} is not a socket`);
  if (closeOnExec(fd) === false) {
    throw noChannel(`CORD_CHANNEL_FD=${value}: descriptor ${fd} is not close-on-exec and Node.js cannot make it so; ` +
      'a parent should place the channel below descriptor 16');
  }
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
  } catch {
    throw noChannel(`CORD_CHANNEL_FD=${value}: descriptor ${fd} is not an AF_UNIX stream socket`);
  }
  // Node.js wraps an AF_UNIX stream socket as a Pipe, a TCP socket as TCP.
  const kind = (socket as unknown as { _handle?: { constructor?: { name?: string } } })._handle?.constructor?.name;
  if (kind !== 'Pipe') throw noChannel(`CORD_CHANNEL_FD=${value}: descriptor ${fd} is not an AF_UNIX stream socket`);
  return { socket, fd };
}

/**
 * Opens the channel this process was started with and completes the
 * handshake. With CORD_CHANNEL_FD it speaks Cord's frames; started by a
 * Node.js-binding parent (NODE_CHANNEL_FD, which Node's runtime has already
 * opened as process.send's channel) it speaks Node's json lines. Either way
 * it removes the channel variables from the environment (CHAN-6, CHAN-9).
 *
 * Rejects with CordError: NO_CHANNEL (exit 64, spec CHAN-7, CHAN-8, NODE-3)
 * when there is no usable channel; a fatal code when the handshake fails
 * (the Error frame has been sent and the channel closed by then); CLOSED when
 * the parent closed the channel before its Hello.
 *
 * Example:
 *   const ch = await connect({ implName: 'resizer' });
 *   for await (const m of ch) { ... }
 *   await ch.close();
 */
export async function connect(options: ConnectOptions = {}): Promise<Channel> {
  const maxFrame = positive(options.maxFrame, 16 << 20, 'maxFrame', HELLO_LIMIT, MAX_FRAME_LIMIT);
  const maxLine = positive(options.maxLine, 256 << 20, 'maxLine');
  const highWater = positive(options.highWater, 128 << 10, 'highWater');
  const maxQueue = positive(options.maxQueue, 64 << 20, 'maxQueue');
  const env = process.env;
  // Node's runtime took NODE_CHANNEL_FD at startup and removed it from the environment.
  const runtime = takeRuntimeChannel();
  const cordFd = env.CORD_CHANNEL_FD;

  if (cordFd !== undefined) {
    delete env.CORD_CHANNEL_FD;
    delete env.NODE_CHANNEL_FD;
    delete env.NODE_CHANNEL_SERIALIZATION_MODE;
    if (process.channel && runtime.kind !== 'stopped') {
      throw noChannel('both CORD_CHANNEL_FD and NODE_CHANNEL_FD are set and the Node.js channel cannot be stopped');
    }
    const { socket } = openCordSocket(cordFd);
    const ch = new CordChannel(socket, {
      maxFrame, cancel: options.cancel ?? true, highWater, maxQueue,
      implName: options.implName ?? 'cord-node', implVersion: options.implVersion ?? VERSION,
    });
    try {
      await ch.handshake;
    } catch (e) {
      // The Error frame goes out and the descriptor is closed before the caller hears of it.
      await ch.close();
      throw e;
    }
    return ch;
  }

  if (runtime.kind === 'advanced') throw noChannel("NODE_CHANNEL_SERIALIZATION_MODE=advanced: only 'json' is supported"); // NODE-3
  if (runtime.kind === 'node' || typeof process.send === 'function') {
    const ch = runtime.kind === 'node' ? runtime.channel : new NodeChannel({ maxLine, highWater, maxQueue }, null);
    ch.opts = { maxLine, highWater, maxQueue };
    ch.ref();
    return ch;
  }

  throw noChannel('no CORD_CHANNEL_FD in the environment: this is a Cord child, to be started by a Cord parent');
}
