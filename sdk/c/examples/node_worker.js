// node_worker.js: a worker as any Node.js program writes one for fork(): it answers each job, and serves on a server it is given.
'use strict';
process.on('message', (job, server) => {
  if (server) {
    server.on('connection', (socket) => socket.end('served by the worker\n'));
    return process.send({ serving: true });
  }
  process.send({ id: job.id, sum: job.n + job.n, type: typeof job.n });
});
process.on('disconnect', () => process.exit(0)); // as cluster's workers do: a server would keep us alive
