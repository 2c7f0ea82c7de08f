"""wire.py: Cord frames and Node.js lines on a socket: reading with descriptors, decoding, checking what every sender must respect, and matching against case patterns."""
import array
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
import types
import warnings

from . import handles, v8value

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PROTO = os.path.join(ROOT, "proto", "cord.proto")

_pb2 = None


def pb2():
    """The message classes of proto/cord.proto, as a namespace (pb2().Frame, ...).

    They are built in memory from the descriptor set protoc prints on its
    standard output: no generated module is written anywhere or imported,
    so nothing another user plants on disk can stand in for it."""
    global _pb2
    if _pb2 is not None:
        return _pb2
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    out = subprocess.run(["protoc", "-I" + os.path.dirname(PROTO), "--descriptor_set_out=/dev/stdout",
                          os.path.basename(PROTO)], check=True, stdout=subprocess.PIPE).stdout
    pool = descriptor_pool.DescriptorPool()
    for f in descriptor_pb2.FileDescriptorSet.FromString(out).file:
        pool.Add(f)
    classes = {}
    factory = None
    for name in ("Frame", "Hello", "Message", "Typed", "Cancel", "Ping", "Pong", "Goodbye", "Error"):
        desc = pool.FindMessageTypeByName("cord.v1." + name)
        if hasattr(message_factory, "GetMessageClass"):
            classes[name] = message_factory.GetMessageClass(desc)
        else:  # python3-protobuf before 4.22
            factory = factory or message_factory.MessageFactory(pool)
            classes[name] = factory.GetPrototype(desc)
    _pb2 = types.SimpleNamespace(**classes)
    return _pb2


def hexs(b):
    return " ".join("%02x" % x for x in b)


def unhex(s):
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


def prefix(body):
    return len(body).to_bytes(4, "big") + body


def decode(body):
    """A Frame from body bytes, or None if they are not one (spec FRAME-6, FRAME-15)."""
    f = pb2().Frame()
    try:
        with warnings.catch_warnings():
            # Malformed input is the point of some cases; the None says enough.
            warnings.simplefilter("ignore")
            f.ParseFromString(body)
    except Exception:
        return None
    if breaks_reading(body):
        return None
    return f


# The wire type each of the schema's field types is encoded with.
_WIRE_TYPE = {"TYPE_UINT32": 0, "TYPE_UINT64": 0, "TYPE_INT32": 0, "TYPE_INT64": 0, "TYPE_SINT32": 0,
              "TYPE_SINT64": 0, "TYPE_ENUM": 0, "TYPE_BOOL": 0, "TYPE_FIXED64": 1, "TYPE_SFIXED64": 1,
              "TYPE_DOUBLE": 1, "TYPE_STRING": 2, "TYPE_BYTES": 2, "TYPE_MESSAGE": 2, "TYPE_FIXED32": 5,
              "TYPE_SFIXED32": 5, "TYPE_FLOAT": 5}
# The oneofs FRAME-14 allows at most one member of, once.
_ONE_MEMBER = {("cord.v1.Frame", "body"), ("cord.v1.Message", "payload")}


