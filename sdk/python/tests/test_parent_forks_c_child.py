"""test_parent_forks_c_child.py: the Python parent forks the C child SDK's testee and uses every kind of exchange with it."""

import os
import unittest

import cord
from helpers import LIMIT, events_until, start

C_CHILD = os.environ.get("CORD_CHILD_TESTEE")
COMMAND = "cord.conformance.Command"


@unittest.skipUnless(C_CHILD, "CORD_CHILD_TESTEE names the C child testee (set by ctest)")
class ParentForksCChild(unittest.TestCase):
    def setUp(self):
        self.proc = start(self, [C_CHILD])

    def tearDown(self):
        self.proc.close()

    def test_payload_kinds_echo(self):
        for value in (b"\x00raw\xff", {"json": [1, 2]}, cord.Typed("x.v1.T", b"\x08\x2a")):
            reply = self.proc.request(value).result(LIMIT)
            self.assertEqual(reply.payload, cord.to_payload(value))

    def test_one_way_messages_in_order(self):
        reply = self.proc.request(cord.Typed(COMMAND, b"send 3 raw")).result(LIMIT)
        self.assertIsNone(reply.payload)
        got = [ev.payload for ev in events_until(self.proc, cord.Message)]
        got += [self.proc.next_event(LIMIT).payload for _ in range(2)]
        self.assertEqual(got[-3:], [cord.Raw(b"1"), cord.Raw(b"2"), cord.Raw(b"3")])

    def test_descriptors_come_back(self):
        r, w = os.pipe()
        try:
            reply = self.proc.request(cord.Typed(COMMAND, b"fds"), fds=[w]).result(LIMIT)
            self.assertEqual(len(reply.fds), 1)
            os.write(reply.fds[0], b"through the child")
            os.close(reply.fds[0])
            os.close(w)
            self.assertEqual(os.read(r, 100), b"through the child")
        finally:
            os.close(r)

    def test_ping_and_stop(self):
        self.assertIsNone(self.proc.ping().result(LIMIT))
        self.assertEqual(str(self.proc.close()), "exit 0")

    def test_child_status_is_raised(self):
        with self.assertRaises(cord.CordError) as caught:
            self.proc.request(cord.Typed(COMMAND, b"fail 10042")).result(LIMIT)
        self.assertEqual(caught.exception.code, 10042)


if __name__ == "__main__":
    unittest.main()
