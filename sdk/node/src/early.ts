// early.ts: takes the channel from Node's runtime as soon as the SDK is loaded, before Node's own reader parses what the parent sends.

import { NodeChannel, runtimeChannelHandle, runtimeSerialization } from './node.js';

/**
 * What the runtime's channel became: nothing (no Node.js channel), stopped
 * (CORD_CHANNEL_FD names the channel, CHAN-9), refused (advanced
 * serialization, NODE-3), or taken by a NodeChannel.
 */
export type RuntimeChannel =
  | { readonly kind: 'none' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'advanced' }
  | { readonly kind: 'node'; readonly channel: NodeChannel };

/** Shared by every copy of the SDK in the process (its ES module and CommonJS builds alike). */
const KEY = Symbol.for('cord-child.runtime-channel');

/** The default options of a Node.js-binding channel; `connect()` replaces them with the caller's. */
export const NODE_DEFAULTS = { maxLine: 256 << 20, highWater: 128 << 10, maxQueue: 64 << 20 };

/**
 * Takes the runtime's channel, once per process; later calls return what the
 * first one did. Node's runtime opened NODE_CHANNEL_FD and started reading it
 * before any module ran; in CommonJS this runs before the event loop first
 * turns, so nothing has been read yet.
 */
export function takeRuntimeChannel(): RuntimeChannel {
  const g = globalThis as unknown as Record<symbol, RuntimeChannel | undefined>;
  const known = g[KEY];
  if (known) return known;
  let taken: RuntimeChannel = { kind: 'none' };
  const handle = typeof process.send === 'function' ? runtimeChannelHandle() : null;
  if (process.env.CORD_CHANNEL_FD !== undefined) {
    if (handle && process.channel) {
      // CHAN-9: the descriptor is Cord's; Node's reader would take a frame for a broken JSON line.
      const h = handle as unknown as { readStop(): number; onread: unknown };
      h.readStop();
      h.onread = () => {};
      (process.channel as unknown as { unref(): void }).unref();
      taken = { kind: 'stopped' };
    }
  } else if (typeof process.send === 'function') {
    if (handle && runtimeSerialization(handle) === 'advanced') taken = { kind: 'advanced' };
    else if (handle || !process.connected) taken = { kind: 'node', channel: new NodeChannel({ ...NODE_DEFAULTS }, handle) };
    // Without a handle to take, connect() falls back to process.on('message').
  }
  if (taken.kind !== 'none') g[KEY] = taken;
  return taken;
}

takeRuntimeChannel();
