"""v8value.py: reads and writes the values of Node.js's `advanced` channel (V8's ValueSerializer format, header ff 0f), bounded, in the suite's tagged JSON form.

The tagged JSON form (conformance/README.md, "Values of the advanced
binding") writes every value a case needs as JSON: the JSON-compatible ones
as themselves, the others as an object with one member whose name starts
with `$`, such as {"$bigint": "18446744073709551616"}. read() returns that
form, write() takes it, and same() compares two of them as values, so that
two correct writers that chose different bytes (a Latin-1 or a UTF-16
string, an integer or a double, padding) are judged the same.

The tags are those of V8's src/objects/value-serializer.cc (SerializationTag)
and Node.js's host object for ArrayBufferViews (lib/v8.js,
lib/internal/child_process/serialization.js): tag 5c, then 0, the view's
kind, its length and its bytes.
"""
import math
import struct

VERSION = 15

# Node.js's numbering of ArrayBufferView kinds (lib/v8.js arrayBufferViewTypes).
VIEWS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
         "Float32Array", "Float64Array", "DataView", "Buffer", "BigInt64Array", "BigUint64Array"]

# V8's JSRegExp flag bits, by the letter JavaScript writes.
REGEXP_FLAGS = [("d", 1 << 7), ("g", 1 << 0), ("i", 1 << 1), ("m", 1 << 2), ("s", 1 << 5), ("u", 1 << 4),
                ("v", 1 << 8), ("y", 1 << 3)]

# Bounds of the reader, so that no stream of bytes costs more than a few
# times its own size: nesting, BigInt size, and how far object references
# may multiply the values they stand for.
MAX_DEPTH = 200
MAX_BIGINT_BYTES = 1024
EXPANSION = 64

TAGS_WITH_ID = set(b"oAaDR;'B\\")


class Error(Exception):
    """Bytes that are no V8 value (`unsupported` False), or a V8 value this codec does not cover (`unsupported` True)."""

    def __init__(self, what, offset, unsupported=False):
        super().__init__("%s at byte %d" % (what, offset))
        self.what, self.offset, self.unsupported = what, offset, unsupported


