"""child.py: the child role: find the channel, say Hello, receive messages, answer requests, end as the spec says; blocking and asyncio."""

import asyncio
import inspect
import os
import re
import select
import socket
import stat
import sys
import time

from . import errors as E
from .channel import Channel, Endpoint, Options
from .errors import CordError
from .events import Cancel, Closed, Error, Failed, Message

EXIT_OK = 0          # spec END-8: the channel ended without a fatal error
EXIT_FATAL = 76      # spec END-8: after a fatal protocol error
EXIT_NO_CHANNEL = 64  # spec CHAN-7, CHAN-8, NODE-3

_VARS = ("CORD_CHANNEL_FD", "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE")


class NoChannel(CordError):
    """The process has no usable channel (spec CHAN-7, CHAN-8, NODE-3)."""

    def __init__(self, detail, missing=False):
        super().__init__(E.NO_CHANNEL, detail)
        self.missing = missing


def find_channel():
    """Find this process's channel as spec CHAN-6, CHAN-9 and NODE-2 say:
    read the variables, check the descriptor, remove the variables from
    the environment and make the descriptor close-on-exec.

    Returns (socket, binding) with binding "cord" or "json". Raises
    NoChannel (with `missing` True when no variable is set at all)."""
    env = os.environ
    if "CORD_CHANNEL_FD" in env:
        var, binding = "CORD_CHANNEL_FD", "cord"
    elif "NODE_CHANNEL_FD" in env:
        var, binding = "NODE_CHANNEL_FD", "json"
        mode = env.get("NODE_CHANNEL_SERIALIZATION_MODE", "json")
        if mode != "json":
            for name in _VARS:
                env.pop(name, None)
            raise NoChannel("NODE_CHANNEL_SERIALIZATION_MODE=%r: only the json serialization is supported" % mode[:64])
    else:
        raise NoChannel("this is a Cord child, to be started by a Cord parent (CORD_CHANNEL_FD is not set)", True)
    value = env[var]
    for name in _VARS:
        env.pop(name, None)
    shown = "%s=%r" % (var, value[:32])
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise NoChannel("%s: not a decimal descriptor number" % shown)
    fd = int(value)
    try:
        st = os.fstat(fd)
    except OSError:
        raise NoChannel("%s: no open descriptor has that number" % shown) from None
    if not stat.S_ISSOCK(st.st_mode):
        raise NoChannel("%s: the descriptor is not a socket" % shown)
    sock = socket.socket(fileno=fd)
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise NoChannel("%s: the descriptor is not an AF_UNIX stream socket" % shown)
    os.set_inheritable(fd, False)
    return sock, binding


def _open(standalone, options):
    try:
        sock, binding = find_channel()
    except NoChannel as e:
        if e.missing and standalone:
            return None
        print("cord: %s" % e.detail, file=sys.stderr)
        raise SystemExit(EXIT_NO_CHANNEL) from None
    return Channel(sock, "child", binding, options or Options(max_frame=16 << 20))


class Reply:
    """The successful reply to one of our requests: `payload`, `fds` (ours
    to close) and `data` as on events.Message. A reply with a non-zero
    status is raised as CordError instead (its `code` is the status, its
    `payload` the reply's payload)."""
    __slots__ = ("status", "payload", "fds")

    def __init__(self, status, payload, fds):
        self.status = status
        self.payload = payload
        self.fds = fds

    data = Message.data

    def __repr__(self):
        return "<cord reply %r>" % (self.payload,)


def _outcome(status, payload, fds, error):
    """Turn a request callback's arguments into a Reply or a CordError."""
    if error is not None:
        return error
    if status:
        for fd in fds:
            os.close(fd)
        return CordError(status, "the peer answered with status %d" % status, payload)
    return Reply(status, payload, fds)


