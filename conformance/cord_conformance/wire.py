"""wire.py: Cord frames and Node.js lines on a socket: reading with descriptors, decoding, and matching against case patterns."""
import array
import hashlib
import importlib
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PROTO = os.path.join(ROOT, "proto", "cord.proto")

_pb2 = None


def pb2():
    """The Python module protoc generates from proto/cord.proto, generated on first use into a cache."""
    global _pb2
    if _pb2 is not None:
        return _pb2
    with open(PROTO, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(tempfile.gettempdir()),
                         "cord-conformance-" + digest)
    if not os.path.exists(os.path.join(cache, "cord_pb2.py")):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["protoc", "-I" + os.path.dirname(PROTO), "--python_out=" + cache, "cord.proto"], check=True)
    sys.path.insert(0, cache)
    _pb2 = importlib.import_module("cord_pb2")
    return _pb2


def hexs(b):
    return " ".join("%02x" % x for x in b)


def unhex(s):
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


def prefix(body):
    return len(body).to_bytes(4, "big") + body


def decode(body):
    """A Frame from body bytes, or None if they are not one."""
    f = pb2().Frame()
    try:
        with warnings.catch_warnings():
            # Malformed input is the point of some cases; the None says enough.
            warnings.simplefilter("ignore")
            f.ParseFromString(body)
    except Exception:
        return None
    return f


def text(frame):
    from google.protobuf import text_format
    return text_format.MessageToString(frame, as_one_line=True)


def from_text(t):
    from google.protobuf import text_format
    f = pb2().Frame()
    text_format.Parse(t, f)
    return f


def to_obj(msg):
    """A message as plain JSON-able data: set fields only, schema names, bytes as hex."""
    out = {}
    for fd, value in msg.ListFields():
        out[fd.name] = _value(fd, value)
    return out


def _value(fd, value):
    from google.protobuf.descriptor import FieldDescriptor as F
    if fd.label == F.LABEL_REPEATED:
        return [_value_one(fd, v) for v in value]
    return _value_one(fd, value)


def _value_one(fd, v):
    from google.protobuf.descriptor import FieldDescriptor as F
    if fd.type == F.TYPE_MESSAGE:
        return to_obj(v)
    if fd.type == F.TYPE_BYTES:
        return v.hex()
    if fd.type == F.TYPE_ENUM:
        ev = fd.enum_type.values_by_number.get(v)
        return ev.name if ev else v
    return v


class Mismatch(Exception):
    pass


def match(pattern, actual, captures, path="frame"):
    """Raises Mismatch, saying where, unless actual matches pattern (see conformance/README.md, Patterns)."""
    if isinstance(pattern, str) and pattern == "*":
        if actual is None:
            raise Mismatch("%s: absent, want any value" % path)
        return
    if isinstance(pattern, str) and pattern.startswith("$") and len(pattern) > 1:
        name = pattern[1:]
        if name in captures:
            if actual != captures[name]:
                raise Mismatch("%s: %r, want %r (captured as $%s)" % (path, actual, captures[name], name))
        else:
            if actual is None:
                raise Mismatch("%s: absent, want a value to capture as $%s" % (path, name))
            captures[name] = actual
        return
    if isinstance(pattern, dict) and len(pattern) == 1 and next(iter(pattern)) in (">=", "<=", "any_of"):
        op, v = next(iter(pattern.items()))
        a = 0 if actual is None else actual
        ok = (op == ">=" and a >= v) or (op == "<=" and a <= v) or (op == "any_of" and a in v)
        if not ok:
            raise Mismatch("%s: %r, want %s %r" % (path, actual, op, v))
        return
    if isinstance(pattern, dict):
        if actual is None:
            actual = {}
        if not isinstance(actual, dict):
            raise Mismatch("%s: %r, want a message" % (path, actual))
        loose = pattern.get("...") is True
        for k, pv in pattern.items():
            if k == "...":
                continue
            match(pv, actual.get(k), captures, path + "." + k)
        if not loose:
            extra = [k for k in actual if k not in pattern]
            if extra:
                raise Mismatch("%s: unexpected %s" % (path, ", ".join("%s=%r" % (k, actual[k]) for k in extra)))
        return
    if actual is None and pattern in (0, "", False):
        return
    if actual != pattern:
        raise Mismatch("%s: %r, want %r" % (path, actual, pattern))


def substitute(t, captures):
    for k, v in sorted(captures.items(), key=lambda kv: -len(kv[0])):
        t = t.replace("$" + k, str(v))
    return t


class Event:
    """What the peer did: a frame (or line), end of file, or a malformed stream."""

    def __init__(self, kind, raw=b"", frame=None, obj=None, fds=(), detail=""):
        self.kind = kind  # "frame", "line", "eof", "garbage", "timeout", "exit"
        self.raw = raw
        self.frame = frame
        self.obj = obj
        self.fds = list(fds)
        self.detail = detail

    def describe(self):
        if self.kind == "violation":
            return "%s (%s)" % (text(self.frame), self.detail)
        if self.kind == "frame":
            return text(self.frame) if self.frame is not None else "(undecodable) " + hexs(self.raw[:48])
        if self.kind == "line":
            return self.raw[:-1].decode("utf-8", "replace")
        return self.kind + (": " + self.detail if self.detail else "")


