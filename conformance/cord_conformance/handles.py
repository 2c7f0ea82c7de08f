"""handles.py: the descriptors that cross Node.js's channel as handles: made for a case to send, and described and checked when they come."""
import os
import socket

# The `type` of a NODE_HANDLE message, and what its descriptor must be (spec section 13.2).
TYPES = {
    "net.Server": ("stream", True),
    "net.Socket": ("stream", False),
    "net.Native": ("stream", None),
    "dgram.Socket": ("dgram", None),
    "dgram.Native": ("dgram", None),
}

FAMILIES = {socket.AF_INET: "inet", socket.AF_INET6: "inet6", socket.AF_UNIX: "unix"}


def describe(fd):
    """What a descriptor is, as the case format says it: {"kind": "listen"|"connected"|"dgram"|"other", "family": ..., "port": N, "inode": N}."""
    st = os.fstat(fd)
    out = {"inode": st.st_ino}
    try:
        s = socket.socket(fileno=os.dup(fd))
    except OSError:
        out["kind"] = "other"
        return out
    try:
        out["family"] = FAMILIES.get(s.family, str(int(s.family)))
        if s.type == socket.SOCK_DGRAM:
            out["kind"] = "dgram"
        elif s.type == socket.SOCK_STREAM:
            out["kind"] = "listen" if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) else "connected"
        else:
            out["kind"] = "other"
        if s.family in (socket.AF_INET, socket.AF_INET6):
            out["port"] = s.getsockname()[1]
    except OSError:
        out["kind"] = "other"
    finally:
        s.close()
    return out


def breaks_type(handle_type, d):
    """None if the descriptor d (describe()) is what `type` says, else the rule it breaks, in words (spec NODE-14)."""
    want = TYPES.get(handle_type)
    if want is None:
        return "NODE-14: a NODE_HANDLE of type %r, which is none of Node.js's" % (handle_type,)
    kind, listening = want
    ok = d.get("kind") == "dgram" if kind == "dgram" else d.get("kind") in ("listen", "connected")
    if ok and listening is not None:
        ok = (d["kind"] == "listen") == listening
    if ok and kind == "stream":
        ok = d.get("family") in ("inet", "inet6", "unix")
    if not ok:
        words = {"listen": "a listening %s socket", "connected": "a connected %s socket", "dgram": "a %s datagram socket"}
        return "NODE-14: a NODE_HANDLE of type %s whose descriptor is %s" % (
            handle_type, words[d["kind"]] % d.get("family") if d.get("kind") in words else "no socket")
    return None


def make(spec):
    """A fresh descriptor as a case's `handle` asks: a listening socket (`listen`, TCP on 127.0.0.1 port 0, or AF_UNIX)
    or one end of a connected pair (`connected`). Returns (descriptor to send, objects to close once it is sent)."""
    kind, family = spec.get("kind", "listen"), spec.get("family", "inet")
    if kind == "listen":
        if family == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind("\0cord-conformance-%d-%d" % (os.getpid(), id(s)))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
        s.listen(4)
        return s.fileno(), [s]
    if kind == "connected":
        if family == "unix":
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            return a.fileno(), [a, b]
        ln = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ln.bind(("127.0.0.1", 0))
        ln.listen(1)
        c = socket.create_connection(ln.getsockname())
        peer, _ = ln.accept()
        ln.close()
        return c.fileno(), [c, peer]
    if kind == "dgram":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        return s.fileno(), [s]
    if kind == "pipe":
        r, w = os.pipe()
        os.close(r)
        return w, [w]
    raise ValueError("no handle of kind %r" % kind)


def is_internal(obj):
    """Spec NODE-7: an object whose `cmd` is a string longer than 5 characters that starts with NODE_."""
    return isinstance(obj, dict) and isinstance(obj.get("cmd"), str) and obj["cmd"].startswith("NODE_") \
        and len(obj["cmd"]) > 5