# ---- reading -------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, data):
        self.b = bytes(data)
        self.i = 0
        self.next_id = 0
        self.objects = {}  # id -> the value once complete, or None while it is being read
        self.sizes = {}  # id -> how many values it holds, for the expansion bound
        self.count = 0  # values produced, references expanded
        self.budget = max(1 << 16, EXPANSION * len(self.b))

    def fail(self, what, unsupported=False):
        raise Error(what, self.i, unsupported)

    def left(self):
        return len(self.b) - self.i

    def byte(self):
        if self.i >= len(self.b):
            self.fail("the bytes end inside a value")
        c = self.b[self.i]
        self.i += 1
        return c

    def varint(self):
        v, shift = 0, 0
        for _ in range(10):
            c = self.byte()
            v |= (c & 0x7F) << shift
            if not c & 0x80:
                return v
            shift += 7
        self.fail("a varint longer than 10 bytes")

    def raw(self, n, what):
        if n > self.left():
            self.fail("%s of %d bytes with %d left" % (what, n, self.left()))
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def double(self):
        return struct.unpack("<d", self.raw(8, "a double"))[0]

    def tag(self):
        while True:
            t = self.byte()
            if t == 0x00:  # kPadding, before a two-byte string
                continue
            if t == 0x3F:  # '?' kVerifyObjectCount: a count to skip
                self.varint()
                continue
            return t

    def produce(self, n=1):
        self.count += n
        if self.count > self.budget:
            self.fail("object references multiply the value past %d values" % self.budget)

    def value(self, depth):
        if depth > MAX_DEPTH:
            self.fail("values nested deeper than %d" % MAX_DEPTH, unsupported=True)
        start = self.count
        t = self.tag()
        self.produce()
        ch = chr(t)
        if ch == "_":
            return {"$undefined": True}
        if ch == "0":
            return None
        if ch == "T":
            return True
        if ch == "F":
            return False
        if ch == "I":
            z = self.varint()
            if z >= 1 << 32:
                self.fail("an int32 past 32 bits")
            return (z >> 1) ^ -(z & 1)
        if ch == "U":
            z = self.varint()
            if z >= 1 << 32:
                self.fail("a uint32 past 32 bits")
            return z
        if ch == "N":
            return number_form(self.double())
        if ch == "Z":
            return {"$bigint": str(self.bigint())}
        if ch in "\"cS":
            return self.string(ch)
        if ch == "^":
            ref = self.varint()
            if ref not in self.objects:
                self.fail("a reference to object %d, which was not read before" % ref)
            v = self.objects[ref]
            if v is None:
                return {"$ref": ref}  # a cycle: the object is still being read
            self.produce(self.sizes[ref])
            return v
        if t in TAGS_WITH_ID:
            oid = self.next_id
            self.next_id += 1
            self.objects[oid] = None
            v = self.compound(ch, depth)
            self.objects[oid] = v
            self.sizes[oid] = self.count - start
            return v
        if ch in "yxnzs":
            self.fail("a boxed primitive (tag %r)" % ch, unsupported=True)
        if ch == "r":
            self.fail("an Error object (tag 'r')", unsupported=True)
        self.fail("tag %02x, which is no V8 value%s" % (t, " this codec reads" if ch in "Vmpiq" else ""),
                  unsupported=ch in "Vmpiq")

    def bigint(self):
        bits = self.varint()
        n = bits >> 1
        if n > MAX_BIGINT_BYTES:
            self.fail("a BigInt of %d bytes, over the reader's %d" % (n, MAX_BIGINT_BYTES), unsupported=True)
        mag = int.from_bytes(self.raw(n, "a BigInt"), "little")
        return -mag if bits & 1 else mag

    def string(self, ch):
        n = self.varint()
        data = self.raw(n, "a string")
        if ch == '"':
            return data.decode("latin-1")
        if ch == "c":
            if n % 2:
                self.fail("a two-byte string of an odd length")
            return data.decode("utf-16-le", "surrogatepass")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.fail("a UTF-8 string that is not UTF-8")

    def key(self, depth):
        k = self.value(depth + 1)
        if isinstance(k, bool) or not isinstance(k, (str, int, float)):
            self.fail("a property key that is no string or number")
        if isinstance(k, float):
            return str(int(k)) if k.is_integer() else repr(k)
        return str(k)

    def members(self, end, depth):
        """Key-value pairs up to the end tag `end`, then the count V8 writes, which must agree."""
        out = {}
        n = 0
        while True:
            if self.left() == 0:
                self.fail("the bytes end inside an object")
            if self.b[self.i] == ord(end):
                self.i += 1
                if self.varint() != n:
                    self.fail("an object's count does not match its members")
                return out
            k = self.key(depth)
            out[k] = self.value(depth + 1)
            n += 1

    def compound(self, ch, depth):
        if ch == "o":
            return object_form(self.members("{", depth))
        if ch == "A":
            n = self.varint()
            if n > self.left():
                self.fail("an array of %d elements with %d bytes left" % (n, self.left()))
            items = []
            for _ in range(n):
                if self.left() and self.b[self.i] == ord("-"):
                    self.i += 1
                    self.produce()
                    items.append({"$hole": True})
                else:
                    items.append(self.value(depth + 1))
            extra = self.members("$", depth)
            if self.varint() != n:
                self.fail("a dense array's lengths disagree")
            if extra:
                self.fail("an array with named properties", unsupported=True)
            return items
        if ch == "a":
            n = self.varint()
            if n >= 1 << 32:
                self.fail("an array length past 32 bits")
            items = self.members("@", depth)
            if self.varint() != n:
                self.fail("a sparse array's lengths disagree")
            return {"$sparse": n, "items": items}
        if ch == "D":
            return {"$date": number_form(self.double())}
        if ch == "R":
            source = self.value(depth + 1)
            if not isinstance(source, str):
                self.fail("a RegExp whose source is no string")
            bits = self.varint()
            flags = "".join(c for c, b in REGEXP_FLAGS if bits & b)
            if bits & ~sum(b for _, b in REGEXP_FLAGS):
                self.fail("RegExp flags this codec does not know (%#x)" % bits, unsupported=True)
            return {"$regexp": source, "flags": flags}
        if ch == ";":
            pairs = []
            while True:
                if self.left() == 0:
                    self.fail("the bytes end inside a Map")
                if self.b[self.i] == ord(":"):
                    self.i += 1
                    if self.varint() != 2 * len(pairs):
                        self.fail("a Map's count does not match its entries")
                    return {"$map": pairs}
                k = self.value(depth + 1)
                pairs.append([k, self.value(depth + 1)])
        if ch == "'":
            items = []
            while True:
                if self.left() == 0:
                    self.fail("the bytes end inside a Set")
                if self.b[self.i] == ord(","):
                    self.i += 1
                    if self.varint() != len(items):
                        self.fail("a Set's count does not match its values")
                    return {"$set": items}
                items.append(self.value(depth + 1))
        if ch == "B":
            n = self.varint()
            data = self.raw(n, "an ArrayBuffer")
            if self.left() and self.b[self.i] == ord("V"):
                self.fail("an ArrayBufferView written by V8 itself (tag 'V'); Node.js writes them as host objects",
                          unsupported=True)
            return {"$arraybuffer": data.hex()}
        if ch == "\\":
            kind = self.varint()
            if kind == 1:
                # Node.js's other host objects: a plain copy of their properties.
                return self.value(depth + 1)
            if kind != 0:
                self.fail("a host object of kind %d, which Node.js does not write" % kind)
            ix = self.varint()
            if ix >= len(VIEWS):
                self.fail("an ArrayBufferView of kind %d, which Node.js does not have" % ix)
            n = self.varint()
            return {"$view": VIEWS[ix], "hex": self.raw(n, "an ArrayBufferView").hex()}
        raise AssertionError(ch)


