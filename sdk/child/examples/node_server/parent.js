// parent.js: a Node.js program runs a Cord C child: messages both ways, a server passed to it, a connection passed back.
'use strict';
const { spawn } = require('child_process');
const net = require('net');

const child = spawn(process.argv[2], [], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
const server = net.createServer();
let port;

server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  child.send({ hello: 'C' });
  // The C child accepts on the server; the parent stops listening once it is passed.
  child.send({ serve: true }, server, () => server.close());
});

child.on('message', (msg, socket) => {
  console.log('message', JSON.stringify(msg));
  if (msg.listening) {
    const client = net.connect(port, '127.0.0.1', () => client.write('hello\n'));
    let text = '';
    client.on('data', (d) => (text += d));
    client.on('end', () => {
      process.stdout.write(text);
      child.disconnect(); // the C child's cord_chan_recv() returns 0, and it exits
    });
  }
  if (socket) // the connection the C child accepted, as a net.Socket
    socket.once('data', (d) => socket.end(`Node.js read ${JSON.stringify(String(d))}\n`));
});
child.on('exit', (code) => console.log('exit', code));
