// node_parent_testee.js: Node.js itself as a parent testee of the json binding: forks CHILD-COMMAND with an ipc channel and follows the contract.
'use strict';
const { spawn } = require('child_process');

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], serialization: 'json' });

child.on('error', (e) => {
  process.stderr.write(`node-parent-testee: ${e.message}\n`);
  process.exit(1);
});
child.on('message', (m) => {
  if (m && typeof m === 'object' && typeof m.conformance === 'string') {
    const [word, arg] = m.conformance.split(' ');
    if (word === 'send') {
      for (let i = 1; i <= Number(arg); i++) child.send({ i });
    } else if (word === 'goodbye') {
      child.send({ done: word });
      child.disconnect();
      return;
    }
    child.send({ done: word });
    return;
  }
  child.send(m);
});
child.on('exit', (code, signal) => {
  // T-6: how the child ended, on one line.
  process.stdout.write(signal ? `signal ${require('os').constants.signals[signal]}\n` : `exit ${code}\n`);
});
