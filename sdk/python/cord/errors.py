"""errors.py: the Cord error table (spec section 11) as Python exceptions and constants."""

import errno as _errno

# Protocol codes (1000-1999): these travel on the wire in Error.code and
# Message.status.
PROTOCOL = 1000
FRAME_TOO_LARGE = 1001
TRUNCATED = 1002
NOT_CORD = 1003
VERSION_MISMATCH = 1004
UNEXPECTED_FRAME = 1005
FD_MISMATCH = 1006
UNKNOWN_REQUEST = 1007
TIMEOUT = 1008
CANCELLED = 1009
UNSUPPORTED = 1010
CLOSED = 1011
FAILED = 1012
# SDK codes (2000-2999): local to this implementation, never sent.
NO_CHANNEL = 2000
NODE_UNREPRESENTABLE = 2001
IPC_COUNT = 2002
STATE = 2003
TOO_BIG = 2004
BUILD_MISMATCH = 2005

_NAMES = {
    PROTOCOL: "PROTOCOL", FRAME_TOO_LARGE: "FRAME_TOO_LARGE", TRUNCATED: "TRUNCATED",
    NOT_CORD: "NOT_CORD", VERSION_MISMATCH: "VERSION_MISMATCH",
    UNEXPECTED_FRAME: "UNEXPECTED_FRAME", FD_MISMATCH: "FD_MISMATCH",
    UNKNOWN_REQUEST: "UNKNOWN_REQUEST", TIMEOUT: "TIMEOUT", CANCELLED: "CANCELLED",
    UNSUPPORTED: "UNSUPPORTED", CLOSED: "CLOSED", FAILED: "FAILED",
    NO_CHANNEL: "NO_CHANNEL", NODE_UNREPRESENTABLE: "NODE_UNREPRESENTABLE",
    IPC_COUNT: "IPC_COUNT", STATE: "STATE", TOO_BIG: "TOO_BIG",
    BUILD_MISMATCH: "BUILD_MISMATCH",
}

# The codes that end the channel when either side detects or receives them
# (the "fatal" column of the table, spec ERR-3 and END-11).
FATAL = frozenset({PROTOCOL, FRAME_TOO_LARGE, TRUNCATED, NOT_CORD, VERSION_MISMATCH,
                   UNEXPECTED_FRAME, FD_MISMATCH, TIMEOUT})


def name(code):
    """Return the table's name for CODE ("CLOSED"), the errno name for a
    POSIX code, or "APP_<n>"/"CODE_<n>" for codes the table does not name."""
    if code in _NAMES:
        return _NAMES[code]
    if 0 < code < 1000:
        return _errno.errorcode.get(code, "E%d" % code)
    if code >= 10000:
        return "APP_%d" % code
    return "CODE_%d" % code


def is_fatal(code):
    """True when CODE, received in an Error frame, ends the channel. Unknown
    protocol codes and application codes are not fatal (spec ERR-2)."""
    return code in FATAL


def sendable(code):
    """True when CODE may be put on the wire (spec ERR-1, ERR-2): success,
    the protocol range, or the application range."""
    return code == 0 or 1000 <= code <= 1999 or 10000 <= code <= 0x7FFFFFFF


class CordError(Exception):
    """Every failure this SDK reports: `code` is a code of the table (a
    positive number, as on the wire), `detail` a sentence for a person.

    A request that got a reply with a non-zero status also raises
    CordError from its future, with that status as `code` and the reply's
    payload (or None) as `payload`."""

    def __init__(self, code, detail="", payload=None):
        self.code = code
        self.detail = detail
        self.payload = payload
        super().__init__("%s (%d)%s" % (name(code), code, ": " + detail if detail else ""))

    @property
    def name(self):
        """The table's name for this error's code."""
        return name(self.code)


class QueueFull(CordError):
    """A send that would take the send queue past its bound (spec FLOW-4).
    Nothing of it was queued; wait for a Drain event or `drain()`."""

    def __init__(self, detail=""):
        super().__init__(_errno.ENOBUFS, detail)
