// v8_oracle.js: Node.js's own reading of a V8 payload, for the differential fuzzer: does Node.js take it, and is the C codec's re-encoding the same value?
// Run as `node --expose-internals v8_oracle.js`: it reads the payloads through Node.js's advanced
// channel reader itself. Requests on standard input: u32 length, the payload, then u32 length and
// the C side's encoding of what it decoded (length 0xffffffff: C refused the payload). One line
// per request: "both-refuse", "node-refuses <why>", "node-accepts", "equal", or "differs <where>".
'use strict';
const { advanced } = require('internal/child_process/serialization');

function nodeRead(payload) {
  const channel = {};
  advanced.initMessageChannel(channel);
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  for (const m of advanced.parseChannelMessages(channel, frame)) return { value: m };
  return null;
}

// Structural equality that also holds sharing and cycles to one mapping.
function same(a, b, seen, path) {
  if (Object.is(a, b) && (typeof a !== 'object' || a === null)) return null;
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b) ? null : `${path}: ${String(a)} vs ${String(b)}`;
  if (seen.has(a)) return seen.get(a) === b ? null : `${path}: sharing differs`;
  seen.set(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  const tag = Object.prototype.toString.call(a);
  if (a instanceof Date) return Object.is(a.getTime(), b.getTime()) ? null : `${path}: dates differ`;
  if (a instanceof RegExp) return a.source === b.source && a.flags === b.flags ? null : `${path}: regexps differ`;
  if (['[object Boolean]', '[object Number]', '[object String]', '[object BigInt]'].includes(tag))
    return Object.is(a.valueOf(), b.valueOf()) ? null : `${path}: boxed values differ`;
  if (a instanceof ArrayBuffer) return Buffer.from(a).equals(Buffer.from(b)) ? null : `${path}: buffers differ`;
  if (ArrayBuffer.isView(a))
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
      ? null : `${path}: views differ`;
  if (a instanceof Error) {
    for (const k of ['message', 'stack', 'cause']) {
      if (Object.prototype.hasOwnProperty.call(a, k) !== Object.prototype.hasOwnProperty.call(b, k)) return `${path}.${k}: presence differs`;
      const d = same(a[k], b[k], seen, `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (a instanceof Map || a instanceof Set) {
    const x = [...a.entries()], y = [...b.entries()];
    if (x.length !== y.length) return `${path}: sizes differ`;
    for (let i = 0; i < x.length; i++) {
      const d = same(x[i][0], y[i][0], seen, `${path}[${i}]`) || same(x[i][1], y[i][1], seen, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(a) && a.length !== b.length) return `${path}: lengths differ`;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.join('\0') !== kb.join('\0')) return `${path}: keys differ`;
  for (const k of ka) {
    const d = same(a[k], b[k], seen, `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

function judge(payload, cEncoding) {
  let n;
  try {
    n = nodeRead(payload);
  } catch (e) {
    return cEncoding ? 'node-refuses ' + String(e.message).split('\n')[0] : 'both-refuse';
  }
  if (!n) return cEncoding ? 'node-refuses: no value' : 'both-refuse';
  if (!cEncoding) return 'node-accepts';
  let c;
  try {
    c = nodeRead(cEncoding);
  } catch (e) {
    return 'differs: Node.js cannot read C\'s encoding: ' + String(e.message).split('\n')[0];
  }
  const d = same(n.value, c.value, new Map(), '$');
  return d ? 'differs ' + d : 'equal';
}

require('./serve')((buf) => {
  if (buf.length < 4 || buf.length < 8 + buf.readUInt32LE(0)) return null;
  const n = buf.readUInt32LE(0), m = buf.readUInt32LE(4 + n), clen = m === 0xffffffff ? 0 : m;
  if (buf.length < 8 + n + clen) return null;
  return [8 + n + clen, [buf.subarray(4, 4 + n), m === 0xffffffff ? null : buf.subarray(8 + n, 8 + n + clen)]];
}, judge, 'differs: the oracle failed: ');
