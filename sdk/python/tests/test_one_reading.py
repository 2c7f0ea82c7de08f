"""test_one_reading.py: the one reading of a frame body (spec FRAME-14, FRAME-15): each body it refuses, with its detail and its code, and the bodies with unknown fields it still accepts (FRAME-8, FRAME-9)."""

import socket
import unittest

import cord
from cord import cord_pb2 as pb
from cord import errors as E
from cord import reading
from cord.channel import Channel, Options

# Bodies with no one reading, each with what the detail must begin with:
# one for each bullet of FRAME-14 (and each case of a bullet), and the
# wrong wire types of FRAME-15 in Frame, Message, Hello and Typed.
REFUSED = [
    ("two body members", "22 02 08 07 12 00", "frame.body: message after ping"),
    ("same body member twice", "12 02 08 36 12 02 10 01", "frame.body: message after message"),
    ("two payloads", "12 06 3a 01 61 32 01 31", "frame.message.payload: json after raw"),
    ("same payload twice", "12 06 3a 01 61 3a 01 62", "frame.message.payload: raw after raw"),
    ("tag past 32 bits", "80 80 80 80 10 00", "frame: tag 4294967296 is past 32 bits"),
    ("tag naming field 0", "00 00", "frame: a tag names field 0"),
    ("varint of 11 bytes", "78 ff ff ff ff ff ff ff ff ff ff 01", "frame: a varint"),
    ("varint past 64 bits", "78 ff ff ff ff ff ff ff ff ff 02", "frame: a varint"),
    ("varint past 64 bits in a message", "12 0b 78 ff ff ff ff ff ff ff ff ff 02", "frame.message: a varint"),
    ("uint32 past 32 bits", "12 06 18 80 80 80 80 10", "frame.message.status holds 4294967296, past uint32"),
    ("uint32 past 32 bits in Hello", "0a 06 20 80 80 80 80 10", "frame.hello.max_frame holds 4294967296, past uint32"),
    ("enum past int32", "32 06 08 80 80 80 80 08", "frame.goodbye.reason holds 2147483648, past int32"),
    ("unknown group start", "7b", "frame: field 15 has wire type 3"),
    ("unknown group end", "7c", "frame: field 15 has wire type 4"),
    ("wire type 6", "7e 00", "frame: field 15 has wire type 6"),
    ("wire type 7", "7f 00", "frame: field 15 has wire type 7"),
    ("known field as a group", "12 01 0b", "frame.message: field 1 has wire type 3"),
    ("known member as a varint", "10 01", "frame.message has wire type 0"),
    ("known field of Message, wrong wire type", "12 02 30 01", "frame.message.json has wire type 0"),
    ("known field of Hello, wrong wire type", "0a 02 08 01", "frame.hello.magic has wire type 0"),
    ("known field of Typed, wrong wire type", "12 04 2a 02 08 01", "frame.message.typed.type has wire type 0"),
]

# Unknown fields of each wire type (varint, fixed64, length-delimited,
# fixed32), numbered past the schema's.
UNKNOWN = "78 01 81 01 01 02 03 04 05 06 07 08 8a 01 01 61 95 01 01 02 03 04"

# Bodies with one reading: unknown fields of every wire type in Frame and
# in a message (FRAME-9), a negative enum as a sign-extended 10-byte
# varint, a field that is no oneof member twice (its last value counts).
ACCEPTED = [
    ("unknown fields of each wire type in Message", "12 18 08 05 " + UNKNOWN),
    ("unknown member of Frame", "7a 00"),
    ("unknown fixed32 member of Frame", "7d 01 02 03 04"),
    ("negative enum", "32 0b 08 ff ff ff ff ff ff ff ff ff 01"),
    ("a plain field twice", "12 04 08 01 08 02"),
    ("uint32 at its top", "12 06 18 ff ff ff ff 0f"),
    ("empty body", ""),
]

HELLO = pb.Frame(hello=pb.Hello(magic=0x44524F43, min_version=1, max_version=1, max_frame=1 << 20)).SerializeToString()


def prefixed(body):
    return len(body).to_bytes(4, "big") + body


