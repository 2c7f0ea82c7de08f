"""parent.py: the parent role: start a child with a channel, talk to it from any thread, stop it and reap it."""

import concurrent.futures
import fcntl
import os
import select
import signal
import socket
import threading
import time

from . import errors as E
from .channel import Channel, Endpoint, Options
from .child import _outcome
from .errors import CordError
from .events import Closed, Exit, Failed

DEFAULT_GRACE = 5.0          # seconds between the steps of spec END-9
DEFAULT_HELLO_TIMEOUT = 10.0  # seconds to wait for the child's Hello (HELLO-12)
FLUSH_LIMIT = 5.0            # seconds a failed channel may take to write its Error frame

_CHANNEL_VARS = ("CORD_CHANNEL_FD", "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE")


class Request(concurrent.futures.Future):
    """The future of one request to the child. `result()` gives a Reply
    (status 0) or raises CordError: the reply's status with its payload,
    or CLOSED when the channel ended first (spec REQ-9).

    `cancel()` sends Cancel to the child (spec REQ-6) and returns False:
    the request stays pending until its reply (the result, or status
    CANCELLED) arrives, as the spec says."""

    def __init__(self, proc):
        super().__init__()
        self.id = 0
        self._proc = proc

    def cancel(self):
        if self.id and not self.done():
            self._proc._cord_cancel(self.id)
        return False

    def _settle(self, status, payload, fds, error):
        out = _outcome(status, payload, fds, error)
        if isinstance(out, CordError):
            self.set_exception(out)
        else:
            self.set_result(out)


def _stdio(value):
    if value is None:
        return None
    if value == DEVNULL:
        return os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    return os.dup(value if isinstance(value, int) else value.fileno())


DEVNULL = -3   # stdin/stdout/stderr: the child's descriptor opens /dev/null


