// node_parent.js: an unmodified Node.js parent talks to the C testee over Node's own json channel (spec section 13).
//
// Usage: node node_parent.js TESTEE TESTEE_TINY
// Each check prints one line; the last line says how many passed and failed.
'use strict';
const { spawn, fork } = require('child_process');
const net = require('net');
const assert = require('assert');

const [testee, tiny] = process.argv.slice(2);
let passed = 0;
let failed = 0;

// Starts a child with an ipc channel and returns helpers to talk to it.
function start(how, cmd) {
  const child =
    how === 'fork'
      ? fork(__filename, ['--as-child'], { execPath: cmd, execArgv: [], stdio: [0, 1, 2, 'ipc'] })
      : spawn(cmd, [], { stdio: [0, 1, 2, 'ipc'] });
  const inbox = [];
  let waiter = null;
  child.on('message', (m) => {
    inbox.push(m);
    if (waiter) waiter();
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // The next message, or a failure after 5 s: a message that never comes fails, it does not hang.
  async function next() {
    while (inbox.length === 0) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no message within 5 s')), 5000);
        waiter = () => {
          clearTimeout(t);
          waiter = null;
          resolve();
        };
      });
    }
    return inbox.shift();
  }
  return { child, next, exited };
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED ${name}: ${e.stack || e}`);
  }
}

async function main() {
  await check('echo, commands and exit code (spawn with stdio ipc)', async () => {
    const { child, next, exited } = start('spawn', testee);
    child.send({ a: 1, s: 'x\u2028y', n: [1.5, null, true] });
    assert.deepStrictEqual(await next(), { a: 1, s: 'x\u2028y', n: [1.5, null, true] });
    child.send('a plain string');
    assert.strictEqual(await next(), 'a plain string');

    // NODE-7: an internal message is not delivered, or this command would run.
    child.send({ cmd: 'NODE_X', conformance: 'send 1 json' });
    child.send({ marker: 1 });
    assert.deepStrictEqual(await next(), { marker: 1 });

    // NODE-8: a handle is answered NACK; without the answer Node would
    // withhold every later message and the echo below would never come.
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    child.send({ with: 'handle' }, server);
    child.send({ after: 'handle' });
    assert.deepStrictEqual(await next(), { after: 'handle' });
    server.close();

    child.send({ conformance: 'send 3 json' });
    for (let i = 1; i <= 3; i++) assert.deepStrictEqual(await next(), { i });
    assert.deepStrictEqual(await next(), { done: 'send' });

    child.send({ conformance: 'env' });
    assert.deepStrictEqual(await next(), { channel_env: false, cloexec: true });
    assert.deepStrictEqual(await next(), { done: 'env' });

    child.send({ conformance: 'exit 3' });
    assert.deepStrictEqual(await next(), { done: 'exit' });
    assert.deepStrictEqual(await exited, { code: 3, signal: null });
  });

  await check('disconnect ends the child with status 0 (NODE-10)', async () => {
    const { child, next, exited } = start('spawn', testee);
    child.send([1, 2, 3]);
    assert.deepStrictEqual(await next(), [1, 2, 3]);
    child.disconnect();
    assert.deepStrictEqual(await exited, { code: 0, signal: null });
  });

  await check('tiny child under fork(): long lines are dropped, the channel stays (NODE-6)', async () => {
    const { child, next, exited } = start('fork', tiny);
    child.send({ big: 'x'.repeat(1000) });
    child.send({ small: 'y'.repeat(200) });
    assert.deepStrictEqual(await next(), { small: 'y'.repeat(200) });
    let n = 0;
    for (let i = 0; i < 200; i++) child.send({ i });
    for (let i = 0; i < 200; i++) if ((await next()).i === i) n++;
    assert.strictEqual(n, 200);
    child.disconnect();
    assert.deepStrictEqual(await exited, { code: 0, signal: null });
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
