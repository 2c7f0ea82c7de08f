// node_child_testee.js: Node.js itself as a child testee of its own channel, json or advanced as it is started, handles included (conformance/README.md, "On the Node.js binding").
'use strict';
const net = require('net');

// T-2 with a handle: the message goes back with the handle that came, as the
// same type. A server is closed here once written; a socket Node.js closes
// itself when the peer has answered.
function echo(m, handle) {
  if (!handle) return process.send(m);
  process.send(m, handle, () => { if (handle instanceof net.Server) handle.close(); });
}

process.on('message', (m, handle) => {
  if (m && typeof m === 'object' && typeof m.conformance === 'string') {
    const [word, arg] = m.conformance.split(' ');
    if (word === 'send') {
      for (let i = 1; i <= Number(arg); i++) process.send({ i });
    } else if (word === 'env') {
      process.send({ channel_env: 'NODE_CHANNEL_FD' in process.env || 'CORD_CHANNEL_FD' in process.env, cloexec: true });
    } else if (word === 'handle' && arg === 'listen') {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        process.send({ handle: 'listen', port: server.address().port }, server, () => server.close());
        process.send({ done: word });
      });
      return;
    } else if (word === 'exit') {
      process.send({ done: word }, () => process.exit(Number(arg)));
      return;
    }
    process.send({ done: word });
    return;
  }
  echo(m, handle);
});
