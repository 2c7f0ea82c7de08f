// node_parent_testee.js: Node.js itself as a parent testee of its own channel: forks CHILD-COMMAND with an ipc channel, json or advanced as CORD_CONFORMANCE_BINDING says, and follows the contract, handles included.
'use strict';
const net = require('net');
const { spawn } = require('child_process');

const [cmd, ...args] = process.argv.slice(2);
const serialization = process.env.CORD_CONFORMANCE_BINDING === 'advanced' ? 'advanced' : 'json';
const child = spawn(cmd, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], serialization });

child.on('error', (e) => {
  process.stderr.write(`node-parent-testee: ${e.message}\n`);
  process.exit(1);
});
child.on('message', (m, handle) => {
  if (m && typeof m === 'object' && typeof m.conformance === 'string') {
    const [word, arg] = m.conformance.split(' ');
    if (word === 'send') {
      for (let i = 1; i <= Number(arg); i++) child.send({ i });
    } else if (word === 'handle' && arg === 'listen') {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        child.send({ handle: 'listen', port: server.address().port }, server, () => server.close());
        child.send({ done: word });
      });
      return;
    } else if (word === 'goodbye') {
      child.send({ done: word });
      child.disconnect();
      return;
    }
    child.send({ done: word });
    return;
  }
  // T-2, with the handle that came, as the same type.
  if (!handle) child.send(m);
  else child.send(m, handle, () => { if (handle instanceof net.Server) handle.close(); });
});
child.on('exit', (code, signal) => {
  // T-6: how the child ended, on one line.
  process.stdout.write(signal ? `signal ${require('os').constants.signals[signal]}\n` : `exit ${code}\n`);
});
