#!/usr/bin/python3
"""py_testee.py: a small Cord implementation of both roles, written from spec/cord-v1.md, as a testee of conformance/README.md; it can break one rule or take a liberty the spec allows, for the suite's own tests.

Usage:
  py_testee.py [--break RULE] [--quirk NAME]...                       a child testee
  py_testee.py --parent [--break RULE] [--quirk NAME]... CHILD-COMMAND...  a parent testee

--break RULE makes it break one requirement (see BREAKS), so that the
suite's own tests can show the suite fails it; --quirk NAME makes it do
something the spec allows and the reference implementations do not (see
QUIRKS), so that they can show the suite passes it. Without either it
follows the spec and the testee contract.
"""
import array
import collections
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
from cord_conformance import handles, v8value, wire  # noqa: E402  (wire: the schema, built from proto/cord.proto)

# What --break can break: the rule, and how.
BREAKS = {
    "chan-2": "the parent gives its child one more descriptor than the channel",
    "chan-4": "the parent keeps its copy of the child's end of the channel",
    "end-1": "a Pong goes out after the implementation's own Goodbye",
    "end-2": "a frame after the peer's Goodbye is delivered",
    "end-8": "the child does not end when the parent's direction ends",
    "end-9": "the parent's stop never sends SIGKILL",
    "end-12": "end of file before the peer's Hello is answered with a Goodbye",
    "err-2": "`fail CODE` sends CODE whatever its range",
    "err-6": "a code from a forbidden range ends the channel",
    "fd-7": "a message announcing descriptors that did not come is delivered",
    "fd-8": "a descriptor no frame announced is kept, and the channel goes on",
    "flow-1": "the parent blocks in its writes without reading",
    "frame-5": "a frame's length is not checked before its body is read",
    "frame-5-detail": "FRAME_TOO_LARGE's Error detail does not give the length and the limit",
    "frame-7": "the Hello carries a second member of Frame.body",
    "frame-12": "end of file inside a frame is taken for a clean end",
    "frame-14": "a member of Frame.body or Message.payload that comes twice is merged, as protobuf does",
    "frame-15": "a known field with the wrong wire type is taken for an unknown field",
    "hello-1": "the implementation waits for the peer's Hello before sending its own",
    "hello-6": "a message before the peer's Hello is delivered",
    "hello-7-preview": "NOT_CORD's Error detail has no preview of the bytes",
    "hello-8-detail": "VERSION_MISMATCH's Error detail does not name the ranges",
    "hello-12": "the parent waits for a silent child's Hello for ever",
    "hello-13": "the versions are compared before the range is checked",
    "msg-5": "a message with both an id and a reply_to is delivered",
    "node-12": "on the advanced binding, values go without V8's header (ff 0f), which Node.js refuses",
    "node-14": "`handle listen` sends its listening socket as a net.Socket",
    "node-15": "`handle listen` writes {\"done\":\"handle\"} with its NODE_HANDLE message, before the answer",
    "chan-10": "the parent waits for end of file after its child has exited",
    "ping-7": "a Ping whose Pong cannot come is reported as answered",
    "req-5": "a reply to no request ends the channel",
    "req-10": "the `goodbye` command leaves held commands unanswered",
}

# What --quirk can do: liberties the spec allows.
QUIRKS = {
    "close-not-goodbye": "after the peer's direction ends, the implementation closes without a Goodbye (END-3 allows it; a parent only)",
    "error-on-truncated": "a truncated stream is reported with an Error frame (ERR-6 allows it)",
    "exit-zero": "the child exits 0 after a fatal error (END-8's status is a SHOULD)",
    "quiet": "no Error frame is ever sent (END-11's Error frame is a SHOULD)",
}

MAGIC = 0x44524F43
HELLO_MAX = 256
MAX_FRAME = 1 << 20
MAX_FDS = 8
FATAL = {1000, 1001, 1002, 1003, 1004, 1005, 1006, 1008}
COMMAND = "cord.conformance.Command"
HELLO_WAIT, GRACE = 10.0, 5.0  # T-6


class Failed(Exception):
    """The channel failed with a fatal protocol error (spec END-11)."""

    def __init__(self, code, detail, tell=True):
        super().__init__(detail)
        self.code, self.detail, self.tell = code, detail, tell


def sendable(code):
    """Spec ERR-1, ERR-2: the codes a side may put on the wire."""
    return code == 0 or 1000 <= code <= 1999 or 10000 <= code <= 0x7fffffff


