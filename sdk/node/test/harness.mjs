// harness.mjs: a raw Cord parent for the tests: starts a child on a socketpair at descriptor 3 and reads and writes frames byte by byte.
import { spawn } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import { FrameSchema } from '../dist/esm/src/gen/cord_pb.js';

export const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const TESTEE = here('../dist/cjs/testee/testee.js');
/** Bounds a hang on a loaded machine; never paces a test. */
export const LIMIT_MS = 30000;

export const HELLO = { magic: 0x44524f43, minVersion: 1, maxVersion: 1, maxFrame: 1 << 20, maxFds: 16, capabilities: 1n, pid: 1, implName: 'test', implVersion: '0' };

// A test that fails leaves its child behind: stop every child once the file's tests are done.
const started = new Set();
after(() => { for (const p of started) p.kill('SIGKILL'); });

/** One frame, prefix included. */
export function frame(body) {
  const b = toBinary(FrameSchema, create(FrameSchema, { body }));
  const out = Buffer.alloc(4 + b.length);
  out.writeUInt32BE(b.length, 0);
  out.set(b, 4);
  return out;
}

export const command = (id, text) => frame({ case: 'message', value: { id, payload: { case: 'typed', value: { type: 'cord.conformance.Command', value: Buffer.from(text) } } } });

/**
 * Starts `node script` as a Cord child (or, with binding 'node-json', as a
 * child of Node's json channel). libuv makes the 'pipe' at index 3 with
 * socketpair(AF_UNIX, SOCK_STREAM), as spec CHAN-1 asks.
 */
export function start(script, { env = {}, binding = 'cord', stdio, nodeArgs = [], paused = false } = {}) {
  const e = { ...process.env, ...env };
  delete e.CORD_CHANNEL_FD; delete e.NODE_CHANNEL_FD; delete e.NODE_CHANNEL_SERIALIZATION_MODE;
  if (binding === 'cord') e.CORD_CHANNEL_FD = '3';
  else if (binding === 'node-json') { e.NODE_CHANNEL_FD = '3'; e.NODE_CHANNEL_SERIALIZATION_MODE = 'json'; }
  Object.assign(e, env);
  const proc = spawn(process.execPath, [...nodeArgs, script], { env: e, stdio: stdio ?? ['ignore', 'pipe', 'pipe', 'pipe'] });
  started.add(proc);
  proc.on('exit', () => started.delete(proc));
  let stderr = '', stderrWake = null;
  proc.stderr.on('data', (d) => { stderr += d; stderrWake?.(); });
  const exit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const sock = proc.stdio[3];
  const chunks = [];
  let buffered = Buffer.alloc(0), eof = false, wake = null;
  if (sock) {
    sock.on('data', (d) => { buffered = Buffer.concat([buffered, d]); wake?.(); });
    sock.on('end', () => { eof = true; wake?.(); });
    sock.on('error', () => { eof = true; wake?.(); });
    // A paused parent reads nothing until resume(): the child's writes then fill the socket.
    if (paused) sock.pause();
  }
  const waitData = () => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no data within ${LIMIT_MS} ms; stderr: ${stderr}`)), LIMIT_MS);
    wake = () => { clearTimeout(t); wake = null; resolve(); };
  });
  return {
    proc, sock, exit, chunks,
    get stderr() { return stderr; },
    write(buf) { sock.write(buf); },
    resume() { sock.resume(); },
    /** Resolves once the child's standard error has matched `pattern`. */
    stderrMatch(pattern) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`stderr never matched ${pattern}: ${stderr}`)), LIMIT_MS);
        const check = () => { if (pattern.test(stderr)) { clearTimeout(t); stderrWake = null; resolve(); } };
        stderrWake = check;
        check();
      });
    },
    /** The next frame, decoded, or null at end of file. */
    async next() {
      for (;;) {
        if (buffered.length >= 4) {
          const len = buffered.readUInt32BE(0);
          if (buffered.length >= 4 + len) {
            const body = buffered.subarray(4, 4 + len);
            buffered = buffered.subarray(4 + len);
            return fromBinary(FrameSchema, body).body;
          }
        }
        if (eof) return null;
        await waitData();
      }
    },
    /** The next line on the json binding, parsed, or null at end of file. */
    async line() {
      for (;;) {
        const nl = buffered.indexOf(10);
        if (nl >= 0) {
          const l = buffered.subarray(0, nl).toString();
          buffered = buffered.subarray(nl + 1);
          return JSON.parse(l);
        }
        if (eof) return null;
        await waitData();
      }
    },
    /** Sends our Hello and takes the child's. */
    async handshake(hello = HELLO) {
      sock.write(frame({ case: 'hello', value: hello }));
      const h = await this.next();
      if (h?.case !== 'hello') throw new Error(`expected a Hello, got ${h?.case}; stderr: ${stderr}`);
      return h.value;
    },
  };
}
