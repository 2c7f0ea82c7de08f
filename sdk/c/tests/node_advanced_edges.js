// node_advanced_edges.js: a Node.js child on an advanced channel that sends a value V8 writes and Cord's codec does not cover, then an ordinary one.
'use strict';
process.on('message', () => {});
process.send(new ArrayBuffer(4, { maxByteLength: 8 }));
process.send({ after: 'resizable' });
