// node_child_testee.js: Node.js itself as a child testee of the json binding (conformance/README.md, "On the Node.js binding").
'use strict';

process.on('message', (m) => {
  if (m && typeof m === 'object' && typeof m.conformance === 'string') {
    const [word, arg] = m.conformance.split(' ');
    if (word === 'send') {
      for (let i = 1; i <= Number(arg); i++) process.send({ i });
    } else if (word === 'env') {
      process.send({ channel_env: 'NODE_CHANNEL_FD' in process.env || 'CORD_CHANNEL_FD' in process.env, cloexec: true });
    } else if (word === 'exit') {
      process.send({ done: word }, () => process.exit(Number(arg)));
      return;
    }
    process.send({ done: word });
    return;
  }
  process.send(m); // T-2: data comes back as it came
});
