// framing.test.mjs: the frame reader takes any split of the stream (FRAME-11) and checks a length before it buffers a byte of the body (FRAME-5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader } from '../dist/esm/src/framing.js';

const frames = [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('last')];
const stream = Buffer.concat(frames.flatMap((b) => { const h = Buffer.alloc(4); h.writeUInt32BE(b.length); return [h, b]; }));

function read(pieces, limit = 1000) {
  const r = new FrameReader(limit, 1001);
  const out = [];
  for (const p of pieces) for (const body of r.push(p)) out.push(Buffer.from(body));
  return { out, boundary: r.atBoundary };
}

test('every cut of the stream into two reads gives the same frames', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const { out, boundary } = read([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(out, frames, `cut at ${cut}`);
    assert.ok(boundary);
  }
});

test('one byte at a time gives the same frames, and a partial frame is not a boundary', () => {
  const r = new FrameReader(1000, 1001);
  const out = [];
  for (let i = 0; i < stream.length; i++) {
    for (const body of r.push(stream.subarray(i, i + 1))) out.push(Buffer.from(body));
    if (i === 5) assert.equal(r.atBoundary, false);
  }
  assert.deepEqual(out, frames);
});

test('a length over the limit fails on its prefix alone, whatever follows', () => {
  const r = new FrameReader(256, 1001);
  assert.throws(() => [...r.push(Buffer.from([0, 0, 1, 1]))], (e) => e.code === 1001 && /257 bytes exceeds max_frame 256/.test(e.message));
});

test('a prefix with the top bit set exceeds any limit (FRAME-3)', () => {
  const r = new FrameReader(0x7fffffff, 1001);
  assert.throws(() => [...r.push(Buffer.from([0x80, 0, 0, 0]))], (e) => e.code === 1001);
});
