"""test_backpressure.py: the parent's bounded send queue (spec FLOW-4) and its bounded hold of received messages (SEC-2, FLOW-1)."""

import os
import unittest

import cord
from helpers import LIMIT, child, events_until, start, wait_for

# A child that reads nothing until its stdin ends, then counts the one-way
# messages until the parent's Goodbye and sends the count back.
SLOW = ("import cord, sys\nch = cord.connect()\nsys.stdin.read()\n"
        "n = sum(1 for m in ch if not m.id)\nch.send({'count': n})\nch.close()\n")

# A child that sends 4096 one-way messages of 1 KiB and says Goodbye.
FLOOD = ("import cord\nch = cord.connect()\n"
         "with ch.batch():\n    for i in range(4096): ch.send(b'x' * 1024)\nch.close()\n")


class Backpressure(unittest.TestCase):
    def test_queue_is_bounded_and_nothing_is_lost(self):
        r, w = os.pipe()
        proc = start(self, child(SLOW), stdin=r, queue_limit=1 << 20, high_water=64 << 10)
        os.close(r)
        wait_for(lambda: proc.peer is not None)        # the handshake is done
        sent, below = 0, []
        with self.assertRaises(cord.QueueFull):
            while sent < 100000:
                below.append(proc.send(b"m" * 1024))
                sent += 1
        self.assertIn(False, below)                    # past the high-water mark, said so
        self.assertLessEqual(proc.queued_bytes, 1 << 20)
        os.close(w)                                    # the child reads now
        events_until(proc, cord.Drain)
        proc.stop()
        evs = events_until(proc, cord.Exit)
        counts = [e.data for e in evs if isinstance(e, cord.Message)]
        self.assertEqual(counts, [{"count": sent}])
        self.assertEqual(evs[-1].code, 0)

    def test_received_messages_held_are_bounded(self):
        limit = 64 << 10
        proc = start(self, child(FLOOD), event_limit=limit)
        # The channel stops reading at the limit (past it by at most the
        # frames of one read); the child then waits in its writes.
        wait_for(lambda: proc.held_bytes >= limit)
        self.assertLessEqual(proc.held_bytes, limit + cord.channel.READ_SIZE + 1100)
        got = [e for e in events_until(proc, cord.Exit) if isinstance(e, cord.Message)]
        self.assertEqual(len(got), 4096)
        self.assertEqual(proc.exit.code, 0)


if __name__ == "__main__":
    unittest.main()
