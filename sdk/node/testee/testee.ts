// testee.ts: the conformance suite's child testee on this SDK (conformance/README.md, "The testee contract").

import {
  connect, channelIsCloseOnExec, exitStatusFor, json, raw, text, empty, Code, CordError,
} from '../src/index.js';
import type { Channel, IncomingRequest, Payload } from '../src/index.js';

const COMMAND = 'cord.conformance.Command';

function commandText(p: Payload): string | null {
  return p.kind === 'typed' && p.type === COMMAND ? text(p) : null;
}

/** T-1: a data request comes back as it came, or FAILED when that reply would not fit. */
function echo(req: IncomingRequest): void {
  try {
    req.reply(req.payload);
  } catch (e) {
    if (!(e instanceof CordError) || e.code !== Code.TOO_BIG) throw e;
    req.reply(empty, { status: Code.FAILED });
  }
}

function seq(kind: string, i: number): Payload | null {
  switch (kind) {
    case 'json': return json({ i });
    case 'raw': return raw(String(i));
    case 'typed': return { kind: 'typed', type: 'cord.conformance.Seq', value: Buffer.from(String(i)) };
    default: return null;
  }
}

function env(fd: number): Payload {
  const e = process.env;
  const channelEnv = e.CORD_CHANNEL_FD !== undefined || Object.keys(e).some((k) => k.startsWith('NODE_CHANNEL_'));
  return json({ channel_env: channelEnv, cloexec: channelIsCloseOnExec(fd) });
}

/** Carries out one command of T-3; resolves to true when the testee should end after it. */
async function command(ch: Channel, req: IncomingRequest, cmd: string, fd: number): Promise<void> {
  const [word, ...args] = cmd.split(' ');
  switch (word) {
    case 'send': {
      const n = Number(args[0]);
      for (let i = 1; i <= n; i++) {
        const p = seq(args[1] ?? '', i);
        if (!p) return req.reply(empty, { status: Code.UNSUPPORTED });
        if (!ch.send(p)) await ch.drain();
      }
      return req.reply();
    }
    case 'request': {
      let r;
      try {
        r = await ch.request(raw('q'));
      } catch {
        return req.reply(empty, { status: Code.CLOSED });
      }
      try {
        return req.reply(r.payload, { status: r.status });
      } catch {
        // A status this side may not send (ERR-2) comes back as FAILED (T-3).
        return req.reply(empty, { status: Code.FAILED });
      }
    }
    case 'hold': {
      if (!req.signal.aborted) await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
      return req.reply(empty, { status: Code.CANCELLED });
    }
    case 'fail':
      try {
        return req.reply(empty, { status: Number(args[0]) });
      } catch {
        // A code the wire does not carry (ERR-2) is refused by the SDK.
        return req.reply(empty, { status: Code.FAILED });
      }
    case 'ping':
      try {
        await ch.ping();
        return req.reply();
      } catch {
        return req.reply(empty, { status: Code.CLOSED });
      }
    case 'env':
      return req.reply(env(fd));
    case 'goodbye':
      req.reply();
      await ch.close();
      return;
    case 'exit': {
      req.reply();
      await ch.flush();
      process.exit(Number(args[0]));
    }
    // falls through: process.exit does not return
    default:
      return req.reply(empty, { status: Code.UNSUPPORTED });
  }
}

/** The Node.js binding's form of the contract: commands are json objects with a "conformance" member. */
async function nodeCommand(ch: Channel, cmd: string, fd: number): Promise<void> {
  const [word, ...args] = cmd.split(' ');
  if (word === 'send') {
    for (let i = 1; i <= Number(args[0]); i++) if (!ch.send(json({ i }))) await ch.drain();
  } else if (word === 'env') {
    ch.send(env(fd));
  } else if (word === 'exit') {
    ch.send(json({ done: 'exit' }));
    await ch.flush();
    process.exit(Number(args[0]));
  }
  ch.send(json({ done: word }));
}

async function main(): Promise<number> {
  const fd = Number(process.env.CORD_CHANNEL_FD ?? 3);
  let ch: Channel;
  try {
    ch = await connect({ implName: 'cord-node-testee' });
  } catch (e) {
    process.stderr.write(`cord-node-testee: ${(e as Error).message}\n`);
    return exitStatusFor(e);
  }
  // Commands run one after another, in the order they arrive (T-3); `hold` and `request` wait without blocking the reader.
  let chain = Promise.resolve();
  // A command still running when the channel ends can no longer reply: that is not the testee's failure.
  const settle = (e: unknown) => {
    if (!(e instanceof CordError)) process.stderr.write(`cord-node-testee: ${String(e)}\n`);
  };
  const after = (f: () => Promise<void>) => { chain = chain.then(f).catch(settle); };
  try {
    for await (const m of ch) {
      if (m.kind === 'notice') continue;
      if (ch.binding === 'node-json') {
        const p = m.payload;
        const v = p.kind === 'json' ? JSON.parse(p.text) as unknown : null;
        const c = v && typeof v === 'object' && typeof (v as { conformance?: unknown }).conformance === 'string'
          ? (v as { conformance: string }).conformance : null;
        if (c !== null) after(() => nodeCommand(ch, c, fd));
        else after(async () => { ch.send(p); });
        continue;
      }
      if (m.kind === 'message') {
        ch.send(m.payload); // T-2
        continue;
      }
      const cmd = commandText(m.payload);
      if (cmd === null) echo(m);
      else if (cmd.startsWith('hold')) command(ch, m, cmd, fd).catch(settle);
      else after(() => command(ch, m, cmd, fd));
    }
  } catch (e) {
    if (!(e instanceof CordError)) throw e;
  }
  // A `request` or `ping` still waiting is failed CLOSED by the SDK now that the parent's direction has
  // ended (REQ-9, PING-7); it answers so (T-5) before close() answers whatever is left CANCELLED.
  await chain;
  await ch.close();
  return ch.exitCode;
}

// Until main() has closed the channel, an exit (the event loop running dry) is a failure, not a quiet 0.
process.exitCode = 70;
main().then((code) => { process.exitCode = code; });
