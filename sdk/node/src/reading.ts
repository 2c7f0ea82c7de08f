// reading.ts: the one reading of a frame body (spec FRAME-14, FRAME-15): its bytes walked against the schema's descriptors before @bufbuild/protobuf decodes them.

import { ScalarType } from '@bufbuild/protobuf';
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import { FrameSchema } from './gen/cord_pb.js';

/**
 * Returns what in `body` breaks the one reading of spec FRAME-14 and
 * FRAME-15, as a detail for the PROTOCOL (or NOT_CORD) failure that
 * follows, or null when the body has one reading.
 *
 * @bufbuild/protobuf keeps the last member of a oneof, and its reader takes
 * a tag, or a uint32, past 32 bits by truncating it; the walk refuses all
 * of these before it runs. It is driven by the generated schema's
 * descriptors (`FrameSchema` and the messages it leads to), so a field added
 * to proto/cord.proto is covered with no edit here. It reads the body in
 * place and allocates nothing per field; it recurses only into message
 * fields, so no deeper than the schema nests messages.
 *
 * `schema` and `path` are for the tests, which show the walk messages the
 * schema does not have yet (a packed repeated field).
 *
 * Example: `checkReading(Buffer.from('220208071200', 'hex'))` is
 * `'frame.body: message after ping'`.
 */
export function checkReading(body: Uint8Array, schema: DescMessage = FrameSchema, path = 'frame'): string | null {
  const w = new Walk(body);
  const bad = w.message(0, body.length, schema);
  return bad === null ? null : path + bad;
}

