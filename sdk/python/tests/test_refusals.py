"""test_refusals.py: local refusals the suite cannot see (nothing is sent): NODE-9, NODE-4, NODE-7, FRAME-2, REQ-11, PING-5, and REQ-9's CLOSED."""

import unittest

import cord
from cord import errors as E
from helpers import LIMIT, child, events_until, start

ECHO = "import cord\nch = cord.connect()\nfor m in ch:\n    m.reply(m.payload) if m.id else ch.send(m.payload)\nch.close()\n"


class JsonBinding(unittest.TestCase):
    def setUp(self):
        self.proc = start(self, child(ECHO), serialization="json")

    def tearDown(self):
        self.proc.close()

    def refused(self, code, fn, *args, **kw):
        with self.assertRaises(cord.CordError) as caught:
            fn(*args, **kw)
        self.assertEqual(caught.exception.code, code)

    def test_what_the_binding_cannot_carry(self):
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, b"raw")
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, cord.Typed("a.B", b""))
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.request, {"q": 1})
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.ping)
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, {"fd": 1}, fds=[0])

    def test_lines_node_would_choke_on(self):
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, cord.Json(""))
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, cord.Json('{"a":\n1}'))
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, cord.Json("{not json"))
        self.refused(E.NODE_UNREPRESENTABLE, self.proc.send, {"cmd": "NODE_HANDLE"})

    def test_json_still_flows(self):
        self.proc.send({"cmd": "NODE"})        # five characters: not internal (spec NODE-7)
        evs = events_until(self.proc, cord.Message)
        self.assertEqual(evs[-1].payload, cord.Json('{"cmd":"NODE"}'))


class CordBinding(unittest.TestCase):
    def test_frame_too_big_for_the_child(self):
        proc = start(self, child("import cord\nch = cord.connect(max_frame=1024)\nfor m in ch: pass\nch.close()\n"))
        self.assertIsNone(proc.ping().result(LIMIT))         # the child's Hello has come
        with self.assertRaises(cord.CordError) as caught:
            proc.send(b"x" * 2000)
        self.assertEqual(caught.exception.code, E.TOO_BIG)
        self.assertIsNone(proc.ping().result(LIMIT))         # and the channel lives on
        self.assertEqual(str(proc.close()), "exit 0")

    def test_no_request_or_ping_after_the_child_ended(self):
        code = ("import cord, sys\nch = cord.connect()\nch.goodbye()\nsys.stdin.read()\n")
        import os
        r, w = os.pipe()
        proc = start(self, child(code), stdin=r)
        os.close(r)
        try:
            events_until(proc, cord.Closed)
            for fn, args in ((proc.request, ({"late": 1},)), (proc.ping, ())):
                with self.assertRaises(cord.CordError) as caught:
                    fn(*args)
                self.assertEqual(caught.exception.code, E.CLOSED)
        finally:
            os.close(w)
        self.assertEqual(proc.wait(LIMIT).code, 0)

    def test_outstanding_request_is_closed_when_the_child_dies(self):
        code = "import cord, os\nch = cord.connect()\nnext(iter(ch))\nos._exit(3)\n"
        proc = start(self, child(code))
        fut = proc.request({"never": "answered"})
        with self.assertRaises(cord.CordError) as caught:
            fut.result(LIMIT)
        self.assertEqual(caught.exception.code, E.CLOSED)
        self.assertEqual(proc.wait(LIMIT).code, 3)


if __name__ == "__main__":
    unittest.main()
