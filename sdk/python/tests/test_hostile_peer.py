"""test_hostile_peer.py: what a hostile peer can make a channel hold or do, driven byte by byte from a raw socket (SEC-1, SEC-2)."""

import os
import socket
import unittest

import cord
from cord import cord_pb2 as pb
from cord import errors as E
from cord.channel import Channel, Options


def frame(**body):
    f = pb.Frame(**body)
    data = f.SerializeToString()
    return len(data).to_bytes(4, "big") + data


HELLO = frame(hello=pb.Hello(magic=0x44524F43, min_version=1, max_version=1, max_frame=1 << 20, max_fds=4))


class HostilePeer(unittest.TestCase):
    def setUp(self):
        ours, self.peer = socket.socketpair()
        self.ch = Channel(ours, "child", "cord", Options(max_frame=1 << 20, max_fds=2))
        self.peer.sendall(HELLO)
        self.pump()
        self.assertTrue(self.ch.ready)

    def tearDown(self):
        self.ch.abort()
        self.peer.close()

    def pump(self):
        self.ch.on_writable()
        self.ch.on_readable()

    def events(self):
        out = []
        while True:
            ev = self.ch.pop_event()
            if ev is None:
                return out
            out.append(ev)

    def test_descriptors_without_end_are_refused(self):
        # A frame that never completes, each chunk of it carrying a descriptor.
        r, w = os.pipe()
        try:
            self.peer.sendall(b"\x00\x0f\x00\x00")        # a 983040-byte frame begins
            for held in (1, 2):
                socket.send_fds(self.peer, [b"x" * 100], [r])
                self.pump()
                self.assertEqual(len(self.ch.fdq), held)      # max_fds 2: may still be the frame's
            socket.send_fds(self.peer, [b"x" * 100], [r])
            self.pump()
            failed = [e for e in self.events() if isinstance(e, cord.Failed)]
            self.assertEqual(failed[0].error.code, E.FD_MISMATCH)
            self.assertEqual(len(self.ch.fdq), 0)             # closed, not held (FD-9)
        finally:
            os.close(r)
            os.close(w)

    def test_oversized_prefix_is_refused_before_the_body(self):
        self.peer.sendall(b"\x00\x20\x00\x00")             # 2 MiB, over max_frame
        self.pump()
        failed = [e for e in self.events() if isinstance(e, cord.Failed)]
        self.assertEqual(failed[0].error.code, E.FRAME_TOO_LARGE)
        self.assertLessEqual(len(self.ch.rbuf), 4)            # the prefix, never the body
        self.assertFalse(self.ch.reading)
        self.ch.on_writable()
        reply = self.peer.recv(1000)
        self.assertIn(b"exceeds max_frame 1048576", reply)

    def test_truncated_frame_is_fatal_and_delivers_nothing(self):
        data = frame(message=pb.Message(json='{"a":1}'))
        self.peer.sendall(data[:-1])
        self.peer.shutdown(socket.SHUT_WR)
        self.pump()
        evs = self.events()
        self.assertFalse([e for e in evs if isinstance(e, cord.Message)])
        self.assertEqual([e.error.code for e in evs if isinstance(e, cord.Failed)], [E.TRUNCATED])

    def test_duplicate_request_id_is_fatal(self):
        self.peer.sendall(frame(message=pb.Message(id=5)) + frame(message=pb.Message(id=5)))
        self.pump()
        evs = self.events()
        self.assertEqual(len([e for e in evs if isinstance(e, cord.Message)]), 1)
        self.assertEqual([e.error.code for e in evs if isinstance(e, cord.Failed)], [E.PROTOCOL])


if __name__ == "__main__":
    unittest.main()
