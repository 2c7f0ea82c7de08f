#!/usr/bin/python3
"""child_testee.py: the conformance suite's child testee (conformance/README.md, T-1 to T-5) on the Python child SDK."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import cord  # noqa: E402
from cord import errors as E  # noqa: E402

COMMAND = "cord.conformance.Command"


def numbered(kind, i):
    """The payload of the i-th message of `send N KIND`."""
    if kind == "raw":
        return cord.Raw(str(i).encode())
    if kind == "typed":
        return cord.Typed("cord.conformance.Seq", str(i).encode())
    return cord.Json('{"i":%d}' % i)


def environment_report(ch):
    """The json payload of the `env` command."""
    leaked = any(k == "CORD_CHANNEL_FD" or k.startswith("NODE_CHANNEL_") for k in os.environ)
    return cord.Json(json.dumps({"channel_env": leaked, "cloexec": not os.get_inheritable(ch.fileno)}, separators=(",", ":")))


class Testee:
    def __init__(self, ch):
        self.ch = ch
        self.held = {}

    def command(self, msg, text):
        """Carry out one command of T-3; returns True to end the session."""
        ch = self.ch
        word, _, rest = text.partition(" ")
        args = rest.split(" ") if rest else []
        if word == "send" and len(args) == 2 and args[0].isdigit():
            with ch.batch():
                for i in range(1, int(args[0]) + 1):
                    ch.send(numbered(args[1], i))
            ch.reply(msg)
        elif word == "request" and not args:
            try:
                r = ch.request(cord.Raw(b"q"))
                ch.reply(msg, r.payload, 0, r.fds)
                for fd in r.fds:
                    os.close(fd)
            except cord.CordError as e:
                # A status this side may not send (ERR-2) comes back as FAILED (T-3).
                if not E.sendable(e.code):
                    ch.reply(msg, None, E.FAILED)
                else:
                    ch.reply(msg, e.payload if e.code != E.CLOSED else None, e.code)
        elif word == "hold" and not args:
            self.held[msg.id] = msg
        elif word == "fail" and len(args) == 1 and args[0].isdigit():
            code = int(args[0])
            ch.reply(msg, None, code if E.sendable(code) else E.FAILED)
        elif word == "ping" and not args:
            try:
                ch.ping()
                ch.reply(msg)
            except cord.CordError:
                ch.reply(msg, None, E.CLOSED)
        elif word == "fds" and not args:
            ch.reply(msg, None, 0, msg.fds)
        elif word == "env" and not args:
            ch.reply(msg, environment_report(ch))
        elif word == "goodbye" and not args:
            ch.reply(msg)
            ch.close()
            return True
        elif word == "exit" and len(args) == 1 and args[0].isdigit():
            ch.reply(msg)
            ch.flush()
            os._exit(int(args[0]))
        else:
            ch.reply(msg, None, E.UNSUPPORTED)
        msg.close_fds()
        return False

    def node_command(self, text):
        """A command on the Node.js binding: carried out, then {"done":WORD}."""
        ch = self.ch
        word, _, rest = text.partition(" ")
        args = rest.split(" ") if rest else []
        if word == "send" and args and args[0].isdigit():
            with ch.batch():
                for i in range(1, int(args[0]) + 1):
                    ch.send(cord.Json('{"i":%d}' % i))
        elif word == "env":
            ch.send(environment_report(ch))
        elif word == "exit" and len(args) == 1 and args[0].isdigit():
            ch.send({"done": word})
            ch.flush()
            os._exit(int(args[0]))
        ch.send({"done": word})

    def on_message(self, msg):
        ch = self.ch
        p = msg.payload
        if ch.binding == "json":
            value = msg.data
            if isinstance(value, dict) and isinstance(value.get("conformance"), str):
                self.node_command(value["conformance"])
            else:
                ch.send(p)
            return False
        if msg.is_request and isinstance(p, cord.Typed) and p.type == COMMAND:
            return self.command(msg, p.value.decode("ascii", "replace"))
        try:
            # T-1, T-2: the payload comes back with the descriptors that came with it.
            if msg.is_request:
                ch.reply(msg, p, 0, msg.fds)
            else:
                ch.send(p, msg.fds)
        except cord.CordError as e:
            # A reply too big for the parent is answered FAILED (T-1); a
            # channel that has failed meanwhile refuses both (CLOSED).
            if e.code == E.TOO_BIG and msg.is_request:
                ch.reply(msg, None, E.FAILED)
            elif e.code not in (E.TOO_BIG, E.CLOSED):
                raise
        finally:
            msg.close_fds()
        return False

    def run(self):
        for ev in self.ch.events():
            if isinstance(ev, cord.Message):
                try:
                    if self.on_message(ev):
                        break
                except cord.CordError as e:
                    if e.code != E.CLOSED:     # the channel ended meanwhile
                        raise
            elif isinstance(ev, cord.Cancel):
                held = self.held.pop(ev.message.id, None)
                if held is not None:
                    self.ch.reply(held, None, E.CANCELLED)
        self.ch.close()
        return self.ch.exit_status


def main():
    try:
        ch = cord.connect(max_frame=65536, max_fds=4)
    except cord.CordError as e:
        print("child testee: %s" % e, file=sys.stderr)
        return 76
    return Testee(ch).run()


if __name__ == "__main__":
    sys.exit(main())
