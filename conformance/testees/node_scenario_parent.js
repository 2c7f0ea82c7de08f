// node_scenario_parent.js: a real Node.js parent that plays a scripted session with a child over its own channel (json or advanced, handles included), for the recorder.
'use strict';
const fs = require('fs');
const net = require('net');
const util = require('util');
const { spawn } = require('child_process');
const { openHandle, closeHandle } = require('./node_scenario_handles');

// Usage: node node_scenario_parent.js SCRIPT CHILD-COMMAND [ARG...]
// The serialization is `advanced` when the script says `# node: advanced...`, else json.
// Script actions: `send json TEXT`, `send value JS` (a JavaScript expression; waits for its echo),
// `send handle listen|socket JS` (the value with a listening server or a connected socket; waits for
// its echo and the handle with it), `command TEXT` (waits for {"done":WORD}), `disconnect`, `wait`.
const [script, cmd, ...args] = process.argv.slice(2);
const text = fs.readFileSync(script, 'utf8');
const actions = text.split('\n').filter((l) => l && !l.startsWith('#'));
const serialization = /^# node:.*\badvanced\b/m.test(text) ? 'advanced' : 'json';
const child = spawn(cmd, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], serialization });
let waiting = null;
let ended = false;

child.on('message', (m, handle) => {
  if (handle) closeHandle(handle);
  if (waiting && waiting(m)) waiting = null;
});
const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
  ended = true;
  process.stdout.write(signal ? `signal ${require('os').constants.signals[signal]}\n` : `exit ${code}\n`);
  resolve();
}));

(async () => {
  for (const line of actions) {
    const [verb, ...rest] = line.split(' ');
    if (verb === 'send' && rest[0] === 'json') {
      child.send(JSON.parse(rest.slice(1).join(' ')));
    } else if (verb === 'send') {
      const kind = rest[0] === 'handle' ? rest[1] : null;
      const value = new Function(`return (${rest.slice(kind ? 2 : 1).join(' ')});`)();
      const handle = kind ? await openHandle(kind) : undefined;
      await new Promise((resolve) => {
        waiting = (m) => (util.isDeepStrictEqual(m, value) ? (resolve(), true) : false);
        child.send(value, handle, () => { if (handle instanceof net.Server) handle.close(); });
      });
    } else if (verb === 'command') {
      await new Promise((resolve) => {
        waiting = (m) => (m && m.done === rest[0] ? (resolve(), true) : false);
        child.send({ conformance: rest.join(' ') });
      });
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
