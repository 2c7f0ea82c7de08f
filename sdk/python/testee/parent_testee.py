#!/usr/bin/python3
"""parent_testee.py: the conformance suite's parent testee (conformance/README.md, T-6) on the Python parent SDK."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import cord  # noqa: E402
from cord import errors as E  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child_testee import COMMAND, numbered  # noqa: E402


class ParentTestee:
    def __init__(self, proc):
        self.proc = proc
        self.held = {}

    def answer_later(self, msg, fut):
        """Reply to the command MSG when FUT (a request or ping) completes."""
        def done(f):
            try:
                r = f.result()
            except cord.CordError as e:
                # A status this side may not send (ERR-2) comes back as FAILED (T-3).
                if not E.sendable(e.code) or not e.code:
                    code = E.FAILED if e.code else E.CLOSED
                    self.reply(msg, None, code)
                else:
                    self.reply(msg, e.payload if e.code != E.CLOSED else None, e.code)
                return
            if r is None:
                self.reply(msg)
            else:
                self.reply(msg, r.payload, 0, r.fds)
                for fd in r.fds:
                    os.close(fd)
        fut.add_done_callback(done)

    def reply(self, msg, value=None, status=0, fds=()):
        try:
            self.proc.reply(msg, value, status, fds)
        except cord.CordError as e:
            if e.code == E.TOO_BIG:
                self.proc.reply(msg, None, E.FAILED)
            elif e.code != E.CLOSED:
                raise

    def command(self, msg, text):
        proc = self.proc
        word, _, rest = text.partition(" ")
        args = rest.split(" ") if rest else []
        if word == "send" and len(args) == 2 and args[0].isdigit():
            for i in range(1, int(args[0]) + 1):
                proc.send(numbered(args[1], i))
            self.reply(msg)
        elif word == "request" and not args:
            try:
                self.answer_later(msg, proc.request(cord.Raw(b"q")))
            except cord.CordError:
                self.reply(msg, None, E.CLOSED)
        elif word == "hold" and not args:
            self.held[msg.id] = msg
        elif word == "fail" and len(args) == 1 and args[0].isdigit():
            code = int(args[0])
            self.reply(msg, None, code if E.sendable(code) else E.FAILED)
        elif word == "ping" and not args:
            try:
                self.answer_later(msg, proc.ping())
            except cord.CordError:
                self.reply(msg, None, E.CLOSED)
        elif word == "fds" and not args:
            self.reply(msg, None, 0, msg.fds)  # no payload, the same descriptors
        elif word == "goodbye" and not args:
            self.reply(msg)
            proc.stop()
        else:
            self.reply(msg, None, E.UNSUPPORTED)
        msg.close_fds()

    def node_command(self, text):
        word, _, rest = text.partition(" ")
        args = rest.split(" ") if rest else []
        if word == "send" and args and args[0].isdigit():
            for i in range(1, int(args[0]) + 1):
                self.proc.send(cord.Json('{"i":%d}' % i))
        self.proc.send({"done": word})

    def on_message(self, msg):
        p = msg.payload
        if self.proc.binding == "json":
            value = msg.data
            if isinstance(value, dict) and isinstance(value.get("conformance"), str):
                self.node_command(value["conformance"])
            else:
                self.proc.send(p)
            return
        if msg.is_request and isinstance(p, cord.Typed) and p.type == COMMAND:
            self.command(msg, p.value.decode("ascii", "replace"))
            return
        # T-1, T-2: the payload comes back with the descriptors that came with it.
        try:
            if msg.is_request:
                self.reply(msg, p, 0, msg.fds)
            else:
                try:
                    self.proc.send(p, msg.fds)
                except cord.CordError as e:
                    if e.code not in (E.TOO_BIG, E.CLOSED):
                        raise
        finally:
            msg.close_fds()

    def run(self):
        for ev in self.proc.events():
            if isinstance(ev, cord.Message):
                try:
                    self.on_message(ev)
                except cord.CordError as e:
                    if e.code != E.CLOSED:
                        raise
            elif isinstance(ev, cord.Cancel):
                held = self.held.pop(ev.message.id, None)
                if held is not None:
                    self.reply(held, None, E.CANCELLED)
            elif isinstance(ev, cord.Exit):
                print(ev, flush=True)
        return 0


def main(argv):
    if len(argv) < 2:
        print("usage: parent_testee.py CHILD-COMMAND...", file=sys.stderr)
        return 2
    binding = "json" if os.environ.get("CORD_CONFORMANCE_BINDING") == "json" else "cord"
    try:
        proc = cord.spawn(argv[1:], serialization=binding)
    except OSError as e:
        print("parent testee: cannot start %s: %s" % (argv[1], e.strerror), file=sys.stderr)
        return 1
    return ParentTestee(proc).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
