// node_echo.js: the Node.js side of node_throughput: echoes, or sends a burst on command, on either serialization.
'use strict';
let counting = 0, got = 0;
process.on('message', (m) => {
  if (m && m.burst) {
    for (let i = 1; i <= m.burst; i++) process.send({ seq: i });
    return;
  }
  if (m && m.count) {
    counting = m.count;
    got = 0;
    return;
  }
  if (counting) {
    if (++got === counting) {
      counting = 0;
      process.send({ counted: got });
    }
    return;
  }
  process.send(m);
});