def breaks_reading(body, desc=None, path="frame", wire_types=True, one_reading=True):
    """What in body breaks the one reading of spec FRAME-14 or FRAME-15, or None.

    The protobuf runtime merges or replaces a member that comes twice,
    takes tags, varints and uint32 values past their bounds without a word,
    and keeps a known field with another wire type among the unknown ones,
    so the bytes themselves are walked here, message by message, with the
    schema's descriptors. wire_types=False leaves FRAME-15 out (a known
    field with another wire type is skipped as an unknown one), and
    one_reading=False FRAME-14: the suite's testee breaks each on request."""
    from google.protobuf.descriptor import FieldDescriptor as F
    desc = desc or pb2().Frame.DESCRIPTOR
    body = body if isinstance(body, memoryview) else memoryview(body)  # nested bodies without copies
    names = {v: k for k, v in F.__dict__.items() if k.startswith("TYPE_")}
    seen = {}
    i, n = 0, len(body)

    def varint():
        nonlocal i
        v, shift, start = 0, 0, i
        while True:
            if i >= n:
                raise ValueError("a varint runs past the end")
            b = body[i]
            i += 1
            if i - start > 10 or (i - start == 10 and b > 1):
                raise ValueError("a varint is longer than 10 bytes or past 64 bits")
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    try:
        while i < n:
            tag = varint()
            num, wt = tag >> 3, tag & 7
            if (tag > 0xFFFFFFFF or num == 0) and one_reading:
                return "%s: tag %d is past 32 bits or names field 0" % (path, tag)
            if wt in (3, 4, 6, 7):
                return "%s: field %d has wire type %d" % (path, num, wt) if one_reading else None
            fd = desc.fields_by_number.get(num)
            if fd is not None and _WIRE_TYPE[names[fd.type]] != wt:
                if not wire_types:
                    fd = None  # taken for a field the schema does not know
                else:
                    return "%s.%s has wire type %d" % (path, fd.name, wt)
            if wt == 0:
                v = varint()
                if fd is not None and fd.type == F.TYPE_UINT32 and v > 0xFFFFFFFF and one_reading:
                    return "%s.%s holds %d, past uint32" % (path, fd.name, v)
                if fd is not None and fd.type in (F.TYPE_ENUM, F.TYPE_INT32) and one_reading \
                        and 0x7FFFFFFF < v < 0xFFFFFFFF80000000:
                    return "%s.%s holds %d, past int32" % (path, fd.name, v)
            elif wt == 1 or wt == 5:
                i += 8 if wt == 1 else 4
                if i > n:
                    raise ValueError("a fixed field runs past the end")
            else:
                size = varint()
                if size > n - i:
                    raise ValueError("a length runs past the end")
                if fd is not None and fd.type == F.TYPE_MESSAGE:
                    bad = breaks_reading(body[i:i + size], fd.message_type, path + "." + fd.name, wire_types,
                                         one_reading)
                    if bad:
                        return bad
                i += size
            oneof = fd.containing_oneof if fd is not None else None
            if oneof is not None and (desc.full_name, oneof.name) in _ONE_MEMBER and one_reading:
                if oneof.name in seen:
                    return "%s.%s: %s after %s" % (path, oneof.name, fd.name, seen[oneof.name])
                seen[oneof.name] = fd.name
    except ValueError as e:
        return "%s: %s" % (path, e) if one_reading else None
    return None


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


def substitute_frame(frame, old, new):
    """A copy of frame with `old` replaced by `new` in every string field: a template made once, filled many times."""
    from google.protobuf.descriptor import FieldDescriptor as F
    out = type(frame)()
    out.CopyFrom(frame)

    def walk(m):
        for fd, value in m.ListFields():
            if fd.type == F.TYPE_MESSAGE:
                walk(value)
            elif fd.type == F.TYPE_STRING and old in value:
                setattr(m, fd.name, value.replace(old, new))
    walk(out)
    return out


# ---- patterns ------------------------------------------------------------------------------

class Mismatch(Exception):
    pass


def preview(data):
    """Spec HELLO-7: the first bytes as hex, then between bars as text."""
    data = data[:32]
    return "".join("%02x " % b for b in data) + "|" + "".join(chr(b) if 0x20 <= b <= 0x7e else "." for b in data) + "|"


def _operator(op, v, actual, context):
    """One of the operators of conformance/README.md, Patterns; True if actual satisfies it."""
    a = 0 if actual is None and op in (">=", "<=") else actual
    if op in (">=", "<=") and not (isinstance(a, (int, float)) and not isinstance(a, bool)):
        return False  # a message or a string is in no range of numbers
    if op == ">=":
        return a >= v
    if op == "<=":
        return a <= v
    if op == "any_of":
        return a in v
    if op == "contains":
        s = actual if isinstance(actual, str) else ""
        return all(expand(x, context) in s for x in v)
    if op == "preview_of":
        # A preview of the first k bytes, for some k from 4 (the prefix that
        # gave the peer away) to 32 (or all of them).
        s = actual if isinstance(actual, str) else ""
        data = unhex(v)
        return any(preview(data[:k]) in s for k in range(min(4, len(data)), min(32, len(data)) + 1))
    raise Mismatch("unknown operator %r" % op)


