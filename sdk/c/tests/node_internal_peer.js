// node_internal_peer.js: a Node.js child on a json channel that says, on standard output, how Node classed each line it got.
'use strict';
process.on('message', (m) => process.stdout.write('user\n'));
process.on('internalMessage', (m) => process.stdout.write('internal ' + m.cmd + '\n'));
process.stdout.write('ready\n');
