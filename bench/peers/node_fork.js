// node_fork.js: the suite's workloads over Node.js's own fork() IPC channel, in json or advanced serialization.
//
// Usage: node node_fork.js rtt|p2c|c2p N SIZE json|advanced
//
// The parent forks this file; messages are objects {t, d} whose d is a
// string of SIZE bytes, tagged as the Cord bench child's commands are
// (bench/README.md): 'o' one-way (counted), 'count', 'send', anything else
// echoed. Prints one JSON line, as cord-bench does.
'use strict';
const { fork } = require('child_process');

const WARMUP = 200;

function child() {
  let received = 0;
  process.on('message', (m) => {
    if (m.t === 'o') {
      received++;
    } else if (m.t === 'count') {
      process.send({ t: 'r', d: String(received) });
      received = 0;
    } else if (m.t === 'send') {
      const d = 'x'.repeat(m.size);
      for (let i = 0; i < m.n; i++) process.send({ t: 'o', d });
      process.send({ t: 'r' });
    } else {
      process.send(m);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

function percentiles(ns) {
  ns.sort((a, b) => a - b);
  const pick = (q) => ns[Math.min(ns.length - 1, Math.floor(q * (ns.length - 1) + 0.5))] / 1e3;
  return {
    p50_us: pick(0.5), p99_us: pick(0.99), p999_us: pick(0.999), min_us: ns[0] / 1e3,
    mean_us: ns.reduce((a, b) => a + b, 0) / ns.length / 1e3,
  };
}

async function parent(kase, n, size, serialization) {
  const c = fork(__filename, ['child'], { serialization });
  let waiting = null;
  let got = 0;
  c.on('message', (m) => {
    if (m.t === 'o') got++;
    else if (waiting) { const w = waiting; waiting = null; w(m); }
  });
  const reply = () => new Promise((resolve) => { waiting = resolve; });
  const now = () => Number(process.hrtime.bigint());
  const out = { case: kase };
  const d = 'x'.repeat(size);
  if (kase === 'rtt') {
    const lat = [];
    const msg = { t: 'e', d };
    for (let i = 0; i < n + WARMUP; i++) {
      const t0 = now();
      const r = reply();
      c.send(msg);
      await r;
      if (i >= WARMUP) lat.push(now() - t0);
    }
    Object.assign(out, percentiles(lat));
  } else if (kase === 'p2c' || kase === 'c2p') {
    let t = 0;
    for (const k of [Math.min(n, 1000), n]) {
      got = 0;
      const t0 = now();
      const r = reply();
      if (kase === 'p2c') {
        for (let i = 0; i < k; i++) c.send({ t: 'o', d });
        c.send({ t: 'count' });
        const m = await r;
        if (Number(m.d) !== k) throw new Error(`the child counted ${m.d} of ${k}`);
      } else {
        c.send({ t: 'send', n: k, size });
        await r;
        if (got !== k) throw new Error(`${got} messages came, not ${k}`);
      }
      t = now() - t0;
    }
    out.per_s = n / (t / 1e9);
    out.bytes_per_s = (n * size) / (t / 1e9);
  } else {
    throw new Error('usage: node node_fork.js rtt|p2c|c2p N SIZE json|advanced');
  }
  c.disconnect();
  out.serialization = serialization;
  console.log(JSON.stringify(out));
}

if (process.argv[2] === 'child') child();
else parent(process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5] || 'json');
