// node_handles.js: an unmodified-style Node.js child that passes and takes handles, as cluster workers and socket-passing programs do.
'use strict';
const net = require('net');
const dgram = require('dgram');
const fs = require('fs');

const id = process.argv[2] || '0';

process.on('message', (m, handle) => {
  if (m && m.listen) {
    // What a cluster worker does with the server its primary passes: it
    // accepts on it. Each worker takes one connection, then stops, so the
    // next connection must go to another worker.
    handle.on('connection', (s) => {
      handle.close();
      s.end(`worker ${id}\n`);
    });
    process.send({ listening: id, server: handle instanceof net.Server });
  } else if (m && m.udp) {
    // A dgram.Socket from the parent: answer a datagram to the address given.
    handle.send(`udp ${id}`, m.udp, '127.0.0.1', () => process.send({ sent: 'udp', dgram: handle instanceof dgram.Socket }));
  } else if (m && m.cmd === 'give-socket') {
    // A connection of our own server, passed to the parent; we keep the
    // other end and report what comes through it. pauseOnConnect, as
    // Node's documentation of send() says: a socket that reads before it
    // is sent loses what it read.
    const srv = net.createServer({ pauseOnConnect: true }, (s) => {
      process.send({ socket: 'here' }, s);
      srv.close();
    });
    srv.listen(0, '127.0.0.1', () => {
      const client = net.connect(srv.address().port, '127.0.0.1', () => client.write('from node\n'));
      client.on('data', (d) => {
        process.send({ client_got: d.toString() });
        client.end();
      });
    });
  } else if (m && m.cmd === 'give-stdin') {
    // Our standard input, a pipe: a net.Socket whose descriptor is no socket.
    process.send({ refused: 'stdin' }, process.stdin);
    process.send({ after: 'stdin' });
  } else if (m && m.cmd === 'give-udp') {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      process.send({ udp_port: port }, s, () => {
        // Ours closed, the datagram waits in the socket the parent holds.
        s.close();
        const out = dgram.createSocket('udp4');
        out.send('to the parent', port, '127.0.0.1', () => out.close());
      });
    });
  } else if (m && m.cmd === 'fill-fds') {
    // Every descriptor taken: the next handle cannot be received.
    const held = [];
    try {
      for (;;) held.push(fs.openSync('/dev/null', 'r'));
    } catch (e) {
      process.send({ full: e.code });
    }
    process.once('message', () => {
      held.forEach((fd) => fs.closeSync(fd));
    });
  } else if (m) {
    process.send(m);
  }
});
// A test that fails leaves no worker behind: the end of the channel ends us.
process.on('disconnect', () => process.exit(0));
process.send({ ready: id });
