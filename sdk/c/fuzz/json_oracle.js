// json_oracle.js: Node.js's own judgement of a line, for the differential fuzzer: is it JSON, and is it internal (NODE-7)?
// It reads requests on standard input: u32 length, the text, then the C side's answers
// (valid u8, kind u8, handle type u8, msg offset u32, msg length u32, all little-endian),
// and writes one line per request: "ok", or what differs.
'use strict';
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const KINDS = ['user', 'NODE_HANDLE', 'NODE_HANDLE_ACK', 'NODE_HANDLE_NACK', 'other'];
const TYPES = [null, 'net.Socket', 'net.Server', 'net.Native', 'dgram.Socket', 'dgram.Native'];

// Node.js's rule (lib/internal/child_process.js, isInternal), in this file's words.
function kindOf(m) {
  if (m === null || typeof m !== 'object' || typeof m.cmd !== 'string') return 0;
  if (m.cmd.length <= 5 || m.cmd.slice(0, 5) !== 'NODE_') return 0;
  const k = KINDS.indexOf(m.cmd);
  return k > 0 ? k : 4;
}

function parse(buf) {
  // What Node.js's reader does with a line of bytes: decode UTF-8, then JSON.parse.
  // Strict decoding, so that bytes that are not UTF-8 count as "not JSON", as RFC 8259 says.
  return JSON.parse(decoder.decode(buf));
}

// Equality of two parsed JSON values, with a stack of its own: JSON.stringify
// would overflow Node.js's stack on the depths the fuzzer makes.
function jsonEqual(a, b) {
  const todo = [[a, b]];
  while (todo.length) {
    const [x, y] = todo.pop();
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x), ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
      todo.push([x[k], y[k]]);
    }
  }
  return true;
}

function judge(text, valid, kind, type, off, len) {
  let m;
  try {
    m = parse(text);
  } catch (e) {
    return valid ? 'C accepts what JSON.parse refuses: ' + e.message : 'ok';
  }
  if (!valid) return 'C refuses what JSON.parse accepts';
  const k = kindOf(m);
  if (k !== kind) return `kind: Node.js ${KINDS[k]}, C ${KINDS[kind]}`;
  if (k !== 1) return 'ok';
  const t = TYPES.indexOf(m.type) > 0 ? TYPES.indexOf(m.type) : 0;
  if (t !== type) return `type: Node.js ${t}, C ${type}`;
  if (m.msg === undefined) return len === 0 ? 'ok' : 'msg: Node.js has none, C has a span';
  if (len === 0) return 'msg: C found no span';
  return jsonEqual(parse(text.subarray(off, off + len)), m.msg) ? 'ok' : 'msg: the span differs';
}

require('./serve')((buf) => {
  if (buf.length < 4 || buf.length < 4 + buf.readUInt32LE(0) + 11) return null;
  const n = buf.readUInt32LE(0), a = 4 + n;
  return [a + 11, [buf.subarray(4, a), buf[a], buf[a + 1], buf[a + 2], buf.readUInt32LE(a + 3), buf.readUInt32LE(a + 7)]];
}, judge, 'the oracle failed: ');
