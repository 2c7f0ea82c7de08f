// reading.test.mjs: the one reading of a frame body (spec FRAME-14, FRAME-15): each body it refuses, with its detail and its code, and the bodies with unknown fields it still accepts (FRAME-8, FRAME-9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBinary } from '@bufbuild/protobuf';
import { SourceCodeInfo_LocationSchema } from '@bufbuild/protobuf/wkt';
import { checkReading } from '../dist/esm/src/reading.js';
import { FrameSchema } from '../dist/esm/src/gen/cord_pb.js';
import { start, TESTEE } from './harness.mjs';

// Bodies with no one reading, each with what the detail must begin with:
// one for each bullet of FRAME-14 (and each case of a bullet), and the
// wrong wire types of FRAME-15 in Frame, Message, Hello and Typed.
const refused = [
  ['two body members', '22 02 08 07 12 00', 'frame.body: message after ping'],
  ['same body member twice', '12 02 08 36 12 02 10 01', 'frame.body: message after message'],
  ['two payloads', '12 06 3a 01 61 32 01 31', 'frame.message.payload: json after raw'],
  ['same payload twice', '12 06 3a 01 61 3a 01 62', 'frame.message.payload: raw after raw'],
  ['tag past 32 bits', '80 80 80 80 10 00', 'frame: tag 4294967296 is past 32 bits'],
  ['tag naming field 0', '00 00', 'frame: a tag names field 0'],
  ['varint of 11 bytes', '78 ff ff ff ff ff ff ff ff ff ff 01', 'frame: a varint'],
  ['varint past 64 bits', '78 ff ff ff ff ff ff ff ff ff 02', 'frame: a varint'],
  ['varint past 64 bits in a message', '12 0b 78 ff ff ff ff ff ff ff ff ff 02', 'frame.message: a varint'],
  ['uint32 past 32 bits', '12 06 18 80 80 80 80 10', 'frame.message.status holds 4294967296, past uint32'],
  ['uint32 past 32 bits in Hello', '0a 06 20 80 80 80 80 10', 'frame.hello.max_frame holds 4294967296, past uint32'],
  ['enum past int32', '32 06 08 80 80 80 80 08', 'frame.goodbye.reason holds 2147483648, past int32'],
  ['unknown group start', '7b', 'frame: field 15 has wire type 3'],
  ['unknown group end', '7c', 'frame: field 15 has wire type 4'],
  ['wire type 6', '7e 00', 'frame: field 15 has wire type 6'],
  ['wire type 7', '7f 00', 'frame: field 15 has wire type 7'],
  ['known field as a group', '12 01 0b', 'frame.message: field 1 has wire type 3'],
  ['known member as a varint', '10 01', 'frame.message has wire type 0'],
  ['known field of Message, wrong wire type', '12 02 30 01', 'frame.message.json has wire type 0'],
  ['known field of Hello, wrong wire type', '0a 02 08 01', 'frame.hello.magic has wire type 0'],
  ['known field of Typed, wrong wire type', '12 04 2a 02 08 01', 'frame.message.typed.type has wire type 0'],
];

// Unknown fields of each wire type (varint, fixed64, length-delimited,
// fixed32), numbered past the schema's.
const UNKNOWN = '78 01 81 01 01 02 03 04 05 06 07 08 8a 01 01 61 95 01 01 02 03 04';

// Bodies with one reading: unknown fields of every wire type in Frame and
// in a message (FRAME-9), a negative enum as a sign-extended 10-byte
// varint, a field that is no oneof member twice (its last value counts).
const accepted = [
  ['unknown fields of each wire type in Message', '12 18 08 05 ' + UNKNOWN],
  ['unknown member of Frame', '7a 00'],
  ['unknown fixed32 member of Frame', '7d 01 02 03 04'],
  ['negative enum', '32 0b 08 ff ff ff ff ff ff ff ff ff 01'],
  ['a plain field twice', '12 04 08 01 08 02'],
  ['uint32 at its top', '12 06 18 ff ff ff ff 0f'],
  ['empty body', ''],
];

const bytes = (hex) => Buffer.from(hex.replace(/ /g, ''), 'hex');
const prefixed = (body) => { const h = Buffer.alloc(4); h.writeUInt32BE(body.length); return Buffer.concat([h, body]); };

test('each body without one reading is refused, with what and where', () => {
  for (const [name, hex, detail] of refused) {
    const got = checkReading(bytes(hex));
    assert.ok(got !== null && got.startsWith(detail), `${name}: ${got}`);
  }
});

test('bodies with unknown fields of every wire type are accepted and decode', () => {
  for (const [name, hex] of accepted) {
    assert.equal(checkReading(bytes(hex)), null, name);
    fromBinary(FrameSchema, bytes(hex));
  }
});

test('a repeated field comes packed or one field per value, and packed values are checked', () => {
  // The schema has no repeated field yet, so the walk is shown one of
  // descriptor.proto's: SourceCodeInfo.Location.path, a packed int32.
  for (const hex of ['0a 02 01 02', '08 01 08 02', '0a 0b 01 ff ff ff ff ff ff ff ff ff 01']) {
    assert.equal(checkReading(bytes(hex), SourceCodeInfo_LocationSchema, 'location'), null, hex);
  }
  for (const [hex, detail] of [
    ['0a 05 80 80 80 80 08', 'location.path holds 2147483648, past int32'],
    ['0a 0b 01 ff ff ff ff ff ff ff ff ff 02', 'location.path: a varint'],
    ['0a 02 01 80', 'location.path: a varint'],
    ['0d 01 02 03 04', 'location.path has wire type 5'],
  ]) {
    const got = checkReading(bytes(hex), SourceCodeInfo_LocationSchema, 'location');
    assert.ok(got?.startsWith(detail), `${hex}: ${got}`);
  }
});

test('after the handshake a refused body is fatal PROTOCOL, with the detail, and exit 76', async () => {
  for (const [name, hex, detail] of refused) {
    const c = start(TESTEE);
    await c.handshake();
    c.write(prefixed(bytes(hex)));
    const err = await c.next();
    assert.equal(err?.case, 'error', name);
    assert.equal(err.value.code, 1000, name);
    assert.ok(err.value.detail.includes(detail), `${name}: ${err.value.detail}`);
    assert.equal(await c.next(), null, name);
    assert.equal((await c.exit).code, 76, name);
  }
});

test('in the first frame a refused body is NOT_CORD', async () => {
  for (const hex of ['0a 02 08 01', '0a 06 20 80 80 80 80 10', '0a 00 0a 00']) {
    const c = start(TESTEE);
    c.write(prefixed(bytes(hex)));
    assert.equal((await c.next())?.case, 'hello');
    const err = await c.next();
    assert.equal(err?.value.code, 1003, hex);
    assert.equal((await c.exit).code, 76, hex);
  }
});

test('a message with unknown fields is still delivered (FRAME-9)', async () => {
  const c = start(TESTEE);
  await c.handshake();
  const inner = Buffer.concat([bytes('3a 04'), Buffer.from('kept'), bytes(UNKNOWN)]);
  c.write(prefixed(Buffer.concat([Buffer.from([0x12, inner.length]), inner])));
  const echo = await c.next();
  assert.equal(echo?.case, 'message');
  assert.equal(Buffer.from(echo.value.payload.value).toString(), 'kept');
  c.sock.end();
  assert.equal((await c.next())?.case, 'goodbye');
  assert.equal((await c.exit).code, 0);
});
