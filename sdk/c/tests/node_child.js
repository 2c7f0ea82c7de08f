// node_child.js: an unmodified-style Node.js child for the parent SDK's json-binding tests: it echoes, and obeys a few commands.
'use strict';
const net = require('net');

process.on('message', (m) => {
  if (m && m.cmd === 'handle') {
    // Sends a server handle: the parent must answer it, or Node holds
    // back every later message, including the next one.
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      process.send({ with: 'handle' }, srv);
      process.send({ after: 'handle' });
      srv.close();
    });
    return;
  }
  if (m && m.cmd === 'exit') {
    process.exit(m.code);
  }
  if (m && m.cmd === 'internal') {
    // Internal messages (their "cmd" starts NODE_) holding what some JSON
    // parsers refuse, then an ordinary one: only that one is the
    // application's (NODE-7).
    process.send({ cmd: 'NODE_EDGE', big: 2 ** 64 });
    process.send({ cmd: 'NODE_EDGE', lone: '\ud800' });
    let deep = 'x';
    for (let i = 0; i < 2100; i++) deep = [deep];
    process.send({ cmd: 'NODE_EDGE', deep });
    process.send({ '\u0063md': 'NODE_ESCAPED' });
    process.send({ after: 'internal' });
    return;
  }
  if (m && m.cmd === 'long') {
    // Lines longer than a parent's small max_frame, then a short one.
    for (const n of m.sizes) process.send('x'.repeat(n));
    process.send({ after: 'long' });
    return;
  }
  process.send(m);
});

process.send({ ready: true, sep: 'a\u2028b', env: process.env.NODE_CHANNEL_FD === undefined });
