// under_node.js: an unmodified Node.js parent forks the echo child over Node's own json channel.
const { spawn } = require('child_process');
const c = spawn(process.argv[2] || './cord-child-echo', [], { stdio: [0, 1, 2, 'ipc'] });
c.on('message', (m) => { console.log(JSON.stringify(m)); c.disconnect(); });
c.on('exit', (code) => console.log('exit ' + code));
c.send({ hello: 'world' });
