// node-binding.test.mjs: the same API on Node.js's own channel (spec section 13), under a real Node.js parent and under a raw one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { start, here, TESTEE } from './harness.mjs';

const NODE_CHILD = here('fixtures/node-child.cjs');

test('an unmodified Node.js parent forks the child: messages both ways, then disconnect', async () => {
  const child = fork(NODE_CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const got = [];
  child.on('message', (m) => got.push(m));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const first = new Promise((resolve) => child.once('message', resolve));
  assert.deepEqual(await first, { ready: 'node-json' });
  child.send({ seq: 1, s: 'a\u2028b' });
  child.send('plain');
  await new Promise((resolve) => child.on('message', () => got.length >= 3 && resolve()));
  child.disconnect();
  assert.equal(await exited, 0);
  assert.deepEqual(got.slice(1), [{ seq: 1, s: 'a\u2028b' }, 'plain']);
});

test('a handle is refused with NACK, other internal messages are not delivered (NODE-7, NODE-8)', async () => {
  const c = start(TESTEE, { binding: 'node-json' });
  c.write(Buffer.from('{"cmd":"NODE_HANDLE","type":"net.Native","msg":{}}\n{"cmd":"NODE_OTHER"}\n{"cmd":"NODE_HANDLE_ACK"}\n{"after":1}\n'));
  assert.deepEqual(await c.line(), { cmd: 'NODE_HANDLE_NACK' });
  assert.deepEqual(await c.line(), { after: 1 });
  c.sock.end();
  assert.equal(await c.line(), null);
  assert.equal((await c.exit).code, 0);
});

test('a line over the limit is dropped and reported; the channel stays open (NODE-6)', async () => {
  const c = start(here('fixtures/node-child.cjs'), { binding: 'node-json', env: { CORD_TEST_MAX_LINE: '1000' } });
  assert.deepEqual(await c.line(), { ready: 'node-json' });
  // The long line arrives in pieces, as a real peer's would.
  c.write(Buffer.from('"' + 'L'.repeat(600)));
  await new Promise((resolve) => setTimeout(resolve, 10));
  c.write(Buffer.from('L'.repeat(600) + '"\n{"probe":1}\n'));
  assert.deepEqual(await c.line(), { notice: 1001 });
  assert.deepEqual(await c.line(), { probe: 1 });
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});

test('a line that is not JSON fails the channel cleanly: exit 76, no crash', async () => {
  const c = start(TESTEE, { binding: 'node-json' });
  c.write(Buffer.from('{"ok":1}\n'));
  assert.deepEqual(await c.line(), { ok: 1 });
  c.write(Buffer.from('not json\n'));
  assert.equal(await c.line(), null);
  assert.equal((await c.exit).code, 76);
  assert.doesNotMatch(c.stderr, /at .*\(/, 'no stack trace');
});

test('a partial line at end of file is TRUNCATED: exit 76 (NODE-10)', async () => {
  const c = start(TESTEE, { binding: 'node-json' });
  c.write(Buffer.from('{"cut":'));
  c.sock.end();
  assert.equal(await c.line(), null);
  assert.equal((await c.exit).code, 76);
});

test('what the binding cannot carry is refused locally (NODE-4, NODE-7, NODE-9)', async () => {
  const c = start(here('fixtures/node-child.cjs'), { binding: 'node-json', env: { CORD_TEST_REFUSALS: '1' } });
  assert.deepEqual(await c.line(), { ready: 'node-json' });
  assert.deepEqual(await c.line(), {
    raw: 'NODE_UNREPRESENTABLE', typed: 'NODE_UNREPRESENTABLE', empty: 'NODE_UNREPRESENTABLE',
    newline: 'NODE_UNREPRESENTABLE', internal: 'NODE_UNREPRESENTABLE', request: 'NODE_UNREPRESENTABLE', ping: 'NODE_UNREPRESENTABLE',
  });
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});
