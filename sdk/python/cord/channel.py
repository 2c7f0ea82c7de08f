"""channel.py: the protocol engine both roles share: framing, handshake, requests, pings, descriptors, ending, the json binding.

A Channel owns one non-blocking socket. It never waits: `on_readable()`
and `on_writable()` do what the socket allows and return, and the drivers
(child.py's loop, asyncio, parent.py's thread) call them when the socket
is ready. What the peer says becomes events in `self.events`; what the
application sends goes to a bounded send queue that `on_writable()`
drains. Every method that changes state holds `self.lock`, so an
application may send and reply from several threads.
"""

import array
import collections
import json
import os
import socket
import threading

from . import cord_pb2 as pb
from . import errors as E
from . import reading
from .errors import CordError, QueueFull
from .events import Cancel, Closed, Drain, Error, Failed, Message
from .payload import Json, Raw, Typed, to_payload

MAGIC = 0x44524F43
VERSION = 1
HELLO_LIMIT = 256          # spec FRAME-4: the largest frame before the peer's Hello
MAX_FRAME_LIMIT = 0x7FFFFFFF
IMPL_NAME = "cord-python"
IMPL_VERSION = "1.0.0"
READ_SIZE = 65536
WRITE_BATCH = 262144       # bytes handed to one sendmsg() at most
WRITE_IOV = 512            # buffers handed to one sendmsg() at most
DETAIL_LIMIT = 256         # spec: Error.detail and Goodbye.detail, in bytes

_CLOEXEC = getattr(socket, "MSG_CMSG_CLOEXEC", 0)
_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)
_INT = array.array("i").itemsize


class Options:
    """Limits and behaviour of one channel; every field has a default.

    max_frame: the largest frame body we accept (our Hello's max_frame,
        spec FRAME-3), and on the json binding the longest line.
    max_fds: the most descriptors we accept with one frame (our Hello).
    queue_limit: bytes the send queue may hold; a send past it raises
        QueueFull (spec FLOW-4).
    high_water: queued bytes above which `send()` returns False, until a
        Drain event says the queue is empty again.
    event_limit: bytes of received messages held for the application
        before the channel stops reading (the peer then blocks, spec FLOW-2).
    cancel: announce CAPABILITY_CANCEL (we report Cancels to the
        application, which acts on them).
    """

    def __init__(self, max_frame=64 << 20, max_fds=16, queue_limit=64 << 20,
                 high_water=128 << 10, event_limit=16 << 20, cancel=True):
        if not HELLO_LIMIT <= max_frame <= MAX_FRAME_LIMIT:
            raise ValueError("max_frame must be from 256 to 2147483647, not %r" % (max_frame,))
        if not 0 <= max_fds <= 64:
            raise ValueError("max_fds must be from 0 to 64, not %r" % (max_fds,))
        if queue_limit < max_frame + 4 and queue_limit < HELLO_LIMIT * 4:
            raise ValueError("queue_limit %r is too small" % (queue_limit,))
        self.max_frame = max_frame
        self.max_fds = max_fds
        self.queue_limit = queue_limit
        self.high_water = high_water
        self.event_limit = event_limit
        self.cancel = cancel


def preview(data):
    """The spec HELLO-7 preview of up to 32 bytes: hex, then |printable|."""
    head = bytes(data[:32])
    shown = "".join(chr(b) if 0x20 <= b <= 0x7E else "." for b in head)
    return " ".join("%02x" % b for b in head) + " |" + shown + "|"


def bound_detail(text):
    """TEXT cut to at most DETAIL_LIMIT bytes of valid UTF-8."""
    raw = text.encode("utf-8")
    if len(raw) <= DETAIL_LIMIT:
        return text
    return raw[:DETAIL_LIMIT].decode("utf-8", "ignore")


