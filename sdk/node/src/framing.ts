// framing.ts: Cord's length-prefixed frames (spec section 3): a bounded reader that accepts any split of the stream, and the encoder.

import { toBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import { FrameSchema } from './gen/cord_pb.js';
import { CordError, Code } from './errors.js';

/** The largest L any Hello needs, and the only one allowed before the peer's Hello (spec FRAME-4). */
export const HELLO_LIMIT = 256;
/** The largest max_frame the spec allows (FRAME-3). */
export const MAX_FRAME_LIMIT = 0x7fffffff;

/**
 * Splits a byte stream into frame bodies. The limit is checked as soon as a
 * prefix is complete, before anything is allocated for the body (spec
 * FRAME-5); a body that arrives whole inside one chunk is handed out as a
 * view of that chunk, without a copy.
 */
export class FrameReader {
  private readonly head = Buffer.alloc(4);
  private headFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  /** Bytes of the stream read so far, for the preview of spec HELLO-7. */
  readonly firstBytes: number[] = [];

  /**
   * @param limit the largest body accepted now; the owner raises it once the handshake is done
   * @param tooLarge the code to fail with when a prefix exceeds the limit
   */
  constructor(public limit: number, public tooLarge: number) {}

  /** True when the stream is between frames (spec FRAME-12: end of file here is clean). */
  get atBoundary(): boolean {
    return this.headFill === 0 && this.body === null;
  }

  /**
   * Yields each complete frame body in `chunk`, keeping any partial frame for
   * the next call. Throws CordError(tooLarge) for a prefix over the limit;
   * the rest of the chunk is then never looked at.
   */
  *push(chunk: Uint8Array): Generator<Uint8Array> {
    while (this.firstBytes.length < 32 && this.firstBytes.length < chunk.length) {
      this.firstBytes.push(chunk[this.firstBytes.length] as number);
    }
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.body === null) {
        if (this.headFill === 0 && n - off >= 4) {
          const len = readLength(chunk, off);
          this.check(len);
          if (n - off - 4 >= len) {
            yield chunk.subarray(off + 4, off + 4 + len);
            off += 4 + len;
            continue;
          }
          off += 4;
          this.body = Buffer.allocUnsafe(len);
          this.bodyFill = 0;
          continue;
        }
        while (this.headFill < 4 && off < n) this.head[this.headFill++] = chunk[off++] as number;
        if (this.headFill < 4) return;
        const len = readLength(this.head, 0);
        this.check(len);
        this.headFill = 0;
        this.body = Buffer.allocUnsafe(len);
        this.bodyFill = 0;
        if (len === 0) {
          this.body = null;
          yield new Uint8Array(0);
        }
        continue;
      }
      const take = Math.min(this.body.length - this.bodyFill, n - off);
      this.body.set(chunk.subarray(off, off + take), this.bodyFill);
      this.bodyFill += take;
      off += take;
      if (this.bodyFill === this.body.length) {
        const body = this.body;
        this.body = null;
        yield body;
      }
    }
  }

  private check(len: number): void {
    if (len > this.limit) {
      throw new CordError(this.tooLarge, `frame of ${len} bytes exceeds max_frame ${this.limit}`);
    }
  }
}

function readLength(b: Uint8Array, off: number): number {
  // Prefixes with the top bit set read as more than 2^31 - 1, over any limit (spec FRAME-3).
  return ((b[off] as number) * 0x1000000) + (((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number));
}

/** Encodes one frame with its prefix. */
export function encodeFrame(frame: MessageInitShape<typeof FrameSchema>): Buffer {
  const body = toBinary(FrameSchema, create(FrameSchema, frame));
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/**
 * The preview of spec HELLO-7: up to 32 bytes as hex, then the same bytes
 * between bars with the printable ones shown as themselves.
 */
export function preview(bytes: readonly number[]): string {
  const b = bytes.slice(0, 32);
  const hex = b.map((x) => x.toString(16).padStart(2, '0') + ' ').join('');
  const shown = b.map((x) => (x >= 0x20 && x <= 0x7e ? String.fromCharCode(x) : '.')).join('');
  return `${hex}|${shown}|`;
}

/** Cuts a diagnostic text to at most `max` bytes of UTF-8 (the schema's bound on `detail`). */
export function clip(text: string, max = 256): string {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= max) return text;
  let end = max;
  while (end > 0 && ((b[end] as number) & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}