class OneReading(unittest.TestCase):
    def channel(self, hello=True):
        ours, peer = socket.socketpair()
        ch = Channel(ours, "child", "cord", Options(max_frame=1 << 20))
        self.addCleanup(peer.close)
        self.addCleanup(ch.abort)
        if hello:
            peer.sendall(prefixed(HELLO))
            ch.on_readable()
            self.assertTrue(ch.ready)
        return ch, peer

    def events(self, ch):
        out = []
        while True:
            ev = ch.pop_event()
            if ev is None:
                return out
            out.append(ev)

    def test_refused_with_detail(self):
        for name, hexs, detail in REFUSED:
            with self.subTest(name):
                got = reading.check(bytes.fromhex(hexs))
                self.assertIsNotNone(got)
                self.assertTrue(got.startswith(detail), got)

    def test_accepted(self):
        for name, hexs in ACCEPTED:
            with self.subTest(name):
                body = bytes.fromhex(hexs)
                self.assertIsNone(reading.check(body))
                pb.Frame.FromString(body)

    def test_packed_repeated(self):
        # A repeated field's values come packed or one field each, as the
        # sender chose (protobuf's rule); packed ones are checked value by
        # value. The schema has no repeated field yet, so the walk is shown
        # one of descriptor.proto's: SourceCodeInfo.Location.path, int32.
        from google.protobuf import descriptor_pb2
        desc = descriptor_pb2.SourceCodeInfo.Location.DESCRIPTOR
        walk = lambda hexs: reading._walk(bytes.fromhex(hexs), 0, len(bytes.fromhex(hexs)), desc)
        for hexs in ("0a 02 01 02", "08 01 08 02", "0a 0b 01 ff ff ff ff ff ff ff ff ff 01"):
            self.assertIsNone(walk(hexs), hexs)
        for hexs, detail in (("0a 05 80 80 80 80 08", ".path holds 2147483648, past int32"),
                             ("0a 0b 01 ff ff ff ff ff ff ff ff ff 02", ".path: a varint"),
                             ("0a 02 01 80", ".path: a varint"),
                             ("0d 01 02 03 04", ".path has wire type 5")):
            self.assertTrue((walk(hexs) or "").startswith(detail), (hexs, walk(hexs)))

    def test_refusal_is_protocol(self):
        # After the handshake, fatal PROTOCOL with the walk's detail in the
        # Error frame, and nothing delivered (FRAME-6).
        for name, hexs, detail in REFUSED:
            with self.subTest(name):
                ch, peer = self.channel()
                peer.sendall(prefixed(bytes.fromhex(hexs)))
                ch.on_readable()
                evs = self.events(ch)
                self.assertFalse([e for e in evs if isinstance(e, cord.Message)])
                failed = [e.error for e in evs if isinstance(e, cord.Failed)]
                self.assertEqual([e.code for e in failed], [E.PROTOCOL])
                self.assertIn(detail, str(failed[0]))
                ch.on_writable()
                sent = peer.recv(1 << 16)
                hello_end = 4 + int.from_bytes(sent[:4], "big")       # our own Hello comes first
                err = pb.Frame.FromString(sent[hello_end + 4:]).error
                self.assertEqual(err.code, E.PROTOCOL)
                self.assertTrue(err.detail.startswith(detail), err.detail)

    def test_refusal_in_first_frame_is_not_cord(self):
        for hexs in ("0a 02 08 01", "0a 06 20 80 80 80 80 10", "0a 00 0a 00"):
            with self.subTest(hexs):
                ch, peer = self.channel(hello=False)
                peer.sendall(prefixed(bytes.fromhex(hexs)))
                ch.on_readable()
                failed = [e.error for e in self.events(ch) if isinstance(e, cord.Failed)]
                self.assertEqual([e.code for e in failed], [E.NOT_CORD])

    def test_unknown_fields_are_delivered(self):
        ch, peer = self.channel()
        inner = pb.Message(raw=b"kept").SerializeToString() + bytes.fromhex(UNKNOWN)
        peer.sendall(prefixed(b"\x12" + bytes([len(inner)]) + inner))
        ch.on_readable()
        msgs = [e for e in self.events(ch) if isinstance(e, cord.Message)]
        self.assertEqual([m.data for m in msgs], [b"kept"])


if __name__ == "__main__":
    unittest.main()
