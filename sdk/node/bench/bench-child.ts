// bench-child.ts: the benchmark suite's bench child on this SDK: counts one-way messages, sends bursts on request, echoes every other request.

import { connect, raw, text, empty, exitStatusFor } from '../src/index.js';
import type { Channel, IncomingRequest } from '../src/index.js';

/** `send N SIZE`: N one-way raw messages of SIZE bytes, as fast as the channel takes them. */
async function burst(ch: Channel, n: number, size: number): Promise<void> {
  const p = raw(Buffer.alloc(size, 0x61));
  for (let i = 0; i < n; i++) {
    // Sends of one turn of the event loop leave in one write; past the high-water mark, wait.
    if (!ch.send(p)) await ch.drain();
  }
}

async function main(): Promise<number> {
  let ch: Channel;
  try {
    ch = await connect({ implName: 'cord-node-bench-child' });
  } catch (e) {
    process.stderr.write(`bench-child: ${(e as Error).message}\n`);
    return exitStatusFor(e);
  }
  let count = 0;
  let work = Promise.resolve();
  const answer = async (req: IncomingRequest) => {
    const p = req.payload;
    const word = p.kind === 'raw' ? text(p) : '';
    if (word === 'count') {
      req.reply(raw(String(count)));
      count = 0;
      return;
    }
    const m = /^send (\d+) (\d+)$/.exec(word);
    if (m) {
      await burst(ch, Number(m[1]), Number(m[2]));
      req.reply(empty);
      return;
    }
    req.reply(p);
  };
  try {
    for await (const m of ch) {
      if (m.kind === 'message') count++;
      else if (m.kind === 'request') {
        // A burst in progress delays later requests, so their answers keep their order.
        work = work.then(() => answer(m)).catch(() => {
          // The channel ended while a burst ran: nothing is left to answer.
        });
      }
    }
    await work;
  } catch {
    // A fatal error: exitCode says 76.
  }
  await ch.close();
  return ch.exitCode;
}

process.exitCode = 70;
main().then((code) => { process.exitCode = code; });
