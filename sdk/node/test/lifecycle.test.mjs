// lifecycle.test.mjs: everything queued is written before an exit (END-7), and the send queue is bounded (FLOW-4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, command, here, TESTEE } from './harness.mjs';

test('20000 messages sent just before exit all arrive, then the exit status', async () => {
  const c = start(TESTEE);
  await c.handshake();
  c.write(command(1n, 'send 20000 raw'));
  c.write(command(2n, 'exit 5'));
  let seen = 0;
  for (let f = await c.next(); f; f = await c.next()) {
    if (f.case === 'message' && f.value.replyTo === 0n) assert.equal(Buffer.from(f.value.payload.value).toString(), String(++seen));
  }
  assert.equal(seen, 20000);
  assert.equal((await c.exit).code, 5);
});

test('a send past the queue\'s bound is refused with ENOBUFS, and what was queued arrives whole', async () => {
  const c = start(here('fixtures/flood.mjs'), { paused: true });
  c.resume();
  await c.handshake();
  // The parent reads nothing more until the child has hit the bound and said so on standard error.
  c.sock.pause();
  await c.stderrMatch(/refused/);
  c.resume();
  let n = 0, report = null;
  for (let f = await c.next(); f; f = await c.next()) {
    if (f.value.payload.case === 'raw') assert.equal(f.value.payload.value.length, 1000, `message ${++n}`);
    else report = JSON.parse(f.value.payload.value);
    if (report) break;
  }
  assert.equal(report.refused, 'ENOBUFS');
  assert.equal(report.queued, n);
  assert.ok(n * 1008 <= 256 * 1024 + 4 * 1024 * 1024, `${n} messages fit the bound and the socket buffers`);
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});