class Channel:
    """One side's end of a Cord channel (or a Node.js json channel): frames in and out, the spec's rules, events for the program."""

    def __init__(self, sock, role, binding, opts):
        self.sock = sock
        self.role, self.binding, self.opts = role, binding, opts
        self.brk, self.quirks = opts.brk, opts.quirks
        if not (self.brk == "flow-1"):
            sock.setblocking(False)
        self.rx = bytearray()
        self.fdq = []  # (descriptor, stream position after the read that brought it) [FD-5]
        self.pos_read = self.pos_used = 0
        self.rd_eof = False
        self.txq = collections.deque()  # (bytes, fds)
        self.events = collections.deque()
        self.peer = None  # the peer's Hello once accepted
        self.hello_sent = False
        self.peer_done = False  # the peer's direction has ended
        self.wr_open = True  # our direction is open
        self.closed = False
        self.fatal = None
        self.next_id = 1
        self.outstanding, self.incoming, self.pings = set(), set(), set()
        self.next_nonce = 100
        self.node_hold = False  # [NODE-15]: our NODE_HANDLE awaits the peer's answer
        self.held = collections.deque()  # what waits for that answer
        self.discard = 0  # [NODE-6]: bytes of a frame too long, still to skip
        if binding == "cord" and self.brk != "hello-1":
            self.send_hello()

    # ---- sending ----------------------------------------------------------------------------------

    def send_hello(self):
        f = wire.pb2().Frame()
        h = f.hello
        h.magic, h.min_version, h.max_version = MAGIC, 1, 1
        h.max_frame, h.max_fds, h.capabilities, h.pid = MAX_FRAME, MAX_FDS, 1, os.getpid()
        h.impl_name, h.impl_version = "py-testee", "1"
        data = wire.prefix(f.SerializeToString())
        if self.brk == "frame-7":
            body = f.SerializeToString() + bytes([0x12, 0x00])  # and an empty message member
            data = wire.prefix(body)
        self.hello_sent = True
        self.txq.append((data, []))

    def queue(self, frame, fds=(), force=False):
        """Queues a frame; returns 0 or a negative code (spec FRAME-2, FD-1: refused locally)."""
        if not self.wr_open and not force:
            return -1011
        body = frame.SerializeToString()
        limit = self.peer.max_frame if self.peer is not None else HELLO_MAX
        if len(body) > limit:
            return -2004
        if fds and (self.peer is None or len(fds) > self.peer.max_fds):
            return -2004
        # The caller's descriptors stay the caller's [FD-10]: the queue holds copies.
        self.txq.append((wire.prefix(body), [os.dup(fd) for fd in fds]))
        return 0

    def message(self, id=0, reply_to=0, status=0, payload=None, fds=()):
        f = wire.pb2().Frame()
        m = f.message
        m.SetInParent()
        m.id, m.reply_to, m.status = id, reply_to, status
        if fds:
            m.fds = len(fds)
        if payload is not None:
            kind, value = payload
            if kind == "typed":
                m.typed.type, m.typed.value = value
            elif kind == "json":
                m.json = value
            elif kind == "raw":
                m.raw = value
        return self.queue(f, fds)

    def reply(self, rid, status=0, payload=None, fds=()):
        if rid not in self.incoming:
            return -2003
        if not sendable(status) and self.brk != "err-2":
            return -22
        r = self.message(reply_to=rid, status=status, payload=payload, fds=fds)
        if r == 0:
            self.incoming.discard(rid)
        return r

    def request(self, payload):
        if self.peer_done:
            return -1011, 0  # spec REQ-11
        rid = self.next_id
        r = self.message(id=rid, payload=payload)
        if r == 0:
            self.next_id += 1
            self.outstanding.add(rid)
        return r, rid

    def ping(self):
        if self.peer_done or not self.wr_open:
            return -1011, 0  # spec PING-5
        self.next_nonce += 1
        f = wire.pb2().Frame()
        f.ping.nonce = self.next_nonce
        r = self.queue(f)
        if r == 0:
            self.pings.add(self.next_nonce)
        return r, self.next_nonce

    def error(self, code, detail):
        if "quiet" in self.quirks:
            return
        f = wire.pb2().Frame()
        f.error.code, f.error.detail = code, detail[:200]
        self.queue(f, force=True)

    def goodbye(self, reason=0):
        """Ends our direction: a Goodbye, then shutdown for writing [END-1]."""
        if not self.wr_open:
            return
        if self.binding == "cord" and not ("close-not-goodbye" in self.quirks and self.peer_done):
            f = wire.pb2().Frame()
            f.goodbye.reason = reason
            self.queue(f)
        self.wr_open = False
        self.flush()
        if self.brk == "end-1" and self.binding == "cord":
            f = wire.pb2().Frame()
            f.pong.nonce = 1
            self.txq.append((wire.prefix(f.SerializeToString()), []))
            self.flush()
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def node_bytes(self, obj):
        """One message of the Node.js binding: a JSON line, or an advanced frame [NODE-4, NODE-12]."""
        if self.binding == "json":
            return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        body = v8value.write(obj)
        if self.brk == "node-12":
            body = body[2:]
        return len(body).to_bytes(4, "big") + body

    def send_line(self, obj, fd=None, answer=False, then=None):
        """Queues a message of the Node.js binding; with fd, as a handle (NODE_HANDLE around obj), after which nothing
        but answers is written until the peer has answered [NODE-15]; `then` rides in the same write (a break)."""
        if not self.wr_open:
            return -1011
        fds = []
        if fd is not None:
            kind = handles.describe(fd)
            typ = "net.Server" if kind.get("kind") == "listen" and self.brk != "node-14" else \
                "dgram.Socket" if kind.get("kind") == "dgram" else "net.Socket"
            obj = {"cmd": "NODE_HANDLE", "type": typ, "msg": obj}
            if typ == "dgram.Socket":
                obj["dgramType"] = "udp4" if kind.get("family") == "inet" else "udp6"
            fds = [os.dup(fd)]
        data = self.node_bytes(obj) + (self.node_bytes(then) if then is not None else b"")
        if answer:
            # [NODE-8]: an answer waits behind no message that has not begun to be written.
            self.txq.insert(1 if self.txq else 0, (data, fds))
        elif self.node_hold:
            self.held.append((data, fds))
        else:
            self.txq.append((data, fds))
            self.node_hold = bool(fds)
        return 0

    def flush(self, block=False):
        """Writes what the socket takes now (or all of it, `block`): frames whole, descriptors with their first byte [FD-3]."""
        while self.txq and not self.closed:
            data, fds = self.txq[0]
            try:
                if fds:
                    n = self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                else:
                    n = self.sock.send(data)
            except BlockingIOError:
                if not block:
                    return
                select.select([], [self.sock], [], 5.0)
                continue
            except (BrokenPipeError, ConnectionResetError):
                # Spec END-6: the peer's end is closed; what is queued is lost.
                self.txq.clear()
                self.wr_open = False
                return
            for fd in fds:
                os.close(fd)
            if n == len(data):
                self.txq.popleft()
            else:
                self.txq[0] = (data[n:], [])

    # ---- receiving --------------------------------------------------------------------------------

    def on_readable(self):
        try:
            data, anc, flags, _ = self.sock.recvmsg(1 << 16, socket.CMSG_SPACE(4 * MAX_FDS))
        except BlockingIOError:
            return
        except ConnectionResetError:
            data, anc, flags = b"", [], 0  # spec END-6: a reset is end of file
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                for fd in a:
                    # Python asks for MSG_CMSG_CLOEXEC where it can; make sure [FD-4].
                    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
                    self.fdq.append((fd, self.pos_read + len(data)))
        if flags & socket.MSG_CTRUNC:
            raise Failed(1006, "descriptors were lost (MSG_CTRUNC)")  # spec FD-7
        self.pos_read += len(data)
        self.rx += data
        if not data:
            self.rd_eof = True
        if self.binding == "json":
            self.lines()
        elif self.binding == "advanced":
            self.values()
        else:
            self.frames()

    def take_fds(self, n):
        """The descriptors of the frame that starts at pos_used and announces n [FD-6, FD-7, FD-8]."""
        start = self.pos_used
        if self.brk != "fd-8" and any(pos <= start for _, pos in self.fdq):
            raise Failed(1006, "a descriptor arrived that no frame announced")
        if n > len(self.fdq) or n > MAX_FDS:
            if self.brk == "fd-7":
                n = min(n, len(self.fdq))
            else:
                raise Failed(1006, "a message announces %d descriptors; %d arrived" % (n, len(self.fdq)))
        fds = [fd for fd, _ in self.fdq[:n]]
        self.fdq = self.fdq[n:]
        return fds

    def frames(self):
        while not self.closed:
            if len(self.rx) >= 4:
                n = int.from_bytes(self.rx[:4], "big")
                first = self.peer is None
                if first and n > HELLO_MAX and self.brk != "frame-5":
                    raise Failed(1003, "not Cord: " + self.preview(bytes(self.rx)))  # [HELLO-7, HELLO-13]
                if n > MAX_FRAME and self.brk != "frame-5":
                    raise Failed(1001, "frame of %d bytes exceeds max_frame %d" % (n, MAX_FRAME)
                                 if self.brk != "frame-5-detail" else "frame too large")  # [FRAME-5]
                if len(self.rx) >= 4 + n:
                    body = bytes(self.rx[4:4 + n])
                    raw = bytes(self.rx[:4 + n])
                    del self.rx[:4 + n]
                    self.frame(raw, body, first)
                    self.pos_used += 4 + n
                    continue
            if self.rd_eof:
                if self.rx:
                    if self.brk == "frame-12":
                        self.rx.clear()
                    else:
                        # Spec FRAME-12; ERR-6: the Error frame is optional.
                        raise Failed(1002, "the stream ended %d bytes into a frame" % len(self.rx),
                                     tell="error-on-truncated" in self.quirks)
                self.peer_ended()
            break

    def preview(self, data):
        return wire.preview(data) if self.brk != "hello-7-preview" else "the first bytes are not a Hello"

    def frame(self, raw, body, first):
        f = wire.pb2().Frame()
        try:
            f.ParseFromString(body)
            bad = wire.breaks_reading(body, wire_types=self.brk != "frame-15", one_reading=self.brk != "frame-14")
        except Exception:
            bad = "not a Frame"
        if bad:
            if first:
                raise Failed(1003, "not Cord: " + self.preview(raw))
            raise Failed(1000, "a frame of %d bytes is not a valid cord.v1.Frame (%s)" % (len(body), bad))  # [FRAME-6, FRAME-14, FRAME-15]
        kind = f.WhichOneof("body")
        nfds = f.message.fds if kind == "message" else 0
        fds = self.take_fds(nfds)
        if first:
            if kind == "message" and self.brk == "hello-6":
                self.peer = wire.pb2().Hello(max_frame=65536, max_fds=0)
                self.deliver(f, fds)
                return
            self.hello(f, raw)
            return
        if self.peer_done:
            if self.brk == "end-2":
                self.deliver(f, fds) if kind == "message" else None
                return
            raise Failed(1005, "a frame after the peer's Goodbye")  # [END-2]
        if kind == "message":
            self.deliver(f, fds)
        elif kind == "cancel":
            if f.cancel.id in self.incoming:
                self.events.append(("cancel", f.cancel.id))  # else [REQ-8]: ignored
        elif kind == "ping":
            if self.wr_open:  # [PING-2]
                p = wire.pb2().Frame()
                p.pong.nonce = f.ping.nonce
                self.queue(p)
        elif kind == "pong":
            if f.pong.nonce in self.pings:  # else [PING-3]
                self.pings.discard(f.pong.nonce)
                self.events.append(("pong", f.pong.nonce, 0))
        elif kind == "goodbye":
            self.peer_ended()
        elif kind == "error":
            code = f.error.code
            if code in FATAL or (self.brk == "err-6" and not sendable(code)):
                raise Failed(code, "the peer reports: " + f.error.detail, tell=False)  # [END-11]
            self.events.append(("error", code, f.error.detail))  # [ERR-2, ERR-7]
        elif kind == "hello":
            raise Failed(1005, "a second Hello")  # [HELLO-10]
        # No member we know: discarded [FRAME-8].

    def hello(self, f, raw):
        """The peer's first frame, checked in the order of spec HELLO-13."""
        if f.WhichOneof("body") != "hello":
            raise Failed(1005, "the first frame is not a Hello")  # [HELLO-6]
        h = f.hello
        if h.magic != MAGIC:
            raise Failed(1003, "the Hello has magic 0x%08x: %s" % (h.magic, self.preview(raw)))  # [HELLO-7]
        mismatch = min(h.max_version, 1) < max(h.min_version, 1)
        if self.brk == "hello-13" and mismatch:
            raise Failed(1004, "no common version: we speak 1..1, peer speaks %d..%d" % (h.min_version, h.max_version))
        if h.min_version > h.max_version or not 256 <= h.max_frame <= 0x7fffffff:
            raise Failed(1000, "invalid Hello: versions %d..%d, max_frame %d" % (h.min_version, h.max_version, h.max_frame))
        if mismatch:  # [HELLO-8, ERR-8]
            raise Failed(1004, "no common version: we speak 1..1, peer speaks %d..%d" % (h.min_version, h.max_version)
                         if self.brk != "hello-8-detail" else "no common version")
        self.peer = h
        if not self.hello_sent:
            self.send_hello()
        self.events.append(("ready",))

    def deliver(self, f, fds):
        m = f.message
        if (m.id and m.reply_to or m.status and not m.reply_to) and self.brk != "msg-5":
            raise Failed(1000, "a message with id %d, reply_to %d and status %d" % (m.id, m.reply_to, m.status))  # [MSG-5]
        if m.reply_to:
            if m.reply_to not in self.outstanding:
                for fd in fds:
                    os.close(fd)
                if self.brk == "req-5":
                    raise Failed(1000, "reply to unknown request %d" % m.reply_to)
                self.error(1007, "reply to unknown request %d" % m.reply_to)  # [REQ-5]
                return
            self.outstanding.discard(m.reply_to)
            self.events.append(("reply", m.reply_to, m, fds))
            return
        if m.id:
            if m.id in self.incoming:
                raise Failed(1000, "request id %d is already outstanding" % m.id)  # [REQ-4]
            self.incoming.add(m.id)
        self.events.append(("message", m, fds))

    def peer_ended(self):
        """The peer's direction ended (its Goodbye, or end of file) [END-3, END-4]."""
        if self.peer_done:
            return
        if self.peer is None and self.binding == "cord":
            # Spec END-12: no handshake; nothing more is sent.
            self.peer_done = True
            if self.brk == "end-12":
                f = wire.pb2().Frame()
                f.goodbye.SetInParent()
                self.txq.append((wire.prefix(f.SerializeToString()), []))
                self.flush()
            self.wr_open = False
            self.events.append(("end",))
            return
        self.peer_done = True
        for rid in sorted(self.outstanding):  # [REQ-9]
            self.events.append(("reply", rid, None, []))
        self.outstanding.clear()
        for nonce in sorted(self.pings):  # [PING-7]
            self.events.append(("pong", nonce, 1011 if self.brk != "ping-7" else 0))
        self.pings.clear()
        self.events.append(("end",))

    # ---- the Node.js binding ------------------------------------------------------------------------

    def lines(self):
        while not self.closed:
            i = self.rx.find(b"\n")
            if i < 0:
                if len(self.rx) > MAX_FRAME:  # [NODE-6]: discarded, the channel lives on
                    self.skip = True
                    self.pos_used += len(self.rx)
                    self.rx.clear()
                if self.rd_eof:
                    if self.rx:
                        raise Failed(1002, "the stream ended inside a line", tell=False)  # [NODE-10]
                    self.peer_ended()
                break
            line = bytes(self.rx[:i])
            del self.rx[:i + 1]
            start = self.pos_used
            self.pos_used += i + 1
            if getattr(self, "skip", False):
                self.skip = False
                self.events.append(("error", 1001, "a line too long"))
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except ValueError:
                raise Failed(1000, "a line that is not JSON")
            self.node_in(obj, start)

    def values(self):
        """Frames of the advanced binding [NODE-12, NODE-13]."""
        while not self.closed:
            if self.discard:
                n = min(self.discard, len(self.rx))
                del self.rx[:n]
                self.pos_used += n
                self.discard -= n
                if not self.discard:
                    self.events.append(("error", 1001, "a frame too long"))  # [NODE-6]
            elif len(self.rx) >= 4:
                n = int.from_bytes(self.rx[:4], "big")
                if n == 0 or n >= 1 << 31:
                    raise Failed(1000, "an advanced frame of length %d" % n)
                if n > MAX_FRAME:
                    self.discard = 4 + n
                    continue
                if len(self.rx) >= 4 + n:
                    body = bytes(self.rx[4:4 + n])
                    del self.rx[:4 + n]
                    start = self.pos_used
                    self.pos_used += 4 + n
                    try:
                        obj = v8value.read(body)
                    except v8value.Error as e:
                        if not e.unsupported:
                            raise Failed(1000, "bytes that are no V8 value: %s" % e)
                        self.events.append(("error", 1000, "a value this implementation does not read: %s" % e))
                        continue
                    self.node_in(obj, start)
                    continue
            if self.rd_eof:
                if self.rx or self.discard:
                    raise Failed(1002, "the stream ended inside a frame", tell=False)  # [NODE-10]
                self.peer_ended()
            break

    def node_in(self, obj, start):
        """One message of a Node.js binding that began at stream position start, with its handle if any [NODE-7, NODE-8, NODE-16]."""
        stray = [fd for fd, pos in self.fdq if pos <= start]
        self.fdq = [(fd, pos) for fd, pos in self.fdq if pos > start]
        for fd in stray:  # [NODE-16]: a descriptor that came with no NODE_HANDLE
            os.close(fd)
        if not handles.is_internal(obj):
            self.events.append(("line", obj, None, None))
            return
        cmd = obj["cmd"]
        if cmd == "NODE_HANDLE":
            fd = self.fdq.pop(0)[0] if self.fdq else None
            ok = fd is not None and handles.breaks_type(obj.get("type"), handles.describe(fd)) is None
            self.send_line({"cmd": "NODE_HANDLE_ACK" if ok else "NODE_HANDLE_NACK"}, answer=True)
            if not ok and fd is not None:
                os.close(fd)
                fd = None
            if not handles.is_internal(obj.get("msg")):
                # [NODE-16]: a refused handle's message still comes, without it.
                self.events.append(("line", obj.get("msg"), fd, obj.get("type") if fd is not None else None))
            elif fd is not None:
                os.close(fd)
        elif cmd in ("NODE_HANDLE_ACK", "NODE_HANDLE_NACK") and self.node_hold:
            if cmd == "NODE_HANDLE_NACK":
                self.events.append(("error", 1010, "the peer refused our handle"))  # [NODE-15]
            self.node_hold = False
            while self.held and not self.node_hold:
                data, fds = self.held.popleft()
                self.txq.append((data, fds))
                self.node_hold = bool(fds)
        # Every other internal message is Node.js's own [NODE-7].

    # ---- failing and closing ----------------------------------------------------------------------

    def fail(self, e):
        """Spec END-11: the Error frame if our direction is open, then the close."""
        self.fatal = e.code
        self.txq.clear()
        if e.tell and self.wr_open and self.binding == "cord":
            self.error(e.code, e.detail)
            self.flush()
        self.wr_open = False
        self.peer_done = True
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            for fd, _ in self.fdq:  # [FD-9]
                os.close(fd)
            self.fdq = []
            self.sock.close()