OPERATORS = (">=", "<=", "any_of", "contains", "preview_of")


def expand(s, context):
    """A string of a pattern with `$hello.FIELD` replaced by that field of the implementation's Hello."""
    hello = (context or {}).get("hello") or {}
    return re.sub(r"\$hello\.([a-z_]+)", lambda m: str(hello.get(m.group(1), 0)), s)


def match(pattern, actual, captures, path="frame", context=None):
    """Raises Mismatch, saying where, unless actual matches pattern (see conformance/README.md, Patterns)."""
    if isinstance(pattern, str) and pattern == "*":
        if actual is None:
            raise Mismatch("%s is absent; any value was wanted" % path)
        return
    if isinstance(pattern, str) and pattern.startswith("$") and len(pattern) > 1:
        name = pattern[1:]
        if name in captures:
            if actual != captures[name]:
                raise Mismatch("%s is %r, want %r (captured as $%s)" % (path, actual, captures[name], name))
        else:
            if actual is None:
                raise Mismatch("%s is absent; a value to capture as $%s was wanted" % (path, name))
            captures[name] = actual
        return
    if isinstance(pattern, dict) and len(pattern) == 1 and next(iter(pattern)) in OPERATORS:
        op, v = next(iter(pattern.items()))
        if not _operator(op, v, actual, context):
            raise Mismatch("%s is %s, want %s %s" % (path, "absent" if actual is None else json.dumps(actual), op, json.dumps(v)))
        return
    if isinstance(pattern, dict):
        if actual is None:
            actual = {}
        if not isinstance(actual, dict):
            raise Mismatch("%s is %r, want a message" % (path, actual))
        loose = pattern.get("...") is True
        for k, pv in pattern.items():
            if k == "...":
                continue
            match(pv, actual.get(k), captures, path + "." + k, context)
        if not loose:
            extra = [k for k in actual if k not in pattern]
            if extra:
                raise Mismatch("%s has %s, which the case does not expect" % (
                    path, ", ".join("%s: %s" % (k, json.dumps(actual[k])) for k in extra)))
        return
    if actual is None and pattern in (0, "", False):
        return
    if actual != pattern:
        raise Mismatch("%s is %s, want %s" % (path, "absent" if actual is None else json.dumps(actual), json.dumps(pattern)))


def describe_pattern(pattern):
    """A pattern for a person, close to protobuf text format."""
    if not isinstance(pattern, dict):
        return json.dumps(pattern)
    if "json" in pattern and len(pattern) == 1:
        return "the line " + json.dumps(pattern["json"], separators=(",", ":"))[:200]
    parts = []
    for k, v in pattern.items():
        if k == "...":
            parts.append("...")
        elif isinstance(v, dict) and len(v) == 1 and next(iter(v)) in OPERATORS:
            op, x = next(iter(v.items()))
            parts.append("%s %s %s" % (k, op, json.dumps(x)[:120]))
        elif isinstance(v, dict):
            parts.append("%s { %s }" % (k, describe_pattern(v)))
        else:
            parts.append("%s: %s" % (k, json.dumps(v)[:200]))
    return " ".join(parts)


def substitute(t, captures):
    for k, v in sorted(captures.items(), key=lambda kv: -len(kv[0])):
        t = t.replace("$" + k, str(v))
    return t


# ---- what every sender must respect ------------------------------------------------------------

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


class Sender:
    """What the runner knows about the implementation's sending, to check each frame against the rules every sender follows."""

    def __init__(self):
        self.runner_hello = None  # the Hello the runner sent (a Frame's hello), once sent
        self.said_goodbye = False
        self.hello_seen = False
        self.errors_before_hello = 0


