// environment.test.mjs: how the child finds its channel, and refuses one it cannot use (spec CHAN-6 to CHAN-9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, command, TESTEE } from './harness.mjs';

async function refused(opts, pattern) {
  const c = start(TESTEE, opts);
  const { code } = await c.exit;
  assert.equal(code, 64);
  assert.match(c.stderr, pattern);
  assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr);
}

test('without a channel the child says what it is and exits 64 (CHAN-7)', () =>
  refused({ binding: 'none', stdio: ['ignore', 'pipe', 'pipe'] }, /this is a Cord child, to be started by a Cord parent/));

test('a value that is not a number is refused (CHAN-8)', () =>
  refused({ env: { CORD_CHANNEL_FD: '03' } }, /CORD_CHANNEL_FD="03": not a decimal descriptor number/));

test('a descriptor that is not open is refused (CHAN-8)', () =>
  refused({ env: { CORD_CHANNEL_FD: '900' } }, /descriptor 900 is not open/));

test('a descriptor that is not a socket is refused (CHAN-8)', async () => {
  const fs = await import('node:fs');
  const fd = fs.openSync('/dev/null', 'r');
  try {
    await refused({ stdio: ['ignore', 'pipe', 'pipe', fd] }, /descriptor 3 is not a socket/);
  } finally {
    fs.closeSync(fd);
  }
});

test('a channel Node.js cannot make close-on-exec is refused, not leaked to grandchildren (CHAN-6)', () => {
  // Node's startup marks 0 to 15 (and the open ones after them) close-on-exec; 20, after a gap, stays inheritable.
  const stdio = ['ignore', 'pipe', 'pipe', ...Array(17).fill('ignore'), 'pipe'];
  return refused({ stdio, env: { CORD_CHANNEL_FD: '20' } }, /descriptor 20 is not close-on-exec/);
});

test('the channel variables are gone and the descriptor is close-on-exec, with both variables set too (CHAN-6, CHAN-9)', async () => {
  const c = start(TESTEE, { env: { NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'json' } });
  await c.handshake();
  c.write(command(1n, 'env'));
  const r = await c.next();
  assert.deepEqual(JSON.parse(r.value.payload.value), { channel_env: false, cloexec: true });
  c.sock.end();
  assert.equal((await c.exit).code, 0);
});
