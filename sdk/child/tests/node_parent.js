// node_parent.js: an unmodified Node.js parent talks to the C testee over Node's own json channel (spec section 13).
//
// Usage: node node_parent.js TESTEE TESTEE_TINY NODE_SERVER_CHILD
// Each check prints one line; the last line says how many passed and failed.
'use strict';
const { spawn, fork } = require('child_process');
const fs = require('fs');
const net = require('net');
const assert = require('assert');

const [testee, tiny, serverChild] = process.argv.slice(2);
let passed = 0;
let failed = 0;

// Starts a child with an ipc channel and returns helpers to talk to it.
function start(how, cmd) {
  const child =
    how === 'fork'
      ? fork(__filename, ['--as-child'], { execPath: cmd, execArgv: [], stdio: [0, 1, 2, 'ipc'] })
      : spawn(cmd, [], { stdio: [0, 1, 2, 'ipc'] });
  const inbox = [];
  const handles = [];
  let waiter = null;
  child.on('message', (m, h) => {
    inbox.push(m);
    handles.push(h);
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
  // The next message and the handle that came with it (undefined if none).
  async function nextWithHandle() {
    const m = await next();
    return [m, handles.shift()];
  }
  const nextPlain = async () => {
    const m = await next();
    handles.shift();
    return m;
  };
  return { child, next: nextPlain, nextWithHandle, exited };
}

function listening(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

// Connects to port, writes text, and resolves with everything read until the other end ends.
function talk(port, text) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(text));
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
}

// The descriptors a process holds (Linux).
function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
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
    const { child, next, nextWithHandle, exited } = start('spawn', testee);
    child.send({ a: 1, s: 'x\u2028y', n: [1.5, null, true] });
    assert.deepStrictEqual(await next(), { a: 1, s: 'x\u2028y', n: [1.5, null, true] });
    child.send('a plain string');
    assert.strictEqual(await next(), 'a plain string');

    // NODE-7: an internal message is not delivered, or this command would run.
    child.send({ cmd: 'NODE_X', conformance: 'send 1 json' });
    child.send({ marker: 1 });
    assert.deepStrictEqual(await next(), { marker: 1 });

    // NODE-8: a handle is answered; without the answer Node would
    // withhold every later message and the echo below would never come.
    // The testee echoes the message with its handle.
    const server = net.createServer();
    await listening(server);
    child.send({ with: 'handle' }, server);
    child.send({ after: 'handle' });
    const [echo, echoed] = await nextWithHandle();
    assert.deepStrictEqual(echo, { with: 'handle' });
    assert.ok(echoed instanceof net.Server, 'echoed with its handle');
    echoed.close();
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

  await check('a server passed to 4 C children: each accepts a connection and passes it back (NODE-8, NODE-14)', async () => {
    const kids = [0, 1, 2, 3].map(() => start('spawn', serverChild));
    const server = net.createServer();
    await listening(server);
    const port = server.address().port;
    // Each send's callback runs once its handle is written; the parent then stops listening itself.
    await Promise.all(kids.map((k) => new Promise((resolve) => k.child.send({ serve: true }, server, resolve))));
    server.close();
    for (const k of kids) assert.deepStrictEqual(await k.next(), { listening: true });
    // Each child accepts one connection, greets it and passes it to this parent, which reads from it and answers.
    const served = kids.map(async (k) => {
      const [m, socket] = await k.nextWithHandle();
      assert.deepStrictEqual(m, { socket: true });
      assert.ok(socket instanceof net.Socket, 'a connected socket arrives as a net.Socket');
      const line = await new Promise((resolve) => socket.once('data', resolve));
      socket.end(`parent read ${String(line).trim()}\n`);
      return String(line).trim();
    });
    const answers = await Promise.all([0, 1, 2, 3].map((i) => talk(port, `client ${i}\n`)));
    const read = (await Promise.all(served)).sort();
    assert.deepStrictEqual(read, ['client 0', 'client 1', 'client 2', 'client 3']);
    answers.sort();
    for (let i = 0; i < 4; i++)
      assert.strictEqual(answers[i], `accepted by the C child\nparent read client ${i}\n`);
    for (const k of kids) k.child.disconnect();
    for (const k of kids) assert.deepStrictEqual(await k.exited, { code: 0, signal: null });
  });

  await check('the testee passes a listening socket as a net.Server, and echoes handles as their type', async () => {
    const { child, next, nextWithHandle, exited } = start('spawn', testee);
    child.send({ conformance: 'handle listen' });
    const [m, server] = await nextWithHandle();
    assert.strictEqual(m.handle, 'listen');
    assert.ok(server instanceof net.Server, 'the handle is a net.Server');
    assert.strictEqual(server.address().port, m.port);
    const accepted = new Promise((resolve) => server.once('connection', (s) => s.end('from the server\n', resolve)));
    assert.strictEqual(await talk(m.port, 'x'), 'from the server\n');
    await accepted;
    server.close();
    assert.deepStrictEqual(await next(), { done: 'handle' });

    // A connected socket goes and comes back as a net.Socket, still connected.
    const far = net.createServer((s) => s.pipe(s));
    await listening(far);
    const near = net.connect(far.address().port, '127.0.0.1');
    await new Promise((resolve) => near.once('connect', resolve));
    near.pause(); // as Node's documentation says of a socket passed on
    child.send({ sock: 1 }, near);
    const [e, back] = await nextWithHandle();
    assert.deepStrictEqual(e, { sock: 1 });
    assert.ok(back instanceof net.Socket);
    back.write('echo me');
    assert.strictEqual(String(await new Promise((resolve) => back.once('data', resolve))), 'echo me');
    back.destroy();
    near.destroy(); // this parent's own copy of the socket it passed
    far.close();
    child.disconnect();
    assert.deepStrictEqual(await exited, { code: 0, signal: null });
  });

  await check('a child without descriptor passing: the handle is refused, its message still delivered (NODE-16)', async () => {
    const { child, next, nextWithHandle, exited } = start('spawn', tiny);
    const server = net.createServer();
    await listening(server);
    child.send({ with: 'handle' }, server);
    child.send({ after: 'handle' });
    const [m, h] = await nextWithHandle();
    assert.deepStrictEqual(m, { with: 'handle' });
    assert.strictEqual(h, undefined, 'echoed without it');
    assert.deepStrictEqual(await next(), { after: 'handle' });
    server.close();
    child.disconnect();
    assert.deepStrictEqual(await exited, { code: 0, signal: null });
  });

  await check('a flood of handles: every one answered and echoed, the child holding few descriptors', async () => {
    const { child, nextWithHandle, exited } = start('spawn', testee);
    const server = net.createServer();
    await listening(server);
    const before = fdCount(child.pid);
    for (let i = 0; i < 200; i++) child.send({ i }, server);
    let most = 0;
    for (let i = 0; i < 200; i++) {
      const [m, h] = await nextWithHandle();
      assert.deepStrictEqual(m, { i });
      assert.ok(h instanceof net.Server);
      h.close();
      most = Math.max(most, fdCount(child.pid));
    }
    assert.ok(most <= before + 2, `the child held ${most} descriptors, ${before} before the flood`);
    server.close();
    child.disconnect();
    assert.deepStrictEqual(await exited, { code: 0, signal: null });
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
