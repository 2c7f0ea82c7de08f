// errors.test.mjs: the SDK's error table is the spec's (section 11): same codes, same names, same fatal column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Code, codeName, isFatal, exitStatusFor, CordError } from 'cord-child';

const spec = readFileSync(new URL('../../../spec/cord-v1.md', import.meta.url), 'utf8');
const rows = [...spec.matchAll(/^\| (\d{4}) \| ([A-Z_]+) \| CORD_E\w+ \| (yes|no) \|/gm)];

test('every row of the spec\'s table is in the SDK, with its name and fatality', () => {
  assert.ok(rows.length >= 17, `found ${rows.length} rows`);
  for (const [, code, name, fatal] of rows) {
    assert.equal(Code[name], Number(code), name);
    assert.equal(codeName(Number(code)), name);
    assert.equal(isFatal(Number(code)), fatal === 'yes', name);
  }
});

test('exit statuses: 64 without a channel, 76 after a fatal error, 0 after a plain end', () => {
  assert.equal(exitStatusFor(new CordError(Code.NO_CHANNEL, 'x')), 64);
  assert.equal(exitStatusFor(new CordError(Code.TRUNCATED, 'x')), 76);
  assert.equal(exitStatusFor(new CordError(Code.CLOSED, 'x')), 0);
  assert.equal(exitStatusFor(new Error('bug')), 1);
});