def violations(raw, frame, nfds, st):
    """What the spec forbids a sender in this frame, given what came before; None if nothing."""
    body = frame.WhichOneof("body")
    limit = st.runner_hello.max_frame if st.runner_hello is not None else 256
    if len(raw) - 4 > limit:
        if st.runner_hello is None:
            return "FRAME-4: a frame of %d bytes before the runner's Hello, over 256" % (len(raw) - 4)
        return "FRAME-2: a frame of %d bytes, over the runner's max_frame %d" % (len(raw) - 4, limit)
    fields = top_level_fields(raw[4:]) or []
    members = [f for f in fields if 1 <= f <= 7]
    if len(members) != 1:
        return "FRAME-7: %d members of Frame.body on the wire, not exactly one" % len(members)
    if st.said_goodbye:
        return "END-1: a frame after its own Goodbye"
    if not st.hello_seen and body != "hello":
        return "HELLO-1: its first frame is not a Hello"
    if st.runner_hello is None and st.hello_seen and body != "hello":
        # Spec HELLO-5: the implementation cannot have accepted a Hello the runner has not sent.
        if body != "error" or st.errors_before_hello:
            return "HELLO-5: a %s frame before the runner's Hello" % body
        st.errors_before_hello += 1
    code = frame.error.code if body == "error" else frame.message.status if body == "message" else 0
    for lo, hi in FORBIDDEN:
        if lo <= code <= hi:
            return "ERR-2: code %d is in a range that never travels (%d-%d)" % (code, lo, hi)
    if body == "message":
        m = frame.message
        if m.id and m.reply_to:
            return "MSG-5: a message with both id %d and reply_to %d" % (m.id, m.reply_to)
        if m.status and not m.reply_to:
            return "MSG-5: status %d on a message that is not a reply" % m.status
    if nfds:
        allowed = st.runner_hello.max_fds if st.runner_hello is not None else 0
        if body != "message":
            return "FD-2: %d descriptors with a %s frame" % (nfds, body)
        if nfds > allowed:
            return "FD-1: %d descriptors with one frame; the runner's Hello allows %d" % (nfds, allowed)
    if body == "hello":
        st.hello_seen = True
    if body == "goodbye":
        st.said_goodbye = True
    return None


# ---- the channel ---------------------------------------------------------------------------------

class Event:
    """What the peer did: a frame (or line), end of file, a malformed stream, or nothing before the deadline."""

    def __init__(self, kind, raw=b"", frame=None, obj=None, fds=(), detail=""):
        self.kind = kind  # "frame", "line", "eof", "garbage", "violation", "timeout"
        self.raw = raw
        self.frame = frame
        self.obj = obj
        self.fds = list(fds)
        self.detail = detail
        self.handles = []  # on the Node.js bindings: what the descriptor of a NODE_HANDLE is (handles.describe)

    def decoded(self, cut=4096):
        """The event for a person, in words or protobuf text format."""
        if self.kind == "violation" and self.frame is None:
            # A message of a Node.js binding that breaks a rule.
            t = self.raw[:-1].decode("utf-8", "replace") if self.raw.endswith(b"\n") else v8value.dump(self.obj, cut)
            t += (" [+%d fds]" % len(self.fds) if self.fds else "") + "  <- breaks " + self.detail
        elif self.kind in ("frame", "violation"):
            t = text(self.frame) if self.frame is not None else "(undecodable)"
            t += " [+%d fds]" % len(self.fds) if self.fds else ""
            if self.kind == "violation":
                t += "  <- breaks " + self.detail
        elif self.kind == "line":
            t = self.raw[:-1].decode("utf-8", "replace")
        elif self.kind == "value":
            t = v8value.dump(self.obj, cut)
        elif self.kind == "eof":
            t = "end of file"
        elif self.kind == "timeout":
            t = "nothing (the case's time ran out)"
        else:
            t = "bytes that are no frame: " + self.detail
        return t if len(t) <= cut else t[:cut] + " ... (%d characters in all)" % len(t)

    def hex(self, cut=4096):
        return hexs(self.raw[:cut]) + (" ... (%d bytes in all)" % len(self.raw) if len(self.raw) > cut else "")

    def describe(self):
        """One line: the decoded form, then the bytes."""
        h = self.hex(48)
        return self.decoded(300) + ("  |  " + h if h else "")


# The longest advanced frame the runner reads from an implementation: the
# suite's cases send and expect small values; a longer length is reported
# at once instead of waited for.
ADVANCED_LIMIT = 64 << 20


class Timeout(Exception):
    pass