/** The wire type each scalar type is encoded with (the protobuf encoding's own rule). */
function scalarWireType(t: ScalarType): WireType {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

/** The wire type a field is encoded with, from its descriptor. */
function wireTypeOf(f: DescField): WireType {
  switch (f.fieldKind) {
    case 'scalar':
      return scalarWireType(f.scalar);
    case 'enum':
      return WireType.Varint;
    case 'message':
      return f.delimitedEncoding ? WireType.StartGroup : WireType.LengthDelimited;
    case 'list':
      if (f.listKind === 'message') return f.delimitedEncoding ? WireType.StartGroup : WireType.LengthDelimited;
      return f.listKind === 'enum' ? WireType.Varint : scalarWireType(f.scalar);
    default:
      return WireType.LengthDelimited; // a map's entries are messages
  }
}

/**
 * True for a repeated field whose values may come packed, all in one
 * length-delimited field: protobuf has a receiver take both that and one
 * field per value, whichever the sender chose.
 */
function packable(f: DescField): boolean {
  const wt = wireTypeOf(f);
  return f.fieldKind === 'list' && wt !== WireType.LengthDelimited && wt !== WireType.StartGroup;
}

/** Fields by number, built once for each message of the schema. */
const byNumber = new WeakMap<DescMessage, Map<number, DescField>>();

function fieldsOf(desc: DescMessage): Map<number, DescField> {
  let m = byNumber.get(desc);
  if (!m) {
    m = new Map(desc.fields.map((f) => [f.number, f]));
    byNumber.set(desc, m);
  }
  return m;
}

/**
 * One walk over one body. The varint last read is kept as two unsigned
 * 32-bit halves, `lo` and `hi`: JavaScript numbers hold 53 bits, and a
 * BigInt per varint would allocate. @bufbuild/protobuf's BinaryReader is
 * not used for varints for the same reasons (its `uint32()` truncates, its
 * `varint64()` returns a new array).
 */
class Walk {
  private pos = 0;
  private lo = 0;
  private hi = 0;

  constructor(private readonly b: Uint8Array) {}

  /** The last varint read, exactly, for a detail. */
  private value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Reads a varint of at most 10 bytes, the tenth at most 1 (64 bits, FRAME-14); an error or null. */
  private varint(end: number): string | null {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= end) return 'a varint runs past the end';
      const c = this.b[this.pos++]!;
      if (shift === 63 && c > 1) return 'a varint is longer than 10 bytes or past 64 bits';
      const bits = c & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (c < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return null;
      }
    }
  }

  /**
   * Checks the message of type `desc` in b[start:end]. A failure comes back
   * as the rest of its detail after the path so far (".status holds ..." or
   * ": tag ..."), so that a path is built only for a body that fails.
   */
  message(start: number, end: number, desc: DescMessage): string | null {
    const fields = fieldsOf(desc);
    let seen: Map<string, string> | null = null; // oneof name -> its member's name, once one came
    this.pos = start;
    while (this.pos < end) {
      let bad = this.varint(end);
      if (bad !== null) return `: ${bad}`;
      if (this.hi !== 0) return `: tag ${this.value()} is past 32 bits`;
      const num = this.lo >>> 3;
      const wt = this.lo & 7;
      if (num === 0) return ': a tag names field 0';
      if (wt === 3 || wt === 4 || wt === 6 || wt === 7) return `: field ${num} has wire type ${wt}`;
      const f = fields.get(num);
      if (f && wireTypeOf(f) !== wt && !(wt === WireType.LengthDelimited && packable(f))) {
        return `.${f.name} has wire type ${wt}`;
      }
      if (wt === WireType.Varint) {
        bad = this.varint(end);
        if (bad !== null) return `: ${bad}`;
        if (f) {
          bad = this.range(f);
          if (bad !== null) return bad;
        }
      } else if (wt === WireType.LengthDelimited) {
        bad = this.varint(end);
        if (bad !== null) return `: ${bad}`;
        if (this.hi !== 0 || this.lo > end - this.pos) return ': a length runs past the end';
        const after = this.pos + this.lo;
        if (f?.fieldKind === 'message') {
          bad = this.message(this.pos, after, f.message);
          if (bad !== null) return `.${f.name}${bad}`;
        } else if (f && packable(f)) {
          bad = this.packed(after, f);
          if (bad !== null) return bad;
        }
        this.pos = after;
      } else {
        this.pos += wt === WireType.Bit64 ? 8 : 4;
        if (this.pos > end) return ': a fixed field runs past the end';
      }
      const oneof = f?.oneof;
      if (f && oneof) {
        seen ??= new Map();
        const first = seen.get(oneof.name);
        if (first !== undefined) return `.${oneof.name}: ${f.name} after ${first}`;
        seen.set(oneof.name, f.name);
      }
    }
    return null;
  }

  /** Checks the values of a packed repeated field, from pos to `end`: whole fixed values, varints each within bounds and range. */
  private packed(end: number, f: DescField): string | null {
    const wt = wireTypeOf(f);
    if (wt !== WireType.Varint) {
      const size = wt === WireType.Bit64 ? 8 : 4;
      return (end - this.pos) % size === 0 ? null : `.${f.name}: ${end - this.pos} bytes of packed ${size}-byte values`;
    }
    while (this.pos < end) {
      let bad = this.varint(end);
      if (bad !== null) return `.${f.name}: ${bad}`;
      bad = this.range(f);
      if (bad !== null) return bad;
    }
    return null;
  }

  /** Refuses a varint the field's type cannot hold (FRAME-14): a uint32 past 32 bits, an int32 or enum outside int32. */
  private range(f: DescField): string | null {
    const { lo, hi } = this;
    const int32 = (hi === 0 && lo <= 0x7fffffff) || (hi === 0xffffffff && lo >= 0x80000000);
    const scalar = f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar') ? f.scalar : undefined;
    const isEnum = f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum');
    if (scalar === ScalarType.UINT32 && hi !== 0) {
      return `.${f.name} holds ${this.value()}, past uint32`;
    }
    if ((scalar === ScalarType.INT32 || isEnum) && !int32) {
      return `.${f.name} holds ${this.value()}, past int32`;
    }
    return null;
  }
}
