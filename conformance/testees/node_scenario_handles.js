// node_scenario_handles.js: the handles the scripted Node.js peers send (a listening server, a connected socket), and how they let go of those they get.
'use strict';
const net = require('net');

// A listening TCP server on 127.0.0.1, or the client end of a connected TCP
// pair (whose server end is closed once connected, so nothing is left open).
function openHandle(kind) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      if (kind === 'listen') return resolve(server);
      server.once('connection', (peer) => { peer.destroy(); server.close(); });
      const socket = net.connect(server.address().port, '127.0.0.1', () => resolve(socket));
    });
  });
}

// A handle that came is closed: the recorder only looks at what it is.
function closeHandle(handle) {
  if (handle instanceof net.Server) handle.close();
  else handle.destroy();
}

module.exports = { openHandle, closeHandle };