class Proc(Endpoint):
    """A child started by `spawn()`, with its channel. Every method may be
    called from any thread; a thread of the Proc's own reads and writes
    the channel, so the parent always reads while it writes (spec FLOW-1),
    answers Pings, and reaps the child (END-10).

    Events (events.py) come from `next_event()` or `events()`: Message,
    Cancel, Error, Drain, Closed (the child's direction ended), Failed,
    and last Exit. Received messages are held, up to the Options'
    event_limit bytes, until the application takes them; past it the
    channel stops reading and the child blocks in its writes."""

    def __init__(self, pid, channel, kill_signal, grace, hello_timeout):
        self.pid = pid
        self._ch = channel
        self._kill_signal = kill_signal
        self._grace = grace
        self._cond = threading.Condition(channel.lock)
        channel.on_event = self._cond.notify_all
        self.exit = None
        self._exit_queued = False  # the Exit event is among the channel's events, or was taken
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None       # kernels before 5.3 (and valgrind): waitpid is polled
        now = time.monotonic()
        self._hello_deadline = now + hello_timeout if hello_timeout and channel.binding == "cord" else None
        self._stop_stage = 0
        self._stop_deadline = None
        self._fail_deadline = None
        self._thread = threading.Thread(target=self._run, name="cord-parent-%d" % pid, daemon=True)
        self._thread.start()

    # ---- properties ------------------------------------------------------------

    @property
    def held_bytes(self):
        """Bytes of received messages waiting in next_event(); the channel
        stops reading while this is at the event_limit (spec SEC-2)."""
        return self._ch.event_bytes

    @property
    def queued_bytes(self):
        """Bytes waiting in the send queue (spec FLOW-4)."""
        return self._ch.wq_bytes

    # ---- talking to the child ---------------------------------------------------

    def _kick(self):
        ch = self._ch
        if ch.wants_write:
            ch.on_writable()
        if ch.wants_write or ch.closed:
            self._wake()

    def _wake(self):
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    def send(self, value, fds=()):
        """Send a one-way message (payloads as cord.child.Child.send). It is
        queued and written without blocking; returns False when the queue is
        past its high-water mark (a Drain event follows once it is empty),
        as Node.js's send() does. Raises QueueFull past the queue's bound
        (spec FLOW-4), CordError TOO_BIG, CLOSED, NODE_UNREPRESENTABLE."""
        with self._ch.lock:
            below = self._ch.send(value, fds)
            self._kick()
            return below

    def request(self, value, fds=()):
        """Send a request; returns its Request future. Raises CordError CLOSED
        if the child's direction has ended (spec REQ-11), and as send()."""
        fut = Request(self)
        with self._ch.lock:
            fut.id = self._ch.request(value, fut._settle, fds)
            self._kick()
        return fut

    def _cord_cancel(self, rid):
        with self._ch.lock:
            if self._ch.cancel(rid):
                self._kick()

    def ping(self):
        """Ping the child; returns a Future that completes (result None) on
        the Pong, or fails with CordError CLOSED. Raises CLOSED when the
        child's direction has ended (PING-5)."""
        fut = concurrent.futures.Future()
        with self._ch.lock:
            self._ch.ping(lambda err: fut.set_exception(err) if err else fut.set_result(None))
            self._kick()
        return fut

    def error(self, code, detail=""):
        """Send a non-fatal Error frame (spec ERR-3), e.g. UNSUPPORTED about a
        one-way message the application does not handle (MSG-4)."""
        with self._ch.lock:
            self._ch.error(code, detail)
            self._kick()

    def reply(self, msg, value=None, status=0, fds=()):
        """Same as msg.reply(...); the reply is written at once."""
        with self._ch.lock:
            msg.reply(value, status, fds)
            self._kick()
            # The last answer the child waits for after its Goodbye ends our
            # direction too (spec END-3); the loop decides that, so it looks now.
            self._wake()

    # ---- events ----------------------------------------------------------------

    def next_event(self, timeout=None):
        """The next event, waiting up to TIMEOUT seconds (None: no limit);
        None on timeout or after the last event (Exit) was taken."""
        ch = self._ch
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not ch.events:
                # Only once Exit itself is queued: the reaper sets `exit` and
                # queues the event in two steps, and it must not be lost between.
                if self._exit_queued:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            paused = not ch.wants_read
            ev = ch.pop_event()
            if paused and ch.wants_read:
                self._wake()       # below event_limit again: read on
            return ev

    def events(self):
        """Every event, until and including Exit."""
        while True:
            ev = self.next_event()
            if ev is None:
                return
            yield ev
            if isinstance(ev, Exit):
                return

    # ---- ending ----------------------------------------------------------------

    def stop(self, grace=None):
        """Stop the child as spec END-9 says, without waiting: Goodbye with
        REASON_SHUTDOWN (on the json binding, and before the handshake, the
        channel is closed instead), then after GRACE seconds (default: the
        spawn option) the kill signal, and after GRACE more SIGKILL. Each
        step happens only if the child has not exited."""
        with self._ch.lock:
            if self.exit is not None or self._stop_stage:
                return
            self._stop_stage = 1
            self._stop_deadline = time.monotonic() + (self._grace if grace is None else grace)
            ch = self._ch
            if ch.binding == "cord" and ch.ready:
                ch.goodbye(1, "parent is stopping")
            elif ch.binding == "json":
                ch.goodbye()
            else:
                ch.abort()
            self._kick()
            self._wake()

    def kill(self, sig=signal.SIGKILL):
        """Send SIG to the child now, unless it has been reaped."""
        with self._ch.lock:
            if self.exit is None:
                os.kill(self.pid, sig)

    def wait(self, timeout=None):
        """Wait until the child has exited and the channel has ended; returns
        the Exit (exit status or signal), or None on timeout. Events are left
        for next_event()."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self.exit is None or not self._ch.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            return self.exit

    def close(self):
        """stop(), then wait() for the end; returns the Exit."""
        self.stop()
        return self.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the channel's thread --------------------------------------------------

    def _reap(self):
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0     # reaped by someone else: status unknown
        if pid == 0:
            return
        if os.WIFSIGNALED(status):
            self.exit = Exit(None, os.WTERMSIG(status))
        else:
            self.exit = Exit(os.WEXITSTATUS(status), None)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def _timers(self, now):
        """Act on the deadlines that have passed; return the next one."""
        ch = self._ch
        if self._hello_deadline is not None:
            if ch.ready or ch.closed:
                self._hello_deadline = None
            elif now >= self._hello_deadline:
                # spec HELLO-12: no Goodbye before the handshake: close the
                # channel, then the grace period and the signals.
                self._hello_deadline = None
                ch._fail(E.TIMEOUT, "no Hello from the child within the time limit", send=False)
                ch.abort()
                if not self._stop_stage and self.exit is None:
                    self._stop_stage = 1
                    self._stop_deadline = now + self._grace
        if ch.failed is not None and not ch.closed:
            if self._fail_deadline is None:
                self._fail_deadline = now + FLUSH_LIMIT
            elif now >= self._fail_deadline:
                ch.abort()     # the child does not read its Error frame
        if self._stop_stage and self.exit is None and now >= self._stop_deadline:
            if self._stop_stage == 1:
                os.kill(self.pid, self._kill_signal)
                self._stop_stage = 2
                self._stop_deadline = now + self._grace
            elif self._stop_stage == 2:
                os.kill(self.pid, signal.SIGKILL)
                self._stop_stage = 3
        # After the child's direction ends, ours ends once the child's
        # requests are answered (spec END-3).
        if ch.peer_ended and not ch.sent_goodbye and not ch.incoming and not ch.closed:
            ch.goodbye()
        deadlines = [d for d in (self._hello_deadline, self._fail_deadline,
                                 self._stop_deadline if self._stop_stage in (1, 2) and self.exit is None else None)
                     if d is not None]
        if self._pidfd is None and self.exit is None:
            deadlines.append(now + 0.05)
        return min(deadlines) if deadlines else None

    def _run(self):
        ch = self._ch
        poll = select.poll()
        poll.register(self._wake_r, select.POLLIN)
        registered = {}
        try:
            while True:
                with ch.lock:
                    now = time.monotonic()
                    if self.exit is None and self._pidfd is None:
                        self._reap()
                    if self.exit is not None and ch.wants_read:
                        # spec CHAN-10: once the child is reaped, read what
                        # the socket holds, then end as at end of file; a
                        # descendant that kept the child's end must not
                        # keep us waiting for it. (While the application
                        # holds event_limit bytes, this waits for it.)
                        ch.peer_exited = True
                        ch.on_readable()
                    nxt = self._timers(now)
                    if ch.closed and self.exit is not None:
                        ch._push(self.exit)
                        self._exit_queued = True
                        self._cond.notify_all()
                        return
                    want = {}
                    if not ch.closed:
                        mask = (select.POLLIN if ch.wants_read else 0) | (select.POLLOUT if ch.wants_write else 0)
                        if mask:
                            want[ch.fileno] = mask
                    if self._pidfd is not None:
                        want[self._pidfd] = select.POLLIN
                for fd in list(registered):
                    if fd not in want:
                        try:
                            poll.unregister(fd)
                        except KeyError:
                            pass
                        del registered[fd]
                for fd, mask in want.items():
                    if registered.get(fd) != mask:
                        poll.register(fd, mask)
                        registered[fd] = mask
                timeout = None if nxt is None else max(0, int((nxt - time.monotonic()) * 1000) + 1)
                ready = poll.poll(timeout)
                with ch.lock:
                    for fd, ev in ready:
                        if fd == self._wake_r:
                            try:
                                while os.read(self._wake_r, 512):
                                    pass
                            except BlockingIOError:
                                pass
                        elif fd == self._pidfd:
                            self._reap()
                        elif fd == ch.fileno and not ch.closed:
                            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR) and ch.wants_read:
                                ch.on_readable()
                            if ev & (select.POLLOUT | select.POLLHUP | select.POLLERR) and ch.wants_write:
                                ch.on_writable()
                            if ch.closed:
                                registered.pop(ch.fileno, None)
                                try:
                                    poll.unregister(ch.fileno)
                                except KeyError:
                                    pass
                    if ch.closed or ready:
                        self._cond.notify_all()
        finally:
            os.close(self._wake_r)
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None


def _spawn_sigdef():
    """Signals the child gets back at their default action: those this
    process ignores (Python ignores SIGPIPE and SIGXFSZ), since an ignored
    signal stays ignored across exec."""
    out = set()
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            if signal.getsignal(sig) == signal.SIG_IGN:
                out.add(sig)
        except (ValueError, OSError):
            pass
    out.update({signal.SIGPIPE, signal.SIGXFSZ})
    return out


def spawn(argv, *, env=None, serialization="cord", channel_fd=3, stdin=None, stdout=None,
          stderr=None, pass_fds=None, setsid=False, kill_signal=signal.SIGTERM,
          grace=DEFAULT_GRACE, hello_timeout=DEFAULT_HELLO_TIMEOUT, max_frame=64 << 20,
          max_fds=16, queue_limit=64 << 20, high_water=128 << 10, event_limit=16 << 20):
    """Start ARGV (a list; argv[0] is looked up in PATH when it has no
    slash) as a Cord child and return its Proc.

    env: the child's environment (default: this process's); the channel
        variables are set in it (spec CHAN-3, NODE-1).
    serialization: "cord" (Cord frames) or "json" (Node.js's json channel,
        spec section 13, for a Node.js child or any child of that binding).
    channel_fd: the channel's descriptor number in the child, at least 3.
    stdin, stdout, stderr: None (inherit), a descriptor or object with
        fileno(), or cord.parent.DEVNULL.
    pass_fds: {child_fd: parent_fd} more descriptors to place in the child.
    setsid: start the child in a new session.
    kill_signal, grace: the signal and the period of spec END-9.
    hello_timeout: seconds to wait for the child's Hello (HELLO-12); None
        for no limit.
    max_frame, max_fds: our Hello's limits. queue_limit, high_water,
        event_limit: see cord.Options.

    A child that cannot be started raises OSError (FileNotFoundError,
    PermissionError, ...) and leaves nothing behind.

    Example:
        with cord.spawn(["./worker"]) as proc:
            print(proc.request({"n": 1}).result(timeout=10).data)
    """
    if serialization not in ("cord", "json"):
        raise ValueError("serialization must be 'cord' or 'json' (spec NODE-3), not %r" % (serialization,))
    if not isinstance(channel_fd, int) or channel_fd < 3:
        raise ValueError("channel_fd must be a descriptor number of at least 3")
    argv = [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in argv]
    if not argv:
        raise ValueError("argv is empty")
    options = Options(max_frame=max_frame, max_fds=max_fds, queue_limit=queue_limit,
                      high_water=high_water, event_limit=event_limit)
    environ = dict(os.environ if env is None else env)
    for name in _CHANNEL_VARS:
        environ.pop(name, None)
    if serialization == "json":
        environ["NODE_CHANNEL_FD"] = str(channel_fd)
        environ["NODE_CHANNEL_SERIALIZATION_MODE"] = "json"
    else:
        environ["CORD_CHANNEL_FD"] = str(channel_fd)

    # spec CHAN-1, CHAN-2: a stream socketpair, both ends close-on-exec
    # (Python creates them so).
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    placed = {channel_fd: theirs.fileno()}
    temps = []
    try:
        for target, value in ((0, stdin), (1, stdout), (2, stderr)):
            fd = _stdio(value)
            if fd is not None:
                temps.append(fd)
                placed[target] = fd
        for target, fd in (pass_fds or {}).items():
            if target in placed or target < 0:
                raise ValueError("descriptor %d is placed twice" % target)
            placed[target] = fd if isinstance(fd, int) else fd.fileno()
        # Move every source above every target first, so that no dup2 of
        # the file actions overwrites a source another one still needs, and
        # no source is its own target (whose close-on-exec flag would stay).
        floor = max(placed) + 1
        actions = []
        for target, fd in placed.items():
            high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor)
            temps.append(high)
            actions.append((os.POSIX_SPAWN_DUP2, high, target))
        spawner = os.posix_spawnp if "/" not in argv[0] else os.posix_spawn
        kwargs = dict(file_actions=actions, setsigdef=_spawn_sigdef(), setsigmask=())
        if setsid:
            kwargs["setsid"] = True
        pid = spawner(argv[0], argv, environ, **kwargs)
    except BaseException:
        ours.close()
        raise
    finally:
        # spec CHAN-4: our copy of the child's end is closed once it runs.
        theirs.close()
        for fd in temps:
            os.close(fd)
    channel = Channel(ours, "parent", serialization, options)
    return Proc(pid, channel, kill_signal, grace, hello_timeout)
