"""standin.py: the conformance runner's stand-in child: started by a parent under test, it reports what it was given and hands its channel to the runner."""
import fcntl
import json
import os
import signal
import socket


def _is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def facts():
    """What the spec says a child finds (CHAN-1 to CHAN-5, NODE-1), as observed."""
    f = {}
    cord = os.environ.get("CORD_CHANNEL_FD")
    node = os.environ.get("NODE_CHANNEL_FD")
    f["CORD_CHANNEL_FD"] = cord
    f["NODE_CHANNEL_FD"] = node
    f["NODE_CHANNEL_SERIALIZATION_MODE"] = os.environ.get("NODE_CHANNEL_SERIALIZATION_MODE")
    f["fds"] = [fd for fd in range(1024) if _is_open(fd)]
    value = cord if cord is not None else node
    fd = None
    if value is None:
        f["problem"] = "no CORD_CHANNEL_FD or NODE_CHANNEL_FD"
    elif not value.isdigit() or (len(value) > 1 and value[0] == "0"):
        f["problem"] = "channel variable %r is not a plain decimal number" % value
    else:
        fd = int(value)
        try:
            s = socket.socket(fileno=os.dup(fd))
            f["family"] = {socket.AF_UNIX: "AF_UNIX"}.get(s.family, str(s.family))
            f["type"] = {socket.SOCK_STREAM: "SOCK_STREAM"}.get(s.type, str(s.type))
            s.detach()
            f["nonblocking"] = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)
            f["cloexec"] = bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
        except OSError as e:
            f["problem"] = "descriptor %d: %s" % (fd, e)
            fd = None
    return f, fd


def main():
    f, fd = facts()
    f["pid"] = os.getpid()  # so that the runner can stop it, whatever process group the parent gave it
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.connect(os.environ["CORD_CONFORMANCE_CTL"])
    if fd is not None:
        socket.send_fds(ctl, [json.dumps(f).encode()], [fd])
        # Only the runner holds the channel now, so that end of file and
        # the stand-in's exit are separate events, as the cases need.
        os.close(fd)
    else:
        ctl.sendall(json.dumps(f).encode())
    # Commands from the runner, one a line: `exit STATUS`, or `ignore SIGNAL...`
    # (acknowledged with `ok`, so that the case goes on only once it holds).
    buf = b""
    while True:
        data = ctl.recv(256)
        if not data:
            os._exit(0)
        buf += data
        while b"\n" in buf:
            line, _, buf = buf.partition(b"\n")
            word, _, arg = line.decode().partition(" ")
            if word == "exit":
                os._exit(int(arg))
            elif word == "ignore":
                for name in arg.split():
                    signal.signal(getattr(signal, name), signal.SIG_IGN)
                ctl.sendall(b"ok\n")


if __name__ == "__main__":
    main()
