// descriptors.test.mjs: a Node.js child receives no descriptor (it declares max_fds 0): one sent anyway never reaches it, and announcing one is fatal (spec FD-1, FD-7, FD-9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, frame, here, TESTEE } from './harness.mjs';

/** Sends `buf` with a descriptor of a regular file: the kind that aborts Node.js when its IPC reader accepts it. */
async function sendWithFile(c, buf, path) {
  const p = spawn('python3', [here('fixtures/sendmsg.py'), buf.toString('hex'), path], { stdio: ['ignore', 'inherit', 'inherit', c.sock._handle.fd] });
  assert.equal(await new Promise((resolve) => p.on('exit', resolve)), 0);
}

function openPaths(pid) {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } });
}

test('a descriptor sent against max_fds 0 never reaches the child, which goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cord-node-'));
  const file = join(dir, 'secret');
  writeFileSync(file, 'x');
  try {
    const c = start(TESTEE);
    const h = await c.handshake();
    assert.equal(h.maxFds, 0);
    await sendWithFile(c, frame({ case: 'message', value: { id: 1n, payload: { case: 'json', value: '"stray"' } } }), file);
    const r = await c.next();
    assert.equal(r.value.replyTo, 1n);
    assert.equal(r.value.payload.value, '"stray"');
    assert.ok(!openPaths(c.proc.pid).includes(file), 'the descriptor is not open in the child');
    c.sock.end();
    assert.equal((await c.exit).code, 0);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a message announcing descriptors fails with FD_MISMATCH, exit 76', async () => {
  const c = start(TESTEE);
  await c.handshake();
  await sendWithFile(c, frame({ case: 'message', value: { fds: 1, payload: { case: 'json', value: '1' } } }), '/dev/null');
  const e = await c.next();
  assert.equal(e.case, 'error');
  assert.equal(e.value.code, 1006);
  assert.equal(await c.next(), null);
  assert.equal((await c.exit).code, 76);
});
