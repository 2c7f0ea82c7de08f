"""test_child_exit_ends_channel.py: once the child is reaped the parent reads what the socket holds and ends the channel as at end of file, though a descendant still holds the child's end (spec CHAN-10)."""

import os
import unittest

import cord
from cord import errors as E

from helpers import LIMIT, child, events_until, start

# A child that breaks CHAN-6 on purpose: it leaves its end of the channel
# to a descendant in a session of its own, writes its Hello, a message
# naming that descendant and TAIL (bytes), and exits at once. The
# descendant reads the child's standard input, a pipe the test holds open
# until it ends, so it outlives the child and no longer than the test.
HOLDER = r"""
import os, subprocess
from cord import cord_pb2 as pb
fd = int(os.environ["CORD_CHANNEL_FD"])
holder = subprocess.Popen(["cat"], stdout=subprocess.DEVNULL, pass_fds=(fd,), start_new_session=True)
def frame(f):
    body = f.SerializeToString()
    return len(body).to_bytes(4, "big") + body
hello = pb.Frame(hello=pb.Hello(magic=0x44524F43, min_version=1, max_version=1, max_frame=65536))
note = pb.Frame(message=pb.Message(raw=str(holder.pid).encode()))
os.write(fd, frame(hello) + frame(note) + %r)
os._exit(0)
"""


class ChildExitEndsChannel(unittest.TestCase):
    def run_holder(self, tail):
        r, w = os.pipe()
        self.addCleanup(os.close, w)       # the descendant's end of file
        try:
            proc = start(self, child(HOLDER % (tail,)), stdin=r)
        finally:
            os.close(r)
        evs = events_until(proc, cord.Exit)
        msgs = [e for e in evs if isinstance(e, cord.Message)]
        self.assertEqual(len(msgs), 1, evs)
        os.kill(int(msgs[0].data), 0)      # the descendant still holds the channel
        self.assertEqual(evs[-1].code, 0)
        self.assertIsNotNone(proc.wait(LIMIT))
        return evs

    def test_end_of_file_after_reaping(self):
        evs = self.run_holder(b"")
        closed = [e for e in evs if isinstance(e, cord.Closed)]
        self.assertEqual([c.goodbye for c in closed], [False])      # END-4: end of file
        self.assertFalse([e for e in evs if isinstance(e, cord.Failed)])

    def test_part_of_a_frame_is_truncated(self):
        evs = self.run_holder(b"\x00\x00\x00\x09\x12")
        failed = [e.error.code for e in evs if isinstance(e, cord.Failed)]
        self.assertEqual(failed, [E.TRUNCATED])


if __name__ == "__main__":
    unittest.main()