def read(data):
    """The value of one message's bytes (ff, version, value), in the tagged JSON form; Error if they are not one value."""
    r = _Reader(data)
    if r.left() < 2 or r.b[0] != 0xFF:
        r.fail("no header (ff, version)")
    r.i = 1
    version = r.varint()
    if version > VERSION or version < 13:
        r.fail("version %d, which Node.js 20 does not read" % version)
    v = r.value(0)
    if r.left():
        r.fail("%d bytes after the value" % r.left())
    return v


def number_form(x):
    """A JavaScript number in the tagged JSON form: itself, or {"$number": ...} where JSON has no spelling."""
    if math.isnan(x):
        return {"$number": "NaN"}
    if math.isinf(x):
        return {"$number": "Infinity" if x > 0 else "-Infinity"}
    if x == 0 and math.copysign(1, x) < 0:
        return {"$number": "-0"}
    return int(x) if x.is_integer() and abs(x) < 2 ** 53 else x


def object_form(members):
    """A plain object: itself, or {"$object": ...} when a member's name would read as a tag."""
    if any(k.startswith("$") for k in members):
        return {"$object": members}
    return members


# ---- writing -------------------------------------------------------------------------------------

def _varint(n):
    out = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def _number(x):
    if isinstance(x, dict):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}[x["$number"]]
    return x


