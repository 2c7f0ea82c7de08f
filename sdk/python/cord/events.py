"""events.py: what a Cord channel reports to its application: messages, cancels, errors, its end, and a child's exit."""

import os

from .payload import Json


class Message:
    """A user message from the peer: one-way (`id` 0) or a request (`id`
    non-zero, answer it with `reply()` exactly once).

    `payload` is a Raw, Json or Typed (payload.py), or None when the message
    carries none. `fds` is the list of descriptors (ints) that came with it;
    they belong to the application, which closes them (or `close_fds()`).
    `cancelled` becomes True when the peer sends Cancel for this request."""

    __slots__ = ("id", "payload", "fds", "cancelled", "answered", "_channel", "__weakref__")

    def __init__(self, channel, id, payload, fds):
        self._channel = channel
        self.id = id
        self.payload = payload
        self.fds = fds
        self.cancelled = False
        self.answered = False

    @property
    def is_request(self):
        """True when the peer waits for a reply."""
        return self.id != 0

    @property
    def data(self):
        """The payload as a plain Python value: bytes for raw, the parsed
        value for json, the Typed itself for typed, None for none."""
        p = self.payload
        if p is None:
            return None
        if isinstance(p, Json):
            return p.load()
        return p.data if hasattr(p, "data") else p

    def reply(self, payload=None, status=0, fds=()):
        """Answer this request (spec REQ-2): PAYLOAD as for `send()`, STATUS
        0 for success or a code from the protocol or application range,
        FDS descriptors to pass back (duplicated; the caller keeps its own).
        Raises CordError: STATE if already answered or not a request,
        TOO_BIG if the reply exceeds the peer's max_frame (nothing is sent
        and the request is still unanswered)."""
        self._channel.reply(self, payload, status, fds)

    def close_fds(self):
        """Close every descriptor that came with this message."""
        fds, self.fds = self.fds, []
        for fd in fds:
            os.close(fd)

    def __repr__(self):
        what = "request %d" % self.id if self.id else "message"
        return "<cord %s %r%s>" % (what, self.payload, " fds=%r" % self.fds if self.fds else "")


class Cancel:
    """The peer cancelled its request `message` (spec REQ-6): it still
    expects exactly one reply, the result or status CANCELLED."""
    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message

    def __repr__(self):
        return "<cord cancel %d>" % self.message.id


class Error:
    """An error that did not end the channel: an Error frame from the peer
    (`remote` True) or a local report such as an oversized json line.
    `error` is the CordError."""
    __slots__ = ("error", "remote")

    def __init__(self, error, remote):
        self.error = error
        self.remote = remote

    def __repr__(self):
        return "<cord %s error %s>" % ("remote" if self.remote else "local", self.error)


class Failed:
    """The channel failed with a fatal error (`error`, a CordError) and is
    closed; every outstanding request of ours was failed with CLOSED."""
    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error

    def __repr__(self):
        return "<cord failed %s>" % self.error


class Closed:
    """The peer's direction ended (spec END-3, END-4): with a Goodbye
    (`goodbye` True, `reason` and `detail` from it) or end of file."""
    __slots__ = ("goodbye", "reason", "detail")

    def __init__(self, goodbye, reason=0, detail=""):
        self.goodbye = goodbye
        self.reason = reason
        self.detail = detail

    def __repr__(self):
        return "<cord closed %s>" % ("goodbye" if self.goodbye else "eof")


class Drain:
    """The send queue, which had passed its high-water mark, is empty again
    (spec FLOW-4)."""
    __slots__ = ()

    def __repr__(self):
        return "<cord drain>"


class Exit:
    """The child ended: `code` is its exit status, or None when `signal`
    (the signal number) ended it (spec END-10)."""
    __slots__ = ("code", "signal")

    def __init__(self, code, signal):
        self.code = code
        self.signal = signal

    def __str__(self):
        return "exit %d" % self.code if self.signal is None else "signal %d" % self.signal

    def __repr__(self):
        return "<cord %s>" % self