class _Handlers(Endpoint):
    """The request and message handlers shared by Child and AsyncChild."""

    def _init_handlers(self):
        self._by_type = {}
        self._default = None
        self._on_message = None

    def handler(self, fn=None, *, type=None):
        """Register FN to answer requests (all of them, or those whose typed
        payload has TYPE as its name when TYPE is given). Its return value is
        the reply's payload (see `send()`); raising CordError replies with
        its code and payload; any other exception replies FAILED with the
        exception's text. Usable as `@ch.handler` or `@ch.handler(type=...)`.
        A request no handler takes is answered UNSUPPORTED (spec MSG-4)."""
        def register(f):
            if type is None:
                self._default = f
            else:
                self._by_type[type] = f
            return f
        return register(fn) if fn is not None else register

    def on_message(self, fn):
        """Register FN(message) for one-way messages; without one, a one-way
        message gets an Error frame UNSUPPORTED (spec MSG-4)."""
        self._on_message = fn
        return fn

    def _handler_for(self, msg):
        """The handler of request MSG; None, after answering it UNSUPPORTED
        (spec MSG-4), when it has none."""
        p = msg.payload
        if p is not None and hasattr(p, "type") and p.type in self._by_type:
            return self._by_type[p.type]
        if self._default is None:
            self._answer(msg, error=CordError(E.UNSUPPORTED, "no handler"))
        return self._default

    def _answer(self, msg, fn_result=None, error=None):
        """Reply to MSG with a handler's result or exception."""
        if msg.answered:
            return
        try:
            if error is None:
                msg.reply(fn_result)
            elif isinstance(error, CordError) and E.sendable(error.code) and error.code:
                msg.reply(error.payload, error.code)
            else:
                msg.reply(_describe(error), E.FAILED)
        except CordError as e:
            if e.code == E.TOO_BIG and not msg.answered:
                msg.reply(None, E.FAILED)
            elif e.code != E.CLOSED:
                raise


def _describe(error):
    from .payload import Raw
    return Raw(("%s: %s" % (type(error).__name__, error)).encode("utf-8", "replace")[:1024])