FORBIDDEN = [(1, 999), (2000, 9999)]  # spec ERR-2: POSIX, SDK and reserved codes never travel


def top_level_fields(body):
    """The field numbers at the top level of an encoded message, in order (None if it does not parse)."""
    out, i, n = [], 0, len(body)
    try:
        while i < n:
            key, i = _varint(body, i)
            num, wt = key >> 3, key & 7
            out.append(num)
            if wt == 0:
                _, i = _varint(body, i)
            elif wt == 1:
                i += 8
            elif wt == 2:
                ln, i = _varint(body, i)
                i += ln
            elif wt == 5:
                i += 4
            else:
                return None
            if i > n:
                return None
    except IndexError:
        return None
    return out


def _varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        if not c & 0x80:
            return v, i
        shift += 7


def violations(raw, frame, first):
    """What the spec forbids a sender in this frame: checked on every frame an implementation sends."""
    if first and len(raw) - 4 > 256:
        return "FRAME-4: a first frame of %d bytes, over 256" % (len(raw) - 4)
    fields = top_level_fields(raw[4:]) or []
    members = [f for f in fields if 1 <= f <= 7]
    if len(members) != 1:
        return "FRAME-7: %d members of Frame.body on the wire, not exactly one" % len(members)
    body = frame.WhichOneof("body")
    code = frame.error.code if body == "error" else frame.message.status if body == "message" else 0
    for lo, hi in FORBIDDEN:
        if lo <= code <= hi:
            return "ERR-2: code %d is in a range that never travels (%d-%d)" % (code, lo, hi)
    return None


class Channel:
    """One end of a Cord channel (or Node.js channel): writes bytes with descriptors, reads frames or lines."""

    def __init__(self, sock, binding, log):
        self.sock = sock
        self.binding = binding
        self.buf = b""
        self.fdq = []  # descriptors received, oldest first
        self.eof = False
        self.log = log
        self.frames_in = 0

    def send(self, data, fds=()):
        fds = list(fds)
        view = memoryview(data)
        first = True
        while view:
            try:
                if first and fds:
                    # Spec FD-3: the descriptors ride with the frame's first byte.
                    n = self.sock.sendmsg([view], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                else:
                    n = self.sock.send(view)
            except (BrokenPipeError, ConnectionResetError) as e:
                self.log("out", b"", "send failed: %s" % e)
                return False
            first = False
            view = view[n:]
        return True

    def _fill(self, deadline):
        """Reads once, waiting until deadline. Returns False on timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            data, anc, flags, _ = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 64))
        except ConnectionResetError:
            data, anc = b"", []
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                n = len(cdata) // 4
                for i in range(n):
                    self.fdq.append(int.from_bytes(cdata[4 * i:4 * i + 4], sys.byteorder))
        if not data:
            self.eof = True
        self.buf += data
        return True

    def next(self, deadline):
        """The next Event from the peer."""
        while True:
            if self.binding == "node-json":
                i = self.buf.find(b"\n")
                if i >= 0:
                    raw, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                    fds, self.fdq = self.fdq, []
                    try:
                        obj = json.loads(raw.decode("utf-8"))
                    except Exception:
                        return Event("garbage", raw, detail="not JSON: " + repr(raw[:60]))
                    return Event("line", raw, obj=obj, fds=fds)
            elif len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                if n > (1 << 26):
                    raw, self.buf = self.buf, b""
                    return Event("garbage", raw, detail="prefix %d (%s)" % (n, hexs(raw[:4])))
                if len(self.buf) >= 4 + n:
                    raw, self.buf = self.buf[:4 + n], self.buf[4 + n:]
                    f = decode(raw[4:])
                    if f is None:
                        return Event("garbage", raw, detail="not a cord.v1.Frame (or a string that is not UTF-8, FRAME-13)")
                    self.frames_in += 1
                    bad = violations(raw, f, self.frames_in == 1)
                    if bad:
                        return Event("violation", raw, frame=f, obj=to_obj(f), detail=bad)
                    nf = f.message.fds if f.WhichOneof("body") == "message" else 0
                    fds, self.fdq = self.fdq[:nf], self.fdq[nf:]
                    return Event("frame", raw, frame=f, obj=to_obj(f), fds=fds)
            if self.eof:
                if self.buf:
                    raw, self.buf = self.buf, b""
                    return Event("garbage", raw, detail="end of file inside a frame after %d bytes" % len(raw))
                return Event("eof")
            if not self._fill(deadline):
                return Event("timeout")

    def close_fds(self):
        for fd in self.fdq:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fdq = []
