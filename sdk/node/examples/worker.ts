// worker.ts: an example Cord child in TypeScript: typed and JSON requests, one-way JSON both ways, and an orderly end.
import { connect, json, typed, decodeTyped, parseJson, empty, Code } from 'cord-child';
import type { Channel, Incoming } from 'cord-child';
import { JobSchema, JobResultSchema } from './gen/job_pb.js';

type Sum = { op: 'add'; a: number; b: number };

function isSum(v: unknown): v is Sum {
  return typeof v === 'object' && v !== null && (v as Sum).op === 'add';
}

function handle(ch: Channel, m: Incoming): void {
  if (m.kind === 'notice') return;
  const p = m.payload;
  if (m.kind === 'message') {
    // One-way JSON works on both bindings, Cord's and Node.js's.
    const v = p.kind === 'json' ? parseJson(p) : undefined;
    if (isSum(v)) ch.send(json({ sum: v.a + v.b }));
    return;
  }
  const job = decodeTyped(p, JobSchema);
  if (job) {
    const shouted = job.text.toUpperCase().repeat(job.times || 1);
    m.reply(typed(JobResultSchema, { id: job.id, shouted }));
  } else if (p.kind === 'json' && isSum(parseJson(p))) {
    const v = parseJson(p) as Sum;
    m.reply(json({ sum: v.a + v.b }));
  } else {
    m.reply(empty, { status: Code.UNSUPPORTED });
  }
}

const ch = await connect({ implName: 'example-worker' });
ch.send(json({ hello: 'example-worker', binding: ch.binding }));
try {
  for await (const m of ch) handle(ch, m);
} finally {
  await ch.close();
}
process.exitCode = ch.exitCode;
