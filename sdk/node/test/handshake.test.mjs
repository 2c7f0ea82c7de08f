// handshake.test.mjs: the child's Hello and the handshake failures it reports (spec section 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, frame, TESTEE, HELLO } from './harness.mjs';

test('the Hello declares version 1, max_fds 0, cancel, and fits in 256 bytes', async () => {
  const c = start(TESTEE);
  const h = await c.handshake();
  assert.equal(h.magic, 0x44524f43);
  assert.ok(h.minVersion <= 1 && h.maxVersion >= 1);
  assert.equal(h.maxFds, 0);
  assert.equal(h.capabilities, 1n);
  assert.equal(h.implName, 'cord-node-testee');
  assert.equal(h.pid, c.proc.pid);
  c.sock.end();
  assert.equal((await c.next())?.case, 'goodbye');
  assert.equal(await c.next(), null);
  assert.deepEqual(await c.exit, { code: 0, signal: null });
});

test('bytes that are not Cord fail with NOT_CORD, a preview of them, and exit 76', async () => {
  const c = start(TESTEE);
  c.write(Buffer.from('Hello world\n'));
  const hello = await c.next();
  assert.equal(hello.case, 'hello');
  const err = await c.next();
  assert.equal(err.case, 'error');
  assert.equal(err.value.code, 1003);
  assert.match(err.value.detail, /48 65 6c 6c 6f 20 77 6f 72 6c 64 0a \|Hello world\.\|/);
  assert.equal(await c.next(), null);
  assert.equal((await c.exit).code, 76);
});

test('no common version: the detail names both ranges', async () => {
  const c = start(TESTEE);
  c.write(frame({ case: 'hello', value: { ...HELLO, minVersion: 2, maxVersion: 3 } }));
  await c.next();
  const err = await c.next();
  assert.equal(err.value.code, 1004);
  assert.equal(err.value.detail, 'no common version: we speak 1..1, peer speaks 2..3');
  assert.equal((await c.exit).code, 76);
});

test('a message before the Hello is not delivered: UNEXPECTED_FRAME', async () => {
  const c = start(TESTEE);
  c.write(frame({ case: 'message', value: { id: 1n, payload: { case: 'raw', value: Buffer.from('x') } } }));
  await c.next();
  const err = await c.next();
  assert.equal(err.case, 'error');
  assert.equal(err.value.code, 1005);
  assert.equal(await c.next(), null);
  assert.equal((await c.exit).code, 76);
});

test('end of file before the Hello closes quietly', async () => {
  const c = start(TESTEE);
  c.sock.end();
  assert.equal((await c.next())?.case, 'hello');
  assert.equal(await c.next(), null);
  assert.equal((await c.exit).code, 0);
});