class Child(_Handlers):
    """A connected Cord child, blocking style. Obtain one with `connect()`.

    Iterate over it for the parent's messages; `send()`, `request()`,
    `ping()` talk to the parent; Pings are answered by the SDK whenever it
    reads. When the parent's direction ends the iteration stops; `close()`
    (or leaving a `with` block) then answers what is unanswered, says
    Goodbye and closes, as spec END-8 says."""

    def __init__(self, channel):
        self._ch = channel
        self._poll = select.poll()
        self._registered = 0
        self._batch = 0
        self._init_handlers()

    # ---- properties ------------------------------------------------------

    @property
    def exit_status(self):
        """The status spec END-8 asks a child to exit with now: 76 after a
        fatal error, 0 otherwise."""
        return EXIT_FATAL if self._ch.failed is not None else EXIT_OK

    @property
    def fileno(self):
        """The channel's descriptor (for a caller's own poll loop)."""
        return self._ch.fileno

    # ---- the loop ----------------------------------------------------------

    def _pump(self, timeout):
        ch = self._ch
        mask = (select.POLLIN if ch.wants_read else 0) | (select.POLLOUT if ch.wants_write else 0)
        if ch.closed or not mask:
            return False
        if mask != self._registered:
            self._poll.register(ch.fileno, mask)
            self._registered = mask
        ms = None if timeout is None else max(0, int(timeout * 1000))
        ready = self._poll.poll(ms)
        for _, ev in ready:
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR) and ch.wants_read:
                ch.on_readable()
            if ev & (select.POLLOUT | select.POLLHUP | select.POLLERR) and ch.wants_write:
                ch.on_writable()
        if ch.closed:
            self._registered = 0
        return True

    def _wait(self, done, timeout=None):
        """Pump until DONE() or TIMEOUT seconds; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if not self._pump(left):
                return done()
        return True

    def next_event(self, timeout=None):
        """The next event (events.py: Message, Cancel, Error, Closed, Failed,
        Drain), None on TIMEOUT or once the channel is closed and every
        event was taken."""
        ch = self._ch
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            ev = ch.pop_event()
            if ev is not None:
                return ev
            left = None if deadline is None else deadline - time.monotonic()
            if (left is not None and left <= 0) or not self._pump(left):
                if ch.events:
                    continue
                return None

    def events(self):
        """Every event until the channel is closed or the parent's direction
        has ended (the last event is then Closed or Failed)."""
        while True:
            ev = self.next_event()
            if ev is None:
                return
            yield ev
            if isinstance(ev, (Closed, Failed)):
                return

    def __iter__(self):
        """The parent's messages, one-way ones and requests, until its
        direction ends. Cancels only set `message.cancelled`."""
        for ev in self.events():
            if isinstance(ev, Message):
                yield ev

    # ---- sending -------------------------------------------------------------

    def send(self, value, fds=()):
        """Send a one-way message and write it out before returning (a child
        may block in a write, spec FLOW-2), unless inside `batch()`.
        VALUE: bytes (raw), a protobuf message (typed), cord.Raw/Json/Typed,
        None (no payload) or any JSON-serialisable value (json). FDS:
        descriptors (ints or objects with fileno()) to pass; duplicated, so
        the caller keeps and closes its own. Raises CordError (TOO_BIG,
        CLOSED, NODE_UNREPRESENTABLE on the json binding for what it cannot
        carry)."""
        self._ch.send(value, fds)
        if not self._batch or self._ch.wq_bytes >= (256 << 10):
            self.flush()

    def batch(self):
        """A context manager in which `send()` queues instead of writing each
        message at once; the queue is written in large writes, and at the
        end. Example: `with ch.batch(): for i in range(n): ch.send(b"x")`."""
        child = self

        class _Batch:
            def __enter__(self):
                child._batch += 1
                return child

            def __exit__(self, *exc):
                child._batch -= 1
                if not child._batch:
                    child.flush()
        return _Batch()

    def flush(self):
        """Write everything queued (reading meanwhile)."""
        self._wait(lambda: not self._ch.wants_write)

    def request(self, value, fds=(), timeout=None):
        """Send a request and wait for its reply; other events are kept for
        `next_event()` meanwhile. Returns a Reply; raises CordError with the
        reply's status (and its payload as `.payload`), CLOSED if the channel
        ends first, TIMEOUT after TIMEOUT seconds (then a Cancel is sent)."""
        box = []
        rid = self._ch.request(value, lambda *a: box.append(_outcome(*a)), fds)
        self.flush()
        if not self._wait(lambda: box, timeout):
            self._ch.cancel(rid)
            self.flush()
            raise CordError(E.TIMEOUT, "no reply to request %d" % rid)
        if isinstance(box[0], CordError):
            raise box[0]
        return box[0]

    def ping(self, timeout=None):
        """Ping the parent and wait for its Pong (spec PING-1). Raises
        CordError CLOSED if the channel ends first or the parent's direction
        has ended (PING-5), TIMEOUT after TIMEOUT seconds."""
        box = []
        self._ch.ping(box.append)
        self.flush()
        if not self._wait(lambda: box, timeout):
            raise CordError(E.TIMEOUT, "no Pong")
        if box[0] is not None:
            raise box[0]

    def error(self, code, detail=""):
        """Send a non-fatal Error frame (spec ERR-3), e.g. UNSUPPORTED for a
        one-way message the application does not handle."""
        self._ch.error(code, detail)
        self.flush()

    def reply(self, msg, value=None, status=0, fds=()):
        """Same as msg.reply(...), then write it out."""
        msg.reply(value, status, fds)
        self.flush()

    # ---- handlers ---------------------------------------------------------------

    def dispatch(self, ev):
        """Act on one event with the registered handlers (what `run()` does
        for each event)."""
        if isinstance(ev, Message):
            if ev.is_request:
                fn = self._handler_for(ev)
                if fn is not None:
                    try:
                        result = fn(ev)
                    except Exception as e:    # the handler's failure is the request's
                        self._answer(ev, error=e)
                    else:
                        self._answer(ev, result)
            elif self._on_message is not None:
                self._on_message(ev)
            elif self.binding == "cord" and not self._ch.sent_goodbye:
                self.error(E.UNSUPPORTED, "no handler for one-way messages")
            self.flush()

    def run(self):
        """Serve the parent with the registered handlers until its direction
        ends, then close. Returns the exit status spec END-8 asks for; a
        program ends with `sys.exit(ch.run())`."""
        for ev in self.events():
            self.dispatch(ev)
        self.close()
        return self.exit_status

    # ---- ending -------------------------------------------------------------------

    def close(self):
        """End as spec END-8 says: answer unanswered requests CANCELLED,
        send Goodbye, write everything queued, wait for the parent's
        direction to end (events that come meanwhile are dropped, their
        descriptors closed), and close the channel. Idempotent."""
        ch = self._ch
        ch.goodbye()
        while not ch.closed:
            ev = self.next_event()
            if ev is None:
                break
            if isinstance(ev, Message):
                ev.close_fds()
        ch.abort()

    def goodbye(self):
        """Say Goodbye now (spec END-1) and write it out: nothing more can be
        sent; replies to our requests still arrive, so keep reading until
        the parent's direction ends. close() does this when needed."""
        self._ch.goodbye()
        self.flush()

    def exit(self):
        """close(), then exit the process with `exit_status`."""
        self.close()
        sys.exit(self.exit_status)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(*, max_frame=16 << 20, max_fds=16, standalone=False, options=None):
    """Connect to the parent: find the channel (spec CHAN-6), send our Hello
    and wait for the parent's (on a Node.js json channel there is none).

    MAX_FRAME and MAX_FDS are the limits our Hello announces. Without a
    channel the process writes one line to standard error and exits 64
    (spec CHAN-7), unless STANDALONE is true, when connect() returns None
    for a process started without any channel variable. A handshake that
    fails (the parent is not Cord, no common version, ...) raises
    CordError after closing the channel; exit with status 76 then.

    Example:
        with cord.connect() as ch:
            for msg in ch:
                if msg.is_request:
                    msg.reply(msg.payload)
    """
    ch = _open(standalone, options or Options(max_frame=max_frame, max_fds=max_fds))
    if ch is None:
        return None
    child = Child(ch)
    child._wait(lambda: ch.ready or ch.closed or ch.failed is not None)
    if not ch.ready:
        child.close()
        raise ch.failed or CordError(E.CLOSED, "the channel ended before the parent's Hello")
    return child


