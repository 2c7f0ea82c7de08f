// dual-build.test.cjs: the CommonJS build is the same API as the ES module build, with its own types.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

test('require() gives the API, and both builds export the same names', async () => {
  const cjs = require('cord-child');
  const esm = await import('cord-child');
  assert.equal(typeof cjs.connect, 'function');
  assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).filter((k) => k !== 'default').sort());
  assert.equal(cjs.Code.CLOSED, 1011);
});

test('each build has its declarations', () => {
  for (const dir of ['esm', 'cjs']) {
    assert.ok(fs.existsSync(path.join(__dirname, '..', 'dist', dir, 'src', 'index.d.ts')), dir);
  }
});