class Testee:
    """The testee contract (conformance/README.md) on a Channel, for either role."""

    def __init__(self, ch, role):
        self.ch, self.role = ch, role
        self.waiting = {}  # command request id -> ("hold"|"ping"|"request", key)

    def answer_waiting(self, other):
        for cid, (what, _) in sorted(self.waiting.items()):
            self.ch.reply(cid, 1009 if what == "hold" else other)
        self.waiting.clear()

    def handle(self, ev):
        ch = self.ch
        kind = ev[0]
        if kind == "message":
            m, fds = ev[1], ev[2]
            if m.id and m.WhichOneof("payload") == "typed" and m.typed.type == COMMAND:
                self.command(m, fds)
            else:
                payload = payload_of(m)
                if m.id:  # T-1
                    if ch.reply(m.id, 0, payload, fds) < 0:
                        ch.reply(m.id, 1012)
                else:  # T-2
                    ch.message(payload=payload, fds=fds)
            for fd in fds:
                os.close(fd)
        elif kind == "reply":  # ("reply", request id, the reply or None when CLOSED, fds)
            rid, m, fds = ev[1], ev[2], ev[3]
            for cid, (what, k) in list(self.waiting.items()):
                if what == "request" and k == rid:
                    del self.waiting[cid]
                    if m is None:
                        ch.reply(cid, 1011)
                    elif ch.reply(cid, m.status, payload_of(m)) < 0:
                        ch.reply(cid, 1012)
            for fd in fds:
                os.close(fd)
        elif kind == "cancel":
            if self.waiting.get(ev[1], ("",))[0] == "hold":
                del self.waiting[ev[1]]
                ch.reply(ev[1], 1009)
        elif kind == "pong":
            for cid, (what, k) in list(self.waiting.items()):
                if what == "ping" and k == ev[1]:
                    del self.waiting[cid]
                    ch.reply(cid, ev[2])
        elif kind == "line":
            self.node_line(ev[1], ev[2])

    def command(self, m, fds):
        ch = self.ch
        words = m.typed.value.decode("ascii", "replace").split(" ")
        word, args = words[0], words[1:]
        if word == "send" and len(args) == 2:
            for i in range(1, int(args[0]) + 1):
                if args[1] == "json":
                    ch.message(payload=("json", '{"i":%d}' % i))
                elif args[1] == "typed":
                    ch.message(payload=("typed", ("cord.conformance.Seq", str(i).encode())))
                else:
                    ch.message(payload=("raw", str(i).encode()))
            ch.reply(m.id)
        elif word == "request":
            r, rid = ch.request(("raw", b"q"))
            if r < 0:
                ch.reply(m.id, 1011)
            else:
                self.waiting[m.id] = ("request", rid)
        elif word == "hold":
            self.waiting[m.id] = ("hold", None)
        elif word == "fail":
            if ch.reply(m.id, int(args[0])) < 0:
                ch.reply(m.id, 1012)
        elif word == "ping":
            r, nonce = ch.ping()
            if r < 0:
                ch.reply(m.id, 1011 if ch.brk != "ping-7" else 0)
            else:
                self.waiting[m.id] = ("ping", nonce)
        elif word == "fds":
            ch.reply(m.id, 0, None, fds)
        elif word == "env" and self.role == "child":
            ch.reply(m.id, 0, ("json", json.dumps(env_report(ch), separators=(",", ":"))))
        elif word == "goodbye":
            ch.reply(m.id)
            if ch.brk != "req-10":
                self.answer_waiting(1009)  # [REQ-10]
            self.goodbye()
        elif word == "exit" and self.role == "child":
            ch.reply(m.id)
            ch.flush(block=True)  # [END-7]
            os._exit(int(args[0]))
        else:
            ch.reply(m.id, 1010)

    def goodbye(self):
        self.ch.goodbye(reason=1 if self.role == "parent" else 0)

    def node_line(self, obj, fd=None):
        ch = self.ch
        if isinstance(obj, dict) and isinstance(obj.get("conformance"), str):
            word, _, arg = obj["conformance"].partition(" ")
            if fd is not None:
                os.close(fd)
            if word == "send":
                for i in range(1, int(arg) + 1):
                    ch.send_line({"i": i})
            elif word == "env" and self.role == "child":
                ch.send_line(env_report(ch))
            elif word == "handle" and arg == "listen":
                server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                server.bind(("127.0.0.1", 0))
                server.listen(4)
                msg = {"handle": "listen", "port": server.getsockname()[1]}
                if ch.brk == "node-15":
                    ch.send_line(msg, server.fileno(), then={"done": word})
                    server.close()
                    return
                ch.send_line(msg, server.fileno())
                server.close()
            ch.send_line({"done": word})
            if word == "exit" and self.role == "child":
                ch.flush(block=True)
                os._exit(int(arg))
            return
        ch.send_line(obj, fd)  # T-2, with the handle that came, as the same type
        if fd is not None:
            os.close(fd)