class AsyncChild(_Handlers):
    """A connected Cord child for asyncio. Obtain one with
    `await cord.aconnect()`. Handlers may be coroutine functions; a Cancel
    from the parent cancels the task of the request it names, and the
    request is then answered CANCELLED."""

    def __init__(self, channel, loop):
        self._ch = channel
        self._loop = loop
        self._ready = asyncio.Event()
        self._reader = False
        self._writer = False
        self._tasks = {}
        self._drained = None
        channel.on_event = self._ready.set
        self._init_handlers()
        self._update()

    exit_status = Child.exit_status

    def _update(self):
        ch = self._ch
        want_r = ch.wants_read and not ch.closed
        want_w = ch.wants_write and not ch.closed
        if want_r != self._reader:
            if want_r:
                self._loop.add_reader(ch.fileno, self._readable)
            else:
                self._loop.remove_reader(ch.fileno)
            self._reader = want_r
        if want_w != self._writer:
            if want_w:
                self._loop.add_writer(ch.fileno, self._writable)
            else:
                self._loop.remove_writer(ch.fileno)
            self._writer = want_w
        if not want_w and self._drained is not None:
            self._drained.set()
        if ch.closed:
            self._ready.set()

    def _readable(self):
        self._ch.on_readable()
        if self._ch.wants_write:
            self._ch.on_writable()
        self._ready.set()     # the handshake may have completed
        self._update()

    def _writable(self):
        self._ch.on_writable()
        self._update()

    def _kick(self):
        if self._ch.wants_write:
            self._ch.on_writable()
        self._update()

    async def next_event(self):
        """The next event, or None once the channel is closed and every
        event was taken."""
        while True:
            ev = self._ch.pop_event()
            if ev is not None:
                self._update()
                return ev
            if self._ch.closed:
                return None
            self._ready.clear()
            self._update()
            await self._ready.wait()

    async def events(self):
        """Every event until the parent's direction ends (see Child.events)."""
        while True:
            ev = await self.next_event()
            if ev is None:
                return
            yield ev
            if isinstance(ev, (Closed, Failed)):
                return

    async def __aiter__(self):
        async for ev in self.events():
            if isinstance(ev, Message):
                yield ev

    def send(self, value, fds=()):
        """Queue a one-way message (see Child.send); returns False past the
        high-water mark: `await drain()` then."""
        below = self._ch.send(value, fds)
        self._kick()
        return below

    async def drain(self):
        """Wait until the send queue is empty."""
        while self._ch.wants_write:
            self._drained = asyncio.Event()
            self._update()
            await self._drained.wait()
        self._drained = None

    async def request(self, value, fds=()):
        """Send a request and await its Reply (see Child.request; wrap in
        asyncio.wait_for for a time limit: cancelling the await sends
        Cancel)."""
        fut = self._loop.create_future()

        def done(*args):
            if not fut.done():
                out = _outcome(*args)
                (fut.set_exception if isinstance(out, CordError) else fut.set_result)(out)
        rid = self._ch.request(value, done, fds)
        self._kick()
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            self._ch.cancel(rid)
            self._kick()
            raise

    async def ping(self):
        """Ping the parent and await the Pong (see Child.ping)."""
        fut = self._loop.create_future()
        self._ch.ping(lambda err: fut.done() or (fut.set_exception(err) if err else fut.set_result(None)))
        self._kick()
        await fut

    def reply(self, msg, value=None, status=0, fds=()):
        """msg.reply(...), and start writing it."""
        msg.reply(value, status, fds)
        self._kick()

    async def _serve(self, msg, fn):
        try:
            result = fn(msg)
            if inspect.isawaitable(result):
                result = await result
        except asyncio.CancelledError:
            self._answer(msg, error=CordError(E.CANCELLED, "cancelled"))
        except Exception as e:
            self._answer(msg, error=e)
        else:
            self._answer(msg, result)
        finally:
            self._tasks.pop(msg.id, None)
            self._kick()

    def dispatch(self, ev):
        """Act on one event with the registered handlers."""
        if isinstance(ev, Message):
            if ev.is_request:
                fn = self._handler_for(ev)
                if fn is not None:
                    self._tasks[ev.id] = self._loop.create_task(self._serve(ev, fn))
            elif self._on_message is not None:
                result = self._on_message(ev)
                if inspect.isawaitable(result):
                    self._loop.create_task(result)
            elif self.binding == "cord" and not self._ch.sent_goodbye:
                self._ch.error(E.UNSUPPORTED, "no handler for one-way messages")
        elif isinstance(ev, Cancel):
            task = self._tasks.get(ev.message.id)
            if task is not None:
                task.cancel()
        self._kick()

    async def run(self):
        """Serve the parent with the registered handlers until its direction
        ends and the handlers are done, then close. Returns the exit status."""
        async for ev in self.events():
            self.dispatch(ev)
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await self.close()
        return self.exit_status

    async def close(self):
        """End as spec END-8 says (see Child.close)."""
        ch = self._ch
        for task in list(self._tasks.values()):
            task.cancel()
        ch.goodbye()
        self._kick()
        while not ch.closed:
            ev = await self.next_event()
            if ev is None:
                break
            if isinstance(ev, Message):
                ev.close_fds()
        self._update()
        ch.abort()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()


async def aconnect(*, max_frame=16 << 20, max_fds=16, standalone=False, options=None):
    """The asyncio form of `connect()`: returns an AsyncChild once the
    parent's Hello has come."""
    ch = _open(standalone, options or Options(max_frame=max_frame, max_fds=max_fds))
    if ch is None:
        return None
    child = AsyncChild(ch, asyncio.get_running_loop())
    while not (ch.ready or ch.closed):
        child._ready.clear()
        child._update()
        if ch.ready or ch.closed:
            break
        await child._ready.wait()
        if ch.failed is not None:
            break
    if not ch.ready:
        await child.close()
        raise ch.failed or CordError(E.CLOSED, "the channel ended before the parent's Hello")
    return child

