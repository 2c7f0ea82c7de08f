// node_scenario_child.js: a real Node.js child that plays a scripted session with its parent over the json binding, for the recorder.
'use strict';
const fs = require('fs');

// Usage (as a child): node node_scenario_child.js SCRIPT
// Script actions: `send json TEXT` (waits for the echo), `command TEXT` (waits for {"done":WORD}),
// `disconnect`, `exit CODE`.
const actions = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
let waiting = null;

process.on('message', (m) => {
  if (waiting && waiting(m)) waiting = null;
});

(async () => {
  for (const line of actions) {
    const [verb, ...rest] = line.split(' ');
    if (verb === 'send') {
      const value = JSON.parse(rest.slice(1).join(' '));
      await new Promise((resolve) => {
        waiting = (m) => (JSON.stringify(m) === JSON.stringify(value) ? (resolve(), true) : false);
        process.send(value);
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