class Channel:
    """One end of a Cord channel (or Node.js channel): writes bytes with descriptors, reads frames or lines.

    Every wait is bounded by a deadline. `read_while_sending` says whether a
    send that cannot go on keeps reading meanwhile: the runner does when it
    plays the parent (spec FLOW-1); as a child it may block (FLOW-2), which
    is what lets a case see a parent that stops reading."""

    def __init__(self, sock, binding, log, read_while_sending):
        self.sock = sock
        self.sock.setblocking(False)
        self.binding = binding
        self.buf = b""
        self.fdq = []  # (descriptor, stream position after the read that brought it), oldest first
        self.pos_read = 0  # bytes read so far
        self.pos_used = 0  # bytes taken as frames or lines so far
        self.eof = False
        self.log = log
        self.read_while_sending = read_while_sending
        self.sender = Sender()
        # Spec NODE-15: from the end of the implementation's NODE_HANDLE
        # message (hold_from) to what it had written when the runner began
        # its answer (hold_until), it may write only answers.
        self.hold_from = self.hold_until = None

    def send(self, data, fds, deadline):
        """Writes all of data, the descriptors with its first byte. False if the peer's end is closed; Timeout at the deadline."""
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
                first = False
                view = view[n:]
                continue
            except (BlockingIOError, InterruptedError):
                pass
            except (BrokenPipeError, ConnectionResetError) as e:
                self.log("note", b"", "the runner's write failed: %s" % e)
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("%d of %d bytes written" % (len(data) - len(view), len(data)))
            rd = [self.sock] if self.read_while_sending and not self.eof else []
            r, _, _ = select.select(rd, [self.sock], [], left)
            if r:
                self._read()
        return True

    def _read(self):
        try:
            data, anc, flags, _ = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 253))
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            # Spec END-6: a reset is the end of the stream.
            data, anc = b"", []
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                self.fdq.extend((fd, self.pos_read + len(data)) for fd in a)
        if not data:
            self.eof = True
        self.pos_read += len(data)
        self.buf += data

    def _take(self, raw, n):
        """The descriptors of a frame (or line) of `raw` bytes announcing n, as spec FD-5, FD-6 and FD-8 say.

        Returns (fds, problem): problem is None, or the rule the sender broke."""
        start = self.pos_used
        self.pos_used += len(raw)
        stray = [fd for fd, pos in self.fdq if pos <= start]
        if stray:
            self.fdq = [(fd, pos) for fd, pos in self.fdq if pos > start]
            return stray, "FD-3: %d descriptors came with bytes before this frame, which announced none" % len(stray)
        if n > len(self.fdq):
            fds, self.fdq = [fd for fd, _ in self.fdq], []
            return fds, "FD-2: the frame announces %d descriptors and %d came with it" % (n, len(fds))
        fds, self.fdq = [fd for fd, _ in self.fdq[:n]], self.fdq[n:]
        return fds, None

    def _fill(self, deadline):
        """Reads once, waiting until deadline (a deadline past only looks). Returns False when nothing came."""
        left = max(0.0, deadline - time.monotonic())
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        self._read()
        return True

    def node_message(self, raw, obj, kind):
        """An Event for one message of a Node.js binding, its descriptor found as spec NODE-16 says, checked against NODE-14 and NODE-15."""
        start = self.pos_used
        self.pos_used += len(raw)
        stray = [fd for fd, pos in self.fdq if pos <= start]
        self.fdq = [(fd, pos) for fd, pos in self.fdq if pos > start]
        internal = handles.is_internal(obj)
        cmd = obj["cmd"] if internal else None
        fds, bad = [], None
        if stray:
            bad = "NODE-14: a descriptor came with bytes before this message, which is no NODE_HANDLE"
        if cmd == "NODE_HANDLE":
            if self.fdq:
                fds = [self.fdq.pop(0)[0]]
            elif not bad:
                bad = "NODE-14: a NODE_HANDLE message with no descriptor on its first byte"
        ev = Event(kind, raw, obj=obj, fds=stray + fds)
        ev.handles = [handles.describe(fd) for fd in fds]
        if ev.handles and not bad:
            bad = handles.breaks_type(obj.get("type"), ev.handles[0])
        if self.hold_from is not None and start >= self.hold_from and \
                (self.hold_until is None or start < self.hold_until) and cmd not in ("NODE_HANDLE_ACK", "NODE_HANDLE_NACK"):
            bad = bad or ("NODE-15: a message written after the implementation's NODE_HANDLE and before the "
                          "runner's answer to it")
        if cmd == "NODE_HANDLE":
            self.hold_from, self.hold_until = self.pos_used, None
        if bad:
            ev.kind, ev.detail = "violation", bad
        return ev

    def answering(self):
        """The runner is about to answer the implementation's NODE_HANDLE: what the implementation wrote before now
        was written before the answer (spec NODE-15)."""
        if self.hold_from is None or self.hold_until is not None:
            return
        while not self.eof and self._fill(time.monotonic()):
            pass
        self.hold_until = self.pos_read

    def next(self, deadline):
        """The next Event from the peer."""
        while True:
            if self.binding == "node-json":
                i = self.buf.find(b"\n")
                if i >= 0:
                    raw, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                    try:
                        obj = json.loads(raw.decode("utf-8"))
                    except Exception:
                        self.pos_used += len(raw)
                        return Event("garbage", raw, detail="not JSON: " + repr(raw[:60]))
                    return self.node_message(raw, obj, "line")
            elif self.binding == "node-advanced":
                if len(self.buf) >= 4:
                    n = int.from_bytes(self.buf[:4], "big")
                    if n == 0 or n >= 1 << 31 or n > ADVANCED_LIMIT:
                        raw, self.buf = self.buf, b""
                        return Event("garbage", raw, detail="a frame of length %d (%s)%s" % (
                            n, hexs(raw[:4]), ", which NODE-12 forbids" if n == 0 or n >= 1 << 31 else
                            ", over the runner's limit of %d" % ADVANCED_LIMIT))
                    if len(self.buf) >= 4 + n:
                        raw, self.buf = self.buf[:4 + n], self.buf[4 + n:]
                        try:
                            obj = v8value.read(raw[4:])
                        except v8value.Error as e:
                            self.pos_used += len(raw)
                            return Event("garbage", raw, detail=("a V8 value the suite does not read: %s" if e.unsupported
                                                                 else "bytes that are no V8 value (NODE-12): %s") % e)
                        return self.node_message(raw, obj, "value")
            elif len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                limit = self.sender.runner_hello.max_frame if self.sender.runner_hello is not None else 256
                if n > max(limit, 1 << 16):
                    raw, self.buf = self.buf, b""
                    return Event("garbage", raw, detail="a prefix of %d (%s), over the runner's max_frame %d (FRAME-2)"
                                 % (n, hexs(raw[:4]), limit))
                if len(self.buf) >= 4 + n:
                    raw, self.buf = self.buf[:4 + n], self.buf[4 + n:]
                    f = decode(raw[4:])
                    if f is None:
                        fds, _ = self._take(raw, len([1 for _, pos in self.fdq if pos <= self.pos_used + len(raw)]))
                        return Event("garbage", raw, fds=fds,
                                     detail="not a cord.v1.Frame (%s; FRAME-1, FRAME-6, FRAME-7, FRAME-14, "
                                            "FRAME-15; or a string that is not UTF-8, FRAME-13)"
                                            % (breaks_reading(raw[4:]) or "protobuf refuses it"))
                    nf = f.message.fds if f.WhichOneof("body") == "message" else 0
                    fds, bad = self._take(raw, nf)
                    bad = violations(raw, f, len(fds), self.sender) or bad
                    if bad:
                        return Event("violation", raw, frame=f, obj=to_obj(f), fds=fds, detail=bad)
                    return Event("frame", raw, frame=f, obj=to_obj(f), fds=fds)
            if self.eof:
                if self.buf:
                    raw, self.buf = self.buf, b""
                    return Event("garbage", raw, detail="end of file inside a frame, after %d bytes (FRAME-12)" % len(raw))
                return Event("eof")
            if not self._fill(deadline):
                return Event("timeout")

    def close_fds(self):
        for fd, _ in self.fdq:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fdq = []

