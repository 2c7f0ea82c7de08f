"""test_spawn.py: starting children: synchronous failures, the channel a child is given, HELLO-12, END-9 escalation, END-10 reaping."""

import os
import signal
import unittest

import cord
from helpers import LIMIT, child, events_until, start


class Spawn(unittest.TestCase):
    def test_missing_program_fails_at_once(self):
        with self.assertRaises(FileNotFoundError):
            cord.spawn(["/nonexistent/cord-child"])
        with self.assertRaises(ValueError):
            cord.spawn(["true"], serialization="advanced")    # spec NODE-3

    def test_child_gets_channel_at_3(self):
        code = ("import os, socket, fcntl\n"
                "s = socket.socket(fileno=3)\n"
                "ok = (os.environ['CORD_CHANNEL_FD'] == '3' and s.type == socket.SOCK_STREAM and "
                "not fcntl.fcntl(3, fcntl.F_GETFD) & fcntl.FD_CLOEXEC and "
                "os.get_blocking(3))\n"
                "os._exit(0 if ok else 9)\n")
        proc = start(self, child(code), hello_timeout=None)
        self.assertEqual(str(proc.wait(LIMIT)), "exit 0")

    def test_silent_child_times_out_and_is_stopped(self):
        # The child never says Hello: it waits on a pipe nobody writes.
        r, w = os.pipe()
        try:
            proc = start(self, child("import sys; sys.stdin.read()"), stdin=r, hello_timeout=0.2, grace=0.2)
            evs = events_until(proc, cord.Exit)
        finally:
            os.close(r)
            os.close(w)
        failed = [e for e in evs if isinstance(e, cord.Failed)]
        self.assertEqual(failed[0].error.code, cord.errors.TIMEOUT)
        self.assertEqual(evs[-1].signal, signal.SIGTERM)

    def test_stop_escalates_to_sigkill(self):
        code = ("import signal, cord\n"
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "ch = cord.connect()\n"
                "for msg in ch: pass\n"          # the parent's Goodbye ends this loop...
                "signal.pause()\n")              # ...but this child never exits on its own
        proc = start(self, child(code), grace=0.2)
        self.assertIsNone(proc.ping().result(LIMIT))
        proc.stop()
        self.assertEqual(proc.wait(LIMIT).signal, signal.SIGKILL)

    def test_exit_status_is_reported(self):
        proc = start(self, child("import cord, os; ch = cord.connect(); os._exit(7)"))
        evs = events_until(proc, cord.Exit)
        self.assertEqual((evs[-1].code, evs[-1].signal), (7, None))
        self.assertTrue(any(isinstance(e, cord.Closed) and not e.goodbye for e in evs))


if __name__ == "__main__":
    unittest.main()
