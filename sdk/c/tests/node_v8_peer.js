// node_v8_peer.js: a Node.js child on an `advanced` channel: it sends every covered type, then checks what the C parent sends back.
'use strict';
const util = require('util');

function cases() {
  const o = {};
  const cyc = {};
  cyc.self = cyc;
  const big = [];
  big[1e6] = 1;
  const props = [1, 2];
  props.x = 3;
  const bytes = (T, a) => new T(a);
  return {
    int: 1, neg: -1, i30: 2 ** 30, imax: 2 ** 31 - 1, imin: -(2 ** 31), dbl: 1.5, negzero: -0, nan: NaN,
    inf: -Infinity, two31: 2 ** 31,
    empty: '', ascii: 'ascii', latin1: 'caf\u00e9', utf16: '\u20acuro', pair: 'a\u{1F600}b', lone: '\ud800x',
    nul: 'a\u0000b',
    t: true, f: false, nil: null, undef: undefined,
    big0: 0n, big5: 5n, bigneg: -5n, big64: 2n ** 64n, bighuge: -(2n ** 200n),
    date: new Date(0), date2: new Date(1700000000123), baddate: new Date(NaN),
    re: /a+b/gi, re2: /x/dmsuy, re3: /[\p{L}]/v,
    map: new Map([[1, 'a'], ['k', { x: 1 }]]), set: new Set([1, 'a', null]),
    ab: new Uint8Array([1, 2, 3]).buffer, buf: Buffer.from([1, 2, 3]),
    i8: bytes(Int8Array, [-1, 2]), u8: bytes(Uint8Array, [255]), u8c: bytes(Uint8ClampedArray, [7]),
    i16: bytes(Int16Array, [-2]), u16: bytes(Uint16Array, [258]), i32: bytes(Int32Array, [-3]),
    u32: bytes(Uint32Array, [4e9]), f32: bytes(Float32Array, [0.5]), f64: bytes(Float64Array, [1.5, -0]),
    dv: new DataView(new Uint8Array([9, 8]).buffer), bi64: bytes(BigInt64Array, [-1n]),
    bu64: bytes(BigUint64Array, [2n ** 63n]),
    dense: [1, 'a', null, undefined], sparse: [1, , 3], bigsparse: big, props,
    obj: { a: 1, b: { c: [1, 2] }, 1: 2, 2147483648: 3, '\u00e9': 'x' },
    shared: [o, o], cyc,
    boxed: [new Boolean(true), new Boolean(false), new Number(2.5), new String('s\u20ac'), Object(5n)],
    err: new RangeError('m'), err2: new TypeError('t', { cause: 'c' }),
  };
}

const want = cases();
const names = Object.keys(want);

function same(name, v) {
  const w = want[name];
  if (name === 'shared') return util.isDeepStrictEqual(v, w) && v[0] === v[1];
  if (name === 'cyc') return v.self === v && Object.keys(v).length === 1;
  if (name === 'err') return v instanceof RangeError && v.message === 'm';
  if (name === 'err2') return v instanceof TypeError && v.message === 't' && v.cause === 'c';
  if (name === 'buf') return Buffer.isBuffer(v) && v.equals(w);
  // isDeepStrictEqual finds two invalid dates unequal (NaN !== NaN).
  if (name === 'baddate') return v instanceof Date && Number.isNaN(v.getTime());
  return util.isDeepStrictEqual(v, w) && Object.getPrototypeOf(v ?? 0) === Object.getPrototypeOf(w ?? 0);
}

let got = 0;
process.on('message', (m) => {
  if (m && m.name !== undefined) {
    const ok = names.includes(m.name) && same(m.name, m.value);
    process.send({ name: m.name, ok, seen: ok ? '' : util.inspect(m.value, { depth: 2 }).slice(0, 200) });
    if (++got === names.length) process.disconnect();
  }
});

for (const name of names) process.send({ name, value: want[name] });
process.send({ done: names.length });
