// requests.test.mjs: requests both ways, replies that do not fit, cancellation, and the local refusals the suite cannot observe (REQ-9, REQ-11, PING-5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, frame, command, here, TESTEE, HELLO } from './harness.mjs';

const raw = (s) => ({ case: 'raw', value: Buffer.from(s) });

test('a reply over the parent\'s max_frame is refused locally, and FAILED goes instead', async () => {
  const c = start(TESTEE);
  await c.handshake({ ...HELLO, maxFrame: 256 });
  c.write(frame({ case: 'message', value: { id: 7n, payload: raw('x'.repeat(250)) } }));
  const r = await c.next();
  assert.equal(r.value.replyTo, 7n);
  assert.equal(r.value.status, 1012);
  assert.equal(r.value.payload.case, undefined);
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});

test('a cancelled request is answered CANCELLED', async () => {
  const c = start(TESTEE);
  await c.handshake();
  c.write(command(3n, 'hold'));
  c.write(frame({ case: 'cancel', value: { id: 3n } }));
  const r = await c.next();
  assert.equal(r.value.replyTo, 3n);
  assert.equal(r.value.status, 1009);
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});

test('REQ-9, REQ-11, PING-5: what the child asks after the parent ended fails CLOSED, and nothing is sent', async () => {
  const c = start(here('fixtures/after-end.mjs'));
  await c.handshake();
  // The child sends one request, then waits; the parent says Goodbye instead of answering.
  const q = await c.next();
  assert.equal(q.case, 'message');
  assert.ok(q.value.id > 0n);
  c.write(frame({ case: 'goodbye', value: {} }));
  c.sock.end();
  const report = await c.next();
  assert.deepEqual(JSON.parse(report.value.payload.value), { outstanding: 'CLOSED', request: 'CLOSED', ping: 'CLOSED' });
  // No request or Ping went out after the parent's end: the Goodbye comes next.
  assert.equal((await c.next())?.case, 'goodbye');
  assert.equal(await c.next(), null);
  assert.equal((await c.exit).code, 0);
});

test('a status the wire does not carry is refused locally (ERR-2); the request can still be answered', async () => {
  const c = start(TESTEE);
  await c.handshake();
  c.write(command(4n, 'fail 2000'));
  c.write(command(5n, 'fail 10042'));
  const r4 = await c.next();
  assert.equal(r4.value.replyTo, 4n);
  assert.equal(r4.value.status, 1012);
  const r5 = await c.next();
  assert.equal(r5.value.status, 10042);
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});
