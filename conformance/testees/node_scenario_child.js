// node_scenario_child.js: a real Node.js child that plays a scripted session with its parent over its own channel (json or advanced, handles included), for the recorder.
'use strict';
const fs = require('fs');
const net = require('net');
const util = require('util');
const { openHandle, closeHandle } = require('./node_scenario_handles');

// Usage (as a child): node node_scenario_child.js SCRIPT
// Script actions: `send json TEXT` (waits for the echo), `send value JS` (a JavaScript expression; waits
// for its echo), `send handle listen|socket JS` (the value with a handle; waits for its echo),
// `command TEXT` (waits for {"done":WORD}), `disconnect`, `exit CODE`.
const actions = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
let waiting = null;

process.on('message', (m, handle) => {
  if (handle) closeHandle(handle);
  if (waiting && waiting(m)) waiting = null;
});

(async () => {
  for (const line of actions) {
    const [verb, ...rest] = line.split(' ');
    if (verb === 'send') {
      const kind = rest[0] === 'handle' ? rest[1] : null;
      const source = rest.slice(kind ? 2 : 1).join(' ');
      const value = rest[0] === 'json' ? JSON.parse(source) : new Function(`return (${source});`)();
      const handle = kind ? await openHandle(kind) : undefined;
      await new Promise((resolve) => {
        waiting = (m) => (util.isDeepStrictEqual(m, value) ? (resolve(), true) : false);
        process.send(value, handle, () => { if (handle instanceof net.Server) handle.close(); });
      });
    } else if (verb === 'command') {
      await new Promise((resolve) => {
        waiting = (m) => (m && m.done === rest[0] ? (resolve(), true) : false);
        process.send({ conformance: rest.join(' ') });
      });
    } else if (verb === 'disconnect') {
      process.disconnect();
      return;
    } else if (verb === 'exit') {
      process.exit(Number(rest[0]));
    }
  }
  process.disconnect();
})();