def _close_all(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _payload_fields(message, payload):
    """Put PAYLOAD (already to_payload'ed) into the pb Message."""
    if payload is None:
        return
    if isinstance(payload, Raw):
        message.raw = payload.data
    elif isinstance(payload, Json):
        message.json = payload.text
    else:
        message.typed.type = payload.type
        message.typed.value = payload.value


def _payload_of(message):
    kind = message.WhichOneof("payload")
    if kind == "raw":
        return Raw(message.raw)
    if kind == "json":
        return Json(message.json)
    if kind == "typed":
        return Typed(message.typed.type, message.typed.value)
    return None


class Channel:
    """One end of a Cord channel (binding "cord") or of a Node.js json
    channel (binding "json"), in the role "parent" or "child"."""

    def __init__(self, sock, role, binding="cord", options=None):
        if binding not in ("cord", "json"):
            raise ValueError("binding must be 'cord' or 'json', not %r" % (binding,))
        self.sock = sock
        sock.setblocking(False)
        self.fileno = sock.fileno()
        self.role = role
        self.binding = binding
        self.opt = options or Options()
        self.lock = threading.RLock()
        self.events = collections.deque()
        self.event_bytes = 0
        self.on_event = None          # set by a driver that wants a wake-up per event
        # Receiving: the bytes of at most one partial frame (or line), the
        # stream position of rbuf[0], and the descriptors not yet claimed,
        # each with the stream position just after the read that brought it.
        self.rbuf = bytearray()
        self.rbase = 0
        self.fdq = collections.deque()
        self.first = b""               # the first bytes received, for the NOT_CORD preview
        self.discarding = False        # json: inside a line that is too long
        self.reading = True            # False once our reading has ended
        # The peer has exited (a parent reaped its child): what the socket
        # holds is all it wrote, and an empty socket is its end of file
        # (spec CHAN-10), whoever else still holds the peer's end.
        self.peer_exited = False
        # Sending: frames as [bytes or memoryview, fds], and their byte count.
        self.wq = collections.deque()
        self.wq_bytes = 0
        self.above_high = False
        self.held = []                 # user frames waiting for the handshake (parent)
        # Protocol state.
        self.peer = None               # the peer's Hello once accepted
        self.ready = binding == "json"
        self.sent_goodbye = False      # our direction ended by our Goodbye (or close)
        self.write_shut = False        # shutdown(SHUT_WR) done
        self.write_dead = False        # the peer's end is closed (EPIPE)
        self.peer_goodbye = False
        self.peer_ended = False
        self.failed = None             # the fatal CordError, once failed
        self.closed = False
        self.next_id = 1
        self.pending = {}              # our requests: id -> callback(status, payload, fds, error)
        self.incoming = {}             # the peer's unanswered requests: id -> Message
        self.next_nonce = 1
        self.pings = {}                # our pings: nonce -> callback(error)
        if binding == "cord":
            hello = pb.Frame()
            h = hello.hello
            h.magic = MAGIC
            h.min_version = VERSION
            h.max_version = VERSION
            h.max_frame = self.opt.max_frame
            h.max_fds = self.opt.max_fds
            h.capabilities = pb.CAPABILITY_CANCEL if self.opt.cancel else 0
            h.pid = os.getpid()
            h.impl_name = IMPL_NAME
            h.impl_version = IMPL_VERSION
            self._queue_frame(hello, (), force=True)

    # ---- state queries -------------------------------------------------------

    @property
    def wants_read(self):
        """True when the driver should wait for the socket to be readable."""
        return self.reading and not self.closed and self.event_bytes < self.opt.event_limit

    @property
    def wants_write(self):
        """True when frames wait to be written."""
        return bool(self.wq) and not self.closed

    @property
    def finished(self):
        """True once the channel is closed: nothing more will happen."""
        return self.closed

    def _push(self, event, size=0):
        self.events.append((event, size))
        self.event_bytes += size
        if self.on_event is not None:
            self.on_event()

    def pop_event(self):
        """The oldest event, or None."""
        with self.lock:
            if not self.events:
                return None
            event, size = self.events.popleft()
            self.event_bytes -= size
            return event

    # ---- sending ---------------------------------------------------------------

    def _queue_frame(self, frame, fds, force=False):
        """Encode FRAME and queue it with FDS (already duplicated). FORCE
        skips the queue bound (control frames: Hello, Pong, Error, Goodbye,
        replies are bounded by the requests the peer may send)."""
        body = frame.SerializeToString()
        limit = self.peer.max_frame if self.peer is not None else HELLO_LIMIT
        if len(body) > limit:
            _close_all(fds)
            raise CordError(E.TOO_BIG, "frame of %d bytes exceeds the peer's max_frame %d" % (len(body), limit))
        self._queue_bytes(len(body).to_bytes(4, "big") + body, fds, force)

    def _queue_bytes(self, data, fds, force=False):
        if self.write_dead or self.closed:
            _close_all(fds)
            raise CordError(E.CLOSED, "the channel is closed")
        if not force and self.wq_bytes + len(data) > self.opt.queue_limit:
            _close_all(fds)
            raise QueueFull("send queue holds %d bytes; its bound is %d" % (self.wq_bytes, self.opt.queue_limit))
        self.wq.append([data, fds])
        self.wq_bytes += len(data)
        if self.wq_bytes > self.opt.high_water:
            self.above_high = True

    def _control(self, frame):
        """Queue a frame the protocol sends on its own (Pong, Error): skipped
        when our direction has ended, never raising into the reader."""
        if self.sent_goodbye or self.write_dead or self.closed:
            return
        try:
            self._queue_frame(frame, (), force=True)
        except CordError:
            pass

    def _dup_fds(self, fds):
        if not fds:
            return ()
        if self.binding == "json":
            raise CordError(E.NODE_UNREPRESENTABLE, "descriptors cannot be passed on a Node.js json channel")
        # Before the child's Hello its limit is unknown: the frame waits
        # for it, and is dropped then if it passes more than the peer takes.
        limit = self.peer.max_fds if self.peer is not None else 64
        if len(fds) > limit:
            raise CordError(E.TOO_BIG, "%d descriptors exceed the peer's max_fds %d" % (len(fds), limit))
        out = []
        try:
            for fd in fds:
                out.append(os.dup(fd if isinstance(fd, int) else fd.fileno()))
        except BaseException:
            _close_all(out)
            raise
        return out

    def _check_open_for_send(self):
        if self.failed is not None:
            raise CordError(E.CLOSED, "the channel failed: %s" % self.failed)
        if self.sent_goodbye or self.write_dead or self.closed:
            raise CordError(E.CLOSED, "our direction of the channel has ended")

    def _user_frame(self, message, fds):
        """Queue a user Message frame; held back until the handshake."""
        frame = pb.Frame()
        frame.message.CopyFrom(message)
        if fds:
            frame.message.fds = len(fds)
        if not self.ready:
            # A parent's early sends wait for the child's Hello (HELLO-5);
            # they count against the same bound as the queue.
            body = frame.SerializeToString()
            held_bytes = sum(len(b) + 4 for b, _ in self.held)
            if held_bytes + len(body) + 4 > self.opt.queue_limit:
                _close_all(fds)
                raise QueueFull("%d bytes wait for the handshake; the bound is %d" % (held_bytes, self.opt.queue_limit))
            if len(body) > self.opt.max_frame:
                _close_all(fds)
                raise CordError(E.TOO_BIG, "frame of %d bytes exceeds %d" % (len(body), self.opt.max_frame))
            self.held.append((body, fds))
            return True
        self._queue_frame(frame, fds)
        return not self.above_high

    def send(self, value, fds=()):
        """Queue a one-way message. Returns False when the queue is past its
        high-water mark (a Drain event follows once it is empty)."""
        with self.lock:
            self._check_open_for_send()
            payload = to_payload(value)
            if self.binding == "json":
                return self._send_line(payload, fds)
            fds = self._dup_fds(fds)
            m = pb.Message()
            _payload_fields(m, payload)
            return self._user_frame(m, fds)

    def request(self, value, callback, fds=()):
        """Queue a request; CALLBACK(status, payload, fds, error) runs once,
        with the reply or with `error` set (CLOSED when the channel ends
        first). Returns the request's id. Raises CordError CLOSED when the
        peer's direction has already ended (spec REQ-11)."""
        with self.lock:
            if self.binding == "json":
                raise CordError(E.NODE_UNREPRESENTABLE, "a Node.js json channel has no requests")
            self._check_open_for_send()
            if self.peer_ended:
                raise CordError(E.CLOSED, "the peer's direction has ended")
            payload = to_payload(value)
            fds = self._dup_fds(fds)
            m = pb.Message()
            m.id = self.next_id
            _payload_fields(m, payload)
            self._user_frame(m, fds)
            self.pending[self.next_id] = callback
            self.next_id += 1
            return m.id

    def cancel(self, request_id):
        """Send Cancel for our outstanding request REQUEST_ID (spec REQ-6);
        False when it is not outstanding or nothing can be sent."""
        with self.lock:
            if request_id not in self.pending or self.sent_goodbye or self.write_dead or self.closed:
                return False
            if not self.ready:
                return False
            frame = pb.Frame()
            frame.cancel.id = request_id
            self._queue_frame(frame, (), force=True)
            return True

    def ping(self, callback):
        """Send a Ping; CALLBACK(error) runs once: error None on the Pong,
        CordError CLOSED if the channel ends first. Raises CLOSED when the
        peer's direction has ended (spec PING-5)."""
        with self.lock:
            if self.binding == "json":
                raise CordError(E.NODE_UNREPRESENTABLE, "a Node.js json channel has no pings")
            self._check_open_for_send()
            if self.peer_ended:
                raise CordError(E.CLOSED, "the peer's direction has ended")
            nonce = self.next_nonce
            self.next_nonce += 1
            frame = pb.Frame()
            frame.ping.nonce = nonce
            if self.ready:
                self._queue_frame(frame, (), force=True)
            else:
                self.held.append((frame.SerializeToString(), ()))   # sent after the handshake
            self.pings[nonce] = callback
            return nonce

    def error(self, code, detail=""):
        """Queue a non-fatal Error frame (spec ERR-3) with CODE, a code of
        the protocol or application range that does not end the channel."""
        if E.is_fatal(code) or not E.sendable(code) or not code:
            raise ValueError("code %d cannot be sent as a non-fatal error" % code)
        with self.lock:
            if self.binding != "cord":
                raise CordError(E.NODE_UNREPRESENTABLE, "a Node.js json channel has no Error frames")
            self._check_open_for_send()
            frame = pb.Frame()
            frame.error.code = code
            frame.error.detail = bound_detail(detail)
            self._queue_frame(frame, (), force=True)

    def reply(self, msg, value, status=0, fds=()):
        """Answer the peer's request MSG (see events.Message.reply)."""
        with self.lock:
            if msg._channel is not self or not msg.id or self.binding == "json":
                raise CordError(E.STATE, "not a request of this channel")
            if msg.answered:
                raise CordError(E.STATE, "request %d is already answered" % msg.id)
            if not E.sendable(status):
                raise ValueError("status %d may not be sent (spec ERR-2)" % status)
            if self.incoming.get(msg.id) is not msg:
                raise CordError(E.CLOSED, "request %d can no longer be answered" % msg.id)
            self._check_open_for_send()
            payload = to_payload(value)
            fds = self._dup_fds(fds)
            frame = pb.Frame()
            m = frame.message
            m.reply_to = msg.id
            m.status = status
            _payload_fields(m, payload)
            if fds:
                m.fds = len(fds)
            self._queue_frame(frame, fds, force=True)
            msg.answered = True
            del self.incoming[msg.id]

    def goodbye(self, reason=0, detail=""):
        """End our direction: on the cord binding, answer the peer's
        unanswered requests CANCELLED (spec REQ-10), queue Goodbye, and shut
        down writing once it is out (END-1); on the json binding, shut down
        writing. Does nothing if our direction has already ended."""
        with self.lock:
            if self.sent_goodbye or self.closed:
                return
            if self.binding == "cord" and self.ready and not self.write_dead:
                for msg in list(self.incoming.values()):
                    try:
                        self.reply(msg, None, E.CANCELLED)
                    except CordError:
                        pass
                frame = pb.Frame()
                frame.goodbye.reason = reason
                frame.goodbye.detail = bound_detail(detail)
                self._queue_frame(frame, (), force=True)
            self.sent_goodbye = True
            self.incoming.clear()
            self._maybe_shutdown()

    def abort(self):
        """Close the socket at once, without a Goodbye (a parent that stops
        a child that never said Hello, spec HELLO-12)."""
        with self.lock:
            self._close()

    # ---- the json binding (spec section 13) -----------------------------------

    def _send_line(self, payload, fds):
        if fds:
            raise CordError(E.NODE_UNREPRESENTABLE, "descriptors cannot be passed on a Node.js json channel")
        if not isinstance(payload, Json):
            raise CordError(E.NODE_UNREPRESENTABLE, "a Node.js json channel carries json payloads only")
        text = payload.text
        if not text or "\n" in text:
            raise CordError(E.NODE_UNREPRESENTABLE, "a json line must be non-empty and hold no newline")
        try:
            value = json.loads(text)
        except ValueError as e:
            raise CordError(E.NODE_UNREPRESENTABLE, "not a JSON text: %s" % e) from None
        if _is_internal(value):
            raise CordError(E.NODE_UNREPRESENTABLE, "messages whose cmd starts with NODE_ belong to Node.js")
        self._queue_bytes(text.encode("utf-8") + b"\n", ())
        return not self.above_high

    def _on_line(self, line):
        try:
            value = json.loads(line)
        except ValueError:
            self._fail(E.PROTOCOL, "a line is not a JSON text")
            return
        if _is_internal(value):
            if value["cmd"] == "NODE_HANDLE":
                # We accept no handles (spec NODE-8); its descriptor was
                # closed on arrival.
                if not (self.sent_goodbye or self.write_dead or self.closed):
                    self._queue_bytes(b'{"cmd":"NODE_HANDLE_NACK"}\n', (), force=True)
            return
        text = line.decode("utf-8")
        self._push(Message(self, 0, Json(text), []), len(line))

    def _read_lines(self, data):
        buf = self.rbuf
        start = len(buf)
        buf += data
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                if len(buf) > self.opt.max_frame:
                    if not self.discarding:
                        self._report_long_line()
                    self.discarding = True
                    del buf[:]
                return
            if self.discarding:
                self.discarding = False
            else:
                self._on_line(bytes(buf[:nl]))
                if self.closed or self.failed:
                    return
            del buf[:nl + 1]
            start = 0

    def _report_long_line(self):
        err = CordError(E.FRAME_TOO_LARGE, "a line longer than %d bytes was discarded" % self.opt.max_frame)
        self._push(Error(err, False))

    # ---- receiving -----------------------------------------------------------

    def on_readable(self):
        """Read what the socket has (a bounded number of reads) and act on it."""
        with self.lock:
            for _ in range(16):
                if not self.wants_read:
                    return
                try:
                    data, anc, flags, _ = self.sock.recvmsg(
                        READ_SIZE, socket.CMSG_SPACE(max(self.opt.max_fds, 1) * _INT), _CLOEXEC)
                except BlockingIOError:
                    if self.peer_exited:
                        self._on_eof()     # spec CHAN-10: nothing more will come
                    return
                except InterruptedError:
                    return
                except ConnectionResetError:
                    data, anc, flags = b"", [], 0    # spec END-6: a reset read is end of file
                except OSError as e:
                    self._fail(E.PROTOCOL, "read failed: %s" % e.strerror, send=False)
                    return
                fds = []
                for level, kind, cdata in anc:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        a = array.array("i")
                        a.frombytes(cdata[:len(cdata) - len(cdata) % _INT])
                        fds.extend(a)
                if self.binding == "json":
                    _close_all(fds)          # the binding carries no handles (NODE-8)
                    fds = []
                end = self.rbase + len(self.rbuf) + len(data)
                for fd in fds:
                    self.fdq.append((fd, end))
                if flags & getattr(socket, "MSG_CTRUNC", 8):
                    self._fail(E.FD_MISMATCH, "descriptors were lost (MSG_CTRUNC)")
                    return
                if not data:
                    self._on_eof()
                    return
                if len(self.first) < 32:
                    self.first += data[:32 - len(self.first)]
                if self.binding == "json":
                    self.rbase += len(data)
                    self._read_lines(data)
                else:
                    self.rbuf += data
                    self._read_frames()
                if self.closed or self.failed:
                    return

    def _read_frames(self):
        buf = self.rbuf
        off = 0
        n = len(buf)
        try:
            while off < n:
                start = self.rbase + off
                if self.fdq and self.fdq[0][1] <= start:
                    # spec FD-8: no frame can claim a descriptor that came
                    # at or before the start of this frame.
                    self._fail(E.FD_MISMATCH, "a descriptor came with no frame that announced it")
                    return
                if n - off < 4:
                    break
                length = int.from_bytes(buf[off:off + 4], "big")
                if self.peer is None:
                    if length > HELLO_LIMIT:
                        self._fail(E.NOT_CORD, "the peer is not speaking Cord: " + preview(self.first))
                        return
                elif length > self.opt.max_frame:
                    self._fail(E.FRAME_TOO_LARGE, "frame of %d bytes exceeds max_frame %d" % (length, self.opt.max_frame))
                    return
                if n - off - 4 < length:
                    break
                body = bytes(buf[off + 4:off + 4 + length])
                off += 4 + length
                self._on_frame(body)
                if self.closed or self.failed:
                    return
        finally:
            if off and not self.closed:
                del buf[:off]
                self.rbase += off
        # A read ends after the data that carried descriptors, so what is
        # still queued belongs to the one frame in progress: more than
        # max_fds can never be claimed (FD-7), and would let a peer make us
        # hold descriptors without bound (SEC-2).
        if len(self.fdq) > self.opt.max_fds and not self.failed:
            self._fail(E.FD_MISMATCH, "%d descriptors wait for one frame; max_fds is %d"
                       % (len(self.fdq), self.opt.max_fds))

    def _on_frame(self, body):
        # spec FRAME-14, FRAME-15: only a body with one reading is parsed.
        bad = reading.check(body)
        if bad is None:
            try:
                frame = pb.Frame.FromString(body)
            except Exception:
                bad = "a frame of %d bytes is not a cord.v1.Frame" % len(body)
        if bad is not None:
            if self.peer is None:
                self._fail(E.NOT_CORD, "the peer is not speaking Cord: " + preview(self.first))
            else:
                self._fail(E.PROTOCOL, bad)
            return
        kind = frame.WhichOneof("body")
        if self.peer is None:
            self._on_first(frame, kind)
            return
        if self.peer_goodbye:
            self._fail(E.UNEXPECTED_FRAME, "a frame came after the peer's Goodbye")
            return
        if kind == "message":
            self._on_message(frame.message, len(body))
        elif kind == "ping":
            pong = pb.Frame()
            pong.pong.nonce = frame.ping.nonce
            self._control(pong)
        elif kind == "pong":
            callback = self.pings.pop(frame.pong.nonce, None)
            if callback is not None:
                callback(None)
        elif kind == "cancel":
            msg = self.incoming.get(frame.cancel.id)
            if msg is not None and not msg.cancelled:
                msg.cancelled = True
                self._push(Cancel(msg))
        elif kind == "goodbye":
            self.peer_goodbye = True
            g = frame.goodbye
            self._peer_end(Closed(True, g.reason, g.detail))
        elif kind == "error":
            code = frame.error.code
            err = CordError(code, frame.error.detail)
            if E.is_fatal(code):
                self._fail(code, frame.error.detail, send=False, remote=True)
            else:
                self._push(Error(err, True))
        elif kind == "hello":
            self._fail(E.UNEXPECTED_FRAME, "a second Hello")
        # else: no member we know (spec FRAME-8): discarded.

    def _on_first(self, frame, kind):
        if kind != "hello":
            self._fail(E.UNEXPECTED_FRAME, "the first frame is not a Hello")
            return
        h = frame.hello
        if h.magic != MAGIC:
            self._fail(E.NOT_CORD, "the peer is not speaking Cord: " + preview(self.first))
            return
        if h.min_version > h.max_version or not HELLO_LIMIT <= h.max_frame <= MAX_FRAME_LIMIT:
            self._fail(E.PROTOCOL, "malformed Hello: versions %d..%d, max_frame %d"
                       % (h.min_version, h.max_version, h.max_frame))
            return
        version = min(VERSION, h.max_version)
        if version < max(VERSION, h.min_version):
            self._fail(E.VERSION_MISMATCH, "no common version: we speak %d..%d, peer speaks %d..%d"
                       % (VERSION, VERSION, h.min_version, h.max_version))
            return
        self.peer = h
        self.version = version
        self.ready = True
        held, self.held = self.held, []
        for body, fds in held:
            if len(body) > h.max_frame or len(fds) > h.max_fds:
                # Sent before the limits were known, and beyond them
                # (FRAME-2, FD-1): dropped, and said so.
                _close_all(fds)
                early = pb.Frame.FromString(body)
                err = CordError(E.TOO_BIG, "a message sent before the handshake exceeds the child's limits")
                callback = self.pending.pop(early.message.id, None) if early.message.id else None
                if callback is not None:
                    callback(0, None, [], err)
                else:
                    self._push(Error(err, False))
                continue
            self._queue_bytes(len(body).to_bytes(4, "big") + body, fds, force=True)

    def _on_message(self, m, size):
        if (m.id and m.reply_to) or (m.status and not m.reply_to):
            self._fail(E.PROTOCOL, "a message with id %d, reply_to %d, status %d" % (m.id, m.reply_to, m.status))
            return
        fds = []
        if m.fds:
            if m.fds > self.opt.max_fds:
                self._fail(E.FD_MISMATCH, "a message announces %d descriptors; max_fds is %d" % (m.fds, self.opt.max_fds))
                return
            if m.fds > len(self.fdq):
                self._fail(E.FD_MISMATCH, "a message announces %d descriptors; %d came" % (m.fds, len(self.fdq)))
                return
            fds = [self.fdq.popleft()[0] for _ in range(m.fds)]
        payload = _payload_of(m)
        if m.reply_to:
            callback = self.pending.pop(m.reply_to, None)
            if callback is None:
                _close_all(fds)
                frame = pb.Frame()
                frame.error.code = E.UNKNOWN_REQUEST
                frame.error.detail = "reply to unknown request %d" % m.reply_to
                self._control(frame)
                return
            callback(m.status, payload, fds, None)
            return
        if m.id:
            if m.id in self.incoming:
                _close_all(fds)
                self._fail(E.PROTOCOL, "request id %d is already in use" % m.id)
                return
            msg = Message(self, m.id, payload, fds)
            if not self.sent_goodbye:
                self.incoming[m.id] = msg
            else:
                msg.answered = True    # our direction has ended: it cannot be answered (REQ-2)
            self._push(msg, size)
            return
        self._push(Message(self, 0, payload, fds), size)

    def _on_eof(self):
        self.reading = False
        if self.rbuf or self.discarding:
            self.rbuf.clear()
            self._fail(E.TRUNCATED, "the stream ended inside a %s" % ("line" if self.binding == "json" else "frame"),
                       send=False)
            return
        if self.fdq:
            _close_all(fd for fd, _ in self.fdq)
            self.fdq.clear()
        if self.binding == "cord" and self.peer is None and not self.failed:
            # End of file before the peer's Hello: the handshake never
            # completed.
            self._fail(E.TRUNCATED if self.first else E.CLOSED, "the peer closed the channel before its Hello", send=False)
            return
        if not self.peer_ended:
            self._peer_end(Closed(False))
        self._maybe_close()

    def _peer_end(self, event):
        """The peer's direction ended: fail our requests CLOSED (REQ-9)."""
        self.peer_ended = True
        self._fail_outstanding("the peer's direction ended")
        self._push(event)
        self._maybe_close()

    def _fail_outstanding(self, why):
        pending, self.pending = self.pending, {}
        pings, self.pings = self.pings, {}
        err = CordError(E.CLOSED, why)
        for callback in pending.values():
            callback(0, None, [], err)
        for callback in pings.values():
            callback(err)

    def _fail(self, code, detail, send=True, remote=False):
        """The channel failed with CODE (spec END-11): send an Error frame
        if we may, fail what is outstanding, report, and close once the
        queue is out."""
        if self.failed is not None or self.closed:
            return
        self.failed = CordError(code, detail)
        self.reading = False
        if self.fdq:
            _close_all(fd for fd, _ in self.fdq)
            self.fdq.clear()
        if send and self.binding == "cord" and E.sendable(code):
            frame = pb.Frame()
            frame.error.code = code
            frame.error.detail = bound_detail(detail)
            self._control(frame)
        self.sent_goodbye = True
        self.incoming.clear()
        self._fail_outstanding("the channel failed: %s" % self.failed)
        self._push(Failed(self.failed))
        self._maybe_shutdown()

    # ---- writing -----------------------------------------------------------------

    def on_writable(self):
        """Write what the socket takes from the send queue."""
        with self.lock:
            wq = self.wq
            while wq and not self.closed:
                bufs = []
                size = 0
                head_fds = wq[0][1]
                for item in wq:
                    if bufs and (item[1] or size >= WRITE_BATCH or len(bufs) >= WRITE_IOV):
                        break
                    bufs.append(item[0])
                    size += len(item[0])
                anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", head_fds))] if head_fds else []
                try:
                    sent = self.sock.sendmsg(bufs, anc, _NOSIGNAL)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    # spec END-6: EPIPE or ECONNRESET, the peer's end is closed.
                    self._write_died()
                    return
                if head_fds:
                    _close_all(head_fds)     # our duplicates; they are in flight now
                    wq[0][1] = ()
                self.wq_bytes -= sent
                while sent:
                    data = wq[0][0]
                    if sent >= len(data):
                        sent -= len(data)
                        wq.popleft()
                    else:
                        wq[0][0] = memoryview(data)[sent:]
                        sent = 0
            if not wq:
                if self.above_high:
                    self.above_high = False
                    self._push(Drain())
                self._maybe_shutdown()

    def _write_died(self):
        self.write_dead = True
        for _, fds in self.wq:
            _close_all(fds)
        self.wq.clear()
        self.wq_bytes = 0
        self.sent_goodbye = True
        self.incoming.clear()
        self._maybe_close()

    def _maybe_shutdown(self):
        """Once our direction has ended and its frames are out, shut down
        writing (spec END-1), and close if the peer's has ended too."""
        if self.sent_goodbye and not self.wq and not self.write_shut and not self.closed:
            self.write_shut = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        self._maybe_close()

    def _maybe_close(self):
        if self.closed:
            return
        if self.failed is not None and not self.wq:
            self._close()
        elif (self.write_shut or self.write_dead) and not self.reading:
            self._close()

    def _close(self):
        if self.closed:
            return
        self.closed = True
        self.reading = False
        for _, fds in self.wq:
            _close_all(fds)
        for _, fds in self.held:
            _close_all(fds)
        self.wq.clear()
        self.held = []
        self.wq_bytes = 0
        if self.fdq:
            _close_all(fd for fd, _ in self.fdq)
            self.fdq.clear()
        self.incoming.clear()
        self._fail_outstanding("the channel is closed")
        try:
            self.sock.close()
        except OSError:
            pass


class Endpoint:
    """What a Child, an AsyncChild and a Proc show of their channel."""

    @property
    def binding(self):
        """"cord", or "json" for Node.js's json channel (spec section 13)."""
        return self._ch.binding

    @property
    def peer(self):
        """The peer's Hello (a cord_pb2.Hello) once received; None on the
        json binding, which has none."""
        return self._ch.peer

    @property
    def failed(self):
        """The fatal CordError that ended the channel, or None."""
        return self._ch.failed


def _is_internal(value):
    """True for a Node.js internal message (spec NODE-7)."""
    if not isinstance(value, dict):
        return False
    cmd = value.get("cmd")
    return isinstance(cmd, str) and len(cmd) > 5 and cmd.startswith("NODE_")