def env_report(ch):
    """The `env` command's answer: is a channel variable left, is the channel close-on-exec (spec CHAN-6)."""
    env = any(k == "CORD_CHANNEL_FD" or k.startswith("NODE_CHANNEL_") for k in os.environ)
    cloexec = bool(fcntl.fcntl(ch.sock.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
    return {"channel_env": env, "cloexec": cloexec}


def payload_of(m):
    kind = m.WhichOneof("payload")
    if kind == "typed":
        return ("typed", (m.typed.type, m.typed.value))
    if kind == "json":
        return ("json", m.json)
    if kind == "raw":
        return ("raw", m.raw)
    return None


# ---- the child --------------------------------------------------------------------------------------

def find_channel():
    """Spec CHAN-6 to CHAN-9, NODE-2, NODE-3: the channel's descriptor and binding, or an exit with status 64."""
    cord, node = os.environ.get("CORD_CHANNEL_FD"), os.environ.get("NODE_CHANNEL_FD")
    name, value, binding = ("CORD_CHANNEL_FD", cord, "cord") if cord is not None else ("NODE_CHANNEL_FD", node, "json")
    if value is None:
        sys.stderr.write("py-testee: a Cord child, to be started by a Cord parent: no CORD_CHANNEL_FD\n")
        sys.exit(64)
    if binding == "json":
        binding = os.environ.get("NODE_CHANNEL_SERIALIZATION_MODE", "json")
        if binding not in ("json", "advanced"):  # [NODE-3]
            sys.stderr.write("py-testee: NODE_CHANNEL_SERIALIZATION_MODE=%s: json or advanced only\n" % binding)
            sys.exit(64)
    if not value.isdigit() or value != str(int(value)):
        sys.stderr.write("py-testee: %s=%r: not a decimal number\n" % (name, value))
        sys.exit(64)
    fd = int(value)
    try:
        s = socket.socket(fileno=fd)
        if s.family != socket.AF_UNIX or s.type != socket.SOCK_STREAM:
            s.detach()
            raise OSError("not an AF_UNIX SOCK_STREAM socket")
    except OSError as e:
        sys.stderr.write("py-testee: %s=%s: %s\n" % (name, value, e))
        sys.exit(64)
    for k in ("CORD_CHANNEL_FD", "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"):
        os.environ.pop(k, None)
    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
    return s, binding


def run_child(opts):
    sock, binding = find_channel()
    ch = Channel(sock, "child", binding, opts)
    t = Testee(ch, "child")
    while not ch.closed:
        pump(ch, t, None)
        if ch.brk == "end-2" and not ch.rd_eof:
            continue  # reads on after the parent's Goodbye, and delivers what comes
        if ch.peer_done and not ch.closed:
            if ch.brk == "end-8":
                # Waits for nothing, for ever.
                select.select([], [], [])
            # Spec END-8: answer what is held (T-5), Goodbye, close, exit.
            t.answer_waiting(1011)
            ch.goodbye()
            ch.flush(block=True)
            ch.close()
    if ch.fatal is not None and "exit-zero" not in ch.quirks:
        sys.exit(76)
    sys.exit(0)


def pump(ch, t, timeout, extra=()):
    """One round of the loop: writes what can go, reads what came, hands events to the testee. Returns the ready extras."""
    try:
        ch.flush()
        if ch.closed:
            return []
        rd = ([ch.sock] if not ch.rd_eof else []) + list(extra)
        wr = [ch.sock] if ch.txq else []
        if ch.brk == "flow-1" and ch.txq:
            # The broken parent writes everything before it reads again.
            ch.sock.setblocking(True)
            ch.flush(block=True)
            rd, wr = rd, []
        r, w, _ = select.select(rd, wr, [], timeout)
        if ch.sock in r:
            ch.on_readable()
        while ch.events:
            ev = ch.events.popleft()
            if ev[0] not in ("ready", "end", "error"):
                t.handle(ev)
        return [x for x in r if x is not ch.sock]
    except Failed as e:
        ch.fail(e)
        return []


# ---- the parent -----------------------------------------------------------------------------------

def child_gone(ch, t):
    """The child is reaped: the socket holds all it wrote. Read that, then end of file [CHAN-10].

    A descendant may still hold the child's end of the channel; waiting for
    its end of file would wait for that descendant."""
    try:
        while not ch.closed and not ch.rd_eof:
            if select.select([ch.sock], [], [], 0)[0]:
                ch.on_readable()
            else:
                ch.rd_eof = True
                if ch.binding == "json":
                    ch.lines()
                elif ch.binding == "advanced":
                    ch.values()
                else:
                    ch.frames()
            while ch.events:
                ev = ch.events.popleft()
                if ev[0] not in ("ready", "end", "error"):
                    t.handle(ev)
    except Failed as e:
        ch.fail(e)


def run_parent(opts, argv):
    binding = os.environ.get("CORD_CONFORMANCE_BINDING") or "cord"
    if binding not in ("cord", "json", "advanced"):
        sys.stderr.write("py-testee: CORD_CONFORMANCE_BINDING=%s: cord, json or advanced\n" % binding)
        sys.exit(1)
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    env = dict(os.environ)
    for k in ("CORD_CHANNEL_FD", "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE", "CORD_CONFORMANCE_BINDING"):
        env.pop(k, None)
    if binding != "cord":
        env["NODE_CHANNEL_FD"], env["NODE_CHANNEL_SERIALIZATION_MODE"] = "3", binding
    else:
        env["CORD_CHANNEL_FD"] = "3"
    extra = os.open("/dev/null", os.O_RDONLY) if opts.brk == "chan-2" else None

    def place():
        os.dup2(theirs.fileno(), 3)  # [CHAN-3]; dup2 clears close-on-exec on 3 only [CHAN-2]
        if extra is not None:
            os.dup2(extra, 4)

    try:
        child = subprocess.Popen(argv, env=env, close_fds=False, preexec_fn=place)
    except OSError as e:
        sys.stderr.write("py-testee: cannot start %s: %s\n" % (argv[0], e))
        sys.exit(1)
    if opts.brk != "chan-4":
        theirs.close()  # [CHAN-4]
    ch = Channel(mine, "parent", binding, opts)
    t = Testee(ch, "parent")
    pidfd = os.pidfd_open(child.pid)
    status = None
    hello_deadline = time.monotonic() + HELLO_WAIT
    stop = None  # (stage, when): 1 kill signal due, 2 SIGKILL due [END-9]
    orig_goodbye = t.goodbye

    def stop_child():
        nonlocal stop
        orig_goodbye()
        if stop is None:
            stop = (1, time.monotonic() + GRACE)
    t.goodbye = stop_child

    while status is None or not ch.closed:
        now = time.monotonic()
        timers = []
        if binding == "cord" and ch.peer is None and not ch.closed and opts.brk != "hello-12":
            if now >= hello_deadline:  # [HELLO-12]: TIMEOUT, then END-9 without the Goodbye
                ch.fail(Failed(1008, "no Hello from the child in %d ms" % (HELLO_WAIT * 1000)))
                stop = (1, now + GRACE)
            else:
                timers.append(hello_deadline)
        if stop is not None and status is None:
            stage, when = stop
            if stage < 3 and now >= when:
                os.kill(child.pid, signal.SIGTERM if stage == 1 else signal.SIGKILL)
                stop = (2, now + GRACE) if stage == 1 and opts.brk != "end-9" else (3, 0)
            if stop[0] < 3:
                timers.append(stop[1])
        timeout = max(0.0, min(timers) - time.monotonic()) if timers else None
        if ch.closed:
            r, _, _ = select.select([pidfd], [], [], timeout)
        else:
            r = pump(ch, t, timeout, [pidfd] if status is None else [])
        if pidfd in r and status is None:
            _, st = os.waitpid(child.pid, 0)  # [END-10]
            status = st
            os.close(pidfd)
            if not ch.closed and not ch.rd_eof and opts.brk != "chan-10":
                child_gone(ch, t)
        if not ch.closed:
            if ch.peer_done and ch.wr_open and not ch.incoming and (ch.brk != "end-2" or ch.rd_eof):
                # Spec END-3: the child is done and nothing is owed: our direction ends too.
                ch.goodbye()
            if ch.peer_done and not ch.wr_open and not ch.closed:
                ch.flush(block=True)
                ch.close()  # [END-5]
    if os.WIFSIGNALED(status):
        print("signal %d" % os.WTERMSIG(status), flush=True)
    else:
        print("exit %d" % os.WEXITSTATUS(status), flush=True)
    sys.exit(0)


class Options:
    def __init__(self, argv):
        self.brk, self.quirks, self.parent = None, set(), False
        rest = []
        i = 0
        while i < len(argv):
            a = argv[i]
            if a == "--parent" and not rest:
                self.parent = True
            elif a == "--break" and not rest:
                i += 1
                if argv[i] not in BREAKS:
                    sys.exit("py-testee: unknown rule %r; one of: %s" % (argv[i], ", ".join(sorted(BREAKS))))
                self.brk = argv[i]
            elif a == "--quirk" and not rest:
                i += 1
                if argv[i] not in QUIRKS:
                    sys.exit("py-testee: unknown quirk %r; one of: %s" % (argv[i], ", ".join(sorted(QUIRKS))))
                self.quirks.add(argv[i])
            else:
                rest.append(a)
            i += 1
        self.rest = rest


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # [END-6]
    opts = Options(sys.argv[1:])
    if opts.parent:
        if not opts.rest:
            sys.stderr.write("usage: py_testee.py --parent CHILD-COMMAND...\n")
            sys.exit(1)
        run_parent(opts, opts.rest)
    run_child(opts)


if __name__ == "__main__":
    main()
