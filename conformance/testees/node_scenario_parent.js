// node_scenario_parent.js: a real Node.js parent that plays a scripted session with a child over the json binding, for the recorder.
'use strict';
const fs = require('fs');
const { spawn } = require('child_process');

// Usage: node node_scenario_parent.js SCRIPT CHILD-COMMAND [ARG...]
// Script actions: `send json TEXT`, `command TEXT` (waits for {"done":WORD}), `disconnect`, `wait`.
const [script, cmd, ...args] = process.argv.slice(2);
const actions = fs.readFileSync(script, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
const child = spawn(cmd, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
let waiting = null;
let ended = false;

child.on('message', (m) => {
  if (waiting && m && m.done === waiting.word) {
    const w = waiting;
    waiting = null;
    w.resolve();
  }
});
const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
  ended = true;
  process.stdout.write(signal ? `signal ${require('os').constants.signals[signal]}\n` : `exit ${code}\n`);
  resolve();
}));

(async () => {
  for (const line of actions) {
    const [verb, ...rest] = line.split(' ');
    if (verb === 'send') {
      child.send(JSON.parse(rest.slice(1).join(' ')));
    } else if (verb === 'command') {
      const text = rest.join(' ');
      await new Promise((resolve) => { waiting = { word: rest[0], resolve }; child.send({ conformance: text }); });
    } else if (verb === 'disconnect') {
      child.disconnect();
      break;
    } else if (verb === 'wait') {
      break;
    }
  }
  if (!ended && child.connected && !actions.includes('wait')) child.disconnect();
  await exited;
})();
