"""proxy.py: the recorder's man in the middle: started by a real parent as its child, it starts the real child and relays, logging every byte and descriptor."""
import array
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

from cord_conformance import handles


def main():
    # Usage: proxy.py LOG -- CHILD-COMMAND...
    log_path = sys.argv[1]
    child_argv = sys.argv[sys.argv.index("--") + 1:]
    var = "CORD_CHANNEL_FD" if "CORD_CHANNEL_FD" in os.environ else "NODE_CHANNEL_FD"
    up = socket.socket(fileno=int(os.environ.pop(var)))
    mode = os.environ.pop("NODE_CHANNEL_SERIALIZATION_MODE", None)
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = dict(os.environ)
    env[var] = "3"
    if mode:
        env["NODE_CHANNEL_SERIALIZATION_MODE"] = mode

    def to3():
        os.dup2(theirs.fileno(), 3)

    child = subprocess.Popen(child_argv, env=env, close_fds=False, preexec_fn=to3)
    theirs.close()
    t0 = time.monotonic()
    log = open(log_path, "w")

    def note(**kw):
        kw["t"] = round(time.monotonic() - t0, 6)
        log.write(json.dumps(kw) + "\n")
        log.flush()

    ends = {"p2c": (up, mine), "c2p": (mine, up)}
    open_dirs = set(ends)
    while open_dirs:
        socks = [ends[d][0] for d in open_dirs]
        r, _, _ = select.select(socks, [], [], 60)
        if not r:
            note(event="stall")
            break
        for d in list(open_dirs):
            src, dst = ends[d]
            if src not in r:
                continue
            try:
                data, anc, flags, _ = src.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 64))
            except ConnectionResetError:
                data, anc = b"", []
            fds = []
            for lvl, typ, cdata in anc:
                if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    a = array.array("i")
                    a.frombytes(cdata[:len(cdata) - len(cdata) % 4])
                    fds.extend(a)
            if not data:
                note(dir=d, eof=True)
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                open_dirs.discard(d)
                continue
            if fds:
                # What each descriptor is, for a case that sends or expects it as a handle.
                note(dir=d, hex=data.hex(), fds=len(fds), handles=[handles.describe(fd) for fd in fds])
            else:
                note(dir=d, hex=data.hex(), fds=0)
            try:
                if fds:
                    dst.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                else:
                    dst.sendall(data)
            except OSError as e:
                note(dir=d, error=str(e))
            for fd in fds:
                os.close(fd)
    status = child.wait()
    note(event="exit", status=status)
    log.close()
    up.close()
    mine.close()
    # The real parent sees the real child's ending.
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


if __name__ == "__main__":
    main()
