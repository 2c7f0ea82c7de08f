// node_child.js: an unmodified-style Node.js child for the parent SDK's json-binding test: it echoes, and obeys a few commands.
'use strict';
const net = require('net');

process.on('message', (m) => {
  if (m && m.cmd === 'handle') {
    // Sends a server handle: the parent must answer NODE_HANDLE_NACK, or
    // Node holds back every later message, including the next one.
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
  process.send(m);
});

process.send({ ready: true, sep: 'a\u2028b', env: process.env.NODE_CHANNEL_FD === undefined });