class _Writer:
    def __init__(self):
        self.out = bytearray(b"\xff" + _varint(VERSION))
        self.next_id = 0

    def new_object(self, tag):
        self.out += tag
        self.next_id += 1

    def string(self, s):
        if all(ord(c) < 256 for c in s):
            data = s.encode("latin-1")
            self.out += b'"' + _varint(len(data)) + data
            return
        data = s.encode("utf-16-le", "surrogatepass")
        n = _varint(len(data))
        # V8 aligns two-byte data on an even offset with a padding byte.
        if (len(self.out) + 1 + len(n)) % 2:
            self.out += b"\x00"
        self.out += b"c" + n + data

    def num(self, x):
        x = _number(x)
        if isinstance(x, int) and -2 ** 31 <= x < 2 ** 31:
            self.out += b"I" + _varint((x << 1) ^ (x >> 63))
        elif isinstance(x, float) and x.is_integer() and -2 ** 31 <= x < 2 ** 31 and math.copysign(1, x) > 0:
            self.num(int(x))
        else:
            self.out += b"N" + struct.pack("<d", float(x))

    def key(self, k):
        if k.isdigit() and str(int(k)) == k and int(k) < 2 ** 31 - 1:
            self.num(int(k))
        else:
            self.string(k)

    def members(self, d, end):
        for k, v in d.items():
            self.key(k)
            self.value(v)
        self.out += end + _varint(len(d))

    def value(self, v):
        if v is None:
            self.out += b"0"
        elif v is True:
            self.out += b"T"
        elif v is False:
            self.out += b"F"
        elif isinstance(v, (int, float)):
            self.num(v)
        elif isinstance(v, str):
            self.string(v)
        elif isinstance(v, list):
            self.new_object(b"A" + _varint(len(v)))
            for x in v:
                if isinstance(x, dict) and x.get("$hole"):
                    self.out += b"-"
                else:
                    self.value(x)
            self.out += b"$" + _varint(0) + _varint(len(v))
        elif isinstance(v, dict):
            self.tagged(v)
        else:
            raise ValueError("no V8 value for %r" % (v,))

    def tagged(self, v):
        tags = [k for k in v if k.startswith("$")]
        if not tags:
            self.new_object(b"o")
            self.members(v, b"{")
            return
        t = tags[0]
        if t == "$object":
            self.new_object(b"o")
            self.members(v[t], b"{")
        elif t == "$undefined":
            self.out += b"_"
        elif t == "$number":
            self.num(v)
        elif t == "$bigint":
            n = int(v[t])
            mag = abs(n).to_bytes((abs(n).bit_length() + 63) // 64 * 8, "little")
            self.out += b"Z" + _varint(len(mag) << 1 | (n < 0)) + mag
        elif t == "$date":
            self.new_object(b"D" + struct.pack("<d", float(_number(v[t]))))
        elif t == "$regexp":
            self.new_object(b"R")
            self.string(v[t])
            self.out += _varint(sum(b for c, b in REGEXP_FLAGS if c in v.get("flags", "")))
        elif t == "$map":
            self.new_object(b";")
            for k, x in v[t]:
                self.value(k)
                self.value(x)
            self.out += b":" + _varint(2 * len(v[t]))
        elif t == "$set":
            self.new_object(b"'")
            for x in v[t]:
                self.value(x)
            self.out += b"," + _varint(len(v[t]))
        elif t == "$arraybuffer":
            data = bytes.fromhex(v[t])
            self.new_object(b"B" + _varint(len(data)) + data)
        elif t == "$view":
            data = bytes.fromhex(v["hex"])
            self.new_object(b"\\" + _varint(0) + _varint(VIEWS.index(v[t])) + _varint(len(data)) + data)
        elif t == "$sparse":
            self.new_object(b"a" + _varint(v[t]))
            self.members(v["items"], b"@")
            self.out += _varint(v[t])
        elif t == "$ref":
            self.out += b"^" + _varint(v[t])
        else:
            raise ValueError("unknown tag %s" % t)


def write(value):
    """V8's bytes (ff 0f, then the value) for a value in the tagged JSON form."""
    w = _Writer()
    w.value(value)
    return bytes(w.out)


def frame(value):
    """One message of the advanced binding: the 4-byte big-endian length, then write(value)."""
    body = write(value)
    return len(body).to_bytes(4, "big") + body


# ---- comparing -----------------------------------------------------------------------------------

class Mismatch(Exception):
    pass


def _index(k):
    return int(k) if isinstance(k, str) and k.isdigit() else k


def _canon(v):
    """One form for each value: numbers as floats (an int32 and a double of the same value are one value), arrays
    as their length and elements whether V8 wrote them dense or sparse (it writes some arrays without holes as
    sparse ones), holes left out."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return ("number", float(v))
    if isinstance(v, dict):
        if "$number" in v:
            return ("number", v["$number"])
        if "$sparse" in v:
            return ("array", v["$sparse"], {_index(k): _canon(x) for k, x in v["items"].items()})
        return {k: _canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return ("array", len(v), {i: _canon(x) for i, x in enumerate(v)
                                  if not (isinstance(x, dict) and x.get("$hole") is True)})
    return v


def match(pattern, actual, captures, path="value"):
    """Raises Mismatch unless actual (tagged JSON form) is the value pattern says.

    In a pattern, {"$any": true} matches any value and {"$capture": NAME}
    any value the first time, then the same value; everything else is
    compared as a value."""
    if isinstance(pattern, dict) and pattern.get("$any") is True and len(pattern) == 1:
        return
    if isinstance(pattern, dict) and "$capture" in pattern and len(pattern) == 1:
        name = pattern["$capture"]
        if name in captures:
            if _canon(captures[name]) != _canon(actual):
                raise Mismatch("%s: want %s (captured as %s), got %s" % (path, dump(captures[name]), name, dump(actual)))
        else:
            captures[name] = actual
        return
    if isinstance(pattern, dict) and isinstance(actual, dict) and "$sparse" not in pattern and "$sparse" not in actual:
        if set(pattern) != set(actual):
            raise Mismatch("%s: want the members %s, got %s" % (path, sorted(pattern), sorted(actual)))
        for k in pattern:
            match(pattern[k], actual[k], captures, "%s.%s" % (path, k))
        return
    if isinstance(pattern, list) and isinstance(actual, list):
        if len(pattern) != len(actual):
            raise Mismatch("%s: want %d elements, got %d" % (path, len(pattern), len(actual)))
        for i, (p, a) in enumerate(zip(pattern, actual)):
            match(p, a, captures, "%s[%d]" % (path, i))
        return
    if _canon(pattern) != _canon(actual) or isinstance(pattern, bool) != isinstance(actual, bool):
        raise Mismatch("%s: want %s, got %s" % (path, dump(pattern), dump(actual)))


def dump(v, cut=200):
    import json
    t = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return t if len(t) <= cut else t[:cut] + "..."
