"""derive.py: makes the invalid cases from recorded valid ones, each by one named edit: the bad bytes no reference implementation would send."""
import copy
import json
import os
import sys

from . import wire

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.normpath(os.path.join(HERE, "..", "cases"))


def load(case_id):
    with open(os.path.join(CASES, case_id + ".json")) as f:
        return json.load(f)


def handshake(base):
    """The steps of a recorded case up to the end of the handshake: the runner's Hello and the implementation's."""
    out, sent, got = [], False, False
    for st in base["steps"]:
        out.append(st)
        if "send" in st and "hello" in st["send"].get("text", ""):
            sent = True
        if "expect" in st and "hello" in st["expect"]:
            got = True
        if sent and got:
            return out
    raise ValueError("%s has no handshake" % base["case"])


def raw(hexstr, note):
    """A send of bytes no implementation would write, described for people."""
    return {"send": {"hex": hexstr, "text": note}}


def frame(text):
    return {"send": {"hex": wire.hexs(wire.prefix(wire.from_text(text).SerializeToString())), "text": text}}


def fatal(code, role, exit_ok=(76,), may_first=()):
    """A fatal error: the Error frame is recommended, the close required (spec END-11), and how the end shows.
    `may_first`: frames the implementation may send before it notices (each alternative with and without)."""
    tail_rec, tail_req = [{"expect_eof": True}], [{"expect_eof": True}]
    if role == "child":
        tail_rec.append({"expect_exit": list(exit_ok)})
        tail_req.append({"expect_exit": "any"})
    alts = []
    for first in ([], [{"expect": p} for p in may_first]) if may_first else ([],):
        alts.append({"level": "recommended", "steps": first + [{"expect": {"error": {"code": code, "...": True}}}] + tail_rec})
        alts.append({"level": "required", "steps": first + tail_req})
    steps = [{"expect_one_of": alts}]
    if role == "parent":
        steps += [{"child_exit": 0}, {"expect_output": "exit 0"}]
    return steps


def quiet_end(role):
    """Truncation: there is no stream left to report on (spec ERR-3, TRUNCATED is local)."""
    if role == "child":
        return [{"expect_one_of": [
            {"level": "recommended", "steps": [{"expect_eof": True}, {"expect_exit": [76]}]},
            {"level": "required", "steps": [{"expect_eof": True}, {"expect_exit": "any"}]}]}]
    return [{"expect_eof": True}, {"child_exit": 0}, {"expect_output": "exit 0"}]


def still_alive(base):
    """After a fault that must not end the channel: a request still gets its reply, then the recorded end."""
    probe = [frame('message { id: 900 json: "\\"alive?\\"" }'),
             {"expect": {"message": {"reply_to": 900, "json": "\"alive?\""}}, "ignore": ["error"]}]
    return probe + ending(base)


def ending(base):
    """The recorded end of the base case: from the runner's Goodbye (or the implementation's) on."""
    steps = base["steps"]
    for i, st in enumerate(steps):
        if ("send" in st and "goodbye" in st["send"].get("text", "")) or ("expect" in st and "goodbye" in st["expect"]):
            return copy.deepcopy(steps[i:])
    return []


HELLO = ('hello { magic: %d min_version: %d max_version: %d max_frame: 65536 max_fds: 4 '
         'impl_name: "conformance" impl_version: "1" }')


def derivations(role):
    """(id, title, checks, requirement, level, builder) for each fault, for the implementation in `role`."""
    other = "parent" if role == "child" else "child"
    return [
        ("framing/oversized-length", "A prefix beyond the receiver's max_frame is refused before the body is read",
         ["FRAME-5", "END-11", "SEC-1"], "A receiver MUST compare L with its own max_frame as soon as it has the 4 prefix bytes, before it reads, buffers or allocates anything for the body.",
         lambda b: handshake(b) + [raw("7f ff ff f0 00 00", "a prefix of 2147483632 bytes, and no body")] + fatal(1001, role)),
        ("framing/top-bit-length", "A prefix with the top bit set is never valid",
         ["FRAME-3", "FRAME-5"], "Prefixes with the top bit set (80 00 00 00 and above) are never valid.",
         lambda b: handshake(b) + [raw("80 00 00 05 12 03 32 01 31", "a prefix with the top bit set")] + fatal(1001, role)),
        ("framing/truncated-header", "End of file inside a prefix is a truncated stream",
         ["FRAME-12", "END-8"], "End of file after at least one byte of a frame and before its last byte is fatal.",
         lambda b: handshake(b) + [raw("00 00", "two bytes of a prefix"), {"close": "write"}] + quiet_end(role)),
        ("framing/truncated-body", "End of file inside a body is a truncated stream",
         ["FRAME-12", "END-8"], "The receiver MUST discard the partial frame, MUST NOT deliver anything from it, and MUST treat the channel as failed with TRUNCATED.",
         lambda b: handshake(b) + [raw("00 00 00 0d 12 0b 32 09 7b 22", "6 of 17 bytes of a message frame"), {"close": "write"}] + quiet_end(role)),
        ("framing/bad-protobuf", "A body that is not a Frame is fatal",
         ["FRAME-6"], "A body that is not a valid protobuf encoding of cord.v1.Frame is fatal.",
         lambda b: handshake(b) + [raw("00 00 00 04 0f 00 00 00", "wire type 7, which does not exist")] + fatal(1000, role)),
        ("framing/unknown-frame-kind", "A frame with a body from a newer schema is ignored",
         ["FRAME-8", "FRAME-9"], "A receiver MUST discard, without closing the channel, a frame whose body holds no member it knows.",
         lambda b: handshake(b) + [raw("00 00 00 02 7a 00", "body member 15, unknown"), raw("00 00 00 00", "an empty body")] + still_alive(b)),
        ("handshake/message-before-hello", "A user message before the Hello is never delivered",
         ["HELLO-5", "HELLO-6"], "A user message received before the peer's Hello MUST NOT be delivered to the application.",
         lambda b: before_hello(b, frame('message { id: 7 json: "\\"early\\"" }')) + fatal(1005, role)),
        ("handshake/empty-before-hello", "An empty frame before the Hello is fatal",
         ["HELLO-6"], "Any other first frame that decodes, an empty one included, is fatal with UNEXPECTED_FRAME.",
         lambda b: before_hello(b, raw("00 00 00 00", "an empty body")) + fatal(1005, role)),
        ("handshake/wrong-magic", "A Hello with the wrong magic is not Cord",
         ["HELLO-2", "HELLO-7"], "If ... it holds a Hello whose magic is wrong, the peer is not speaking Cord: the receiver MUST treat the channel as failed with NOT_CORD.",
         lambda b: before_hello(b, frame(HELLO % (0x11111111, 1, 1))) + fatal(1003, role)),
        ("handshake/non-protocol-text", "Text on the channel is not Cord",
         ["HELLO-7"], "If the first prefix received exceeds 256 ... the receiver MUST treat the channel as failed with NOT_CORD.",
         lambda b: before_hello(b, raw("48 65 6c 6c 6f 20 77 6f 72 6c 64 0a", "Hello world and a newline")) + fatal(1003, role)),
        ("handshake/version-mismatch", "No common version",
         ["HELLO-8"], "If V is less than the larger of the two min_version values, there is no common version: each side MUST treat the channel as failed with VERSION_MISMATCH.",
         lambda b: before_hello(b, frame(HELLO % (0x44524F43, 2, 3))) + fatal(1004, role)),
        ("handshake/inverted-range", "A Hello whose range is inverted is malformed",
         ["HELLO-9"], "A receiver MUST treat as fatal with PROTOCOL a Hello whose min_version exceeds its max_version.",
         lambda b: before_hello(b, frame(HELLO % (0x44524F43, 3, 1))) + fatal(1000, role)),
        ("handshake/second-hello", "A second Hello is fatal",
         ["HELLO-10"], "A receiver MUST treat a Hello received after the first as fatal with UNEXPECTED_FRAME.",
         lambda b: handshake(b) + [frame(HELLO % (0x44524F43, 1, 1))] + fatal(1005, role)),
        ("messages/id-and-reply-to", "A message cannot be both a request and a reply",
         ["MSG-5"], "A Message MUST NOT have both a non-zero id and a non-zero reply_to.",
         lambda b: handshake(b) + [frame('message { id: 5 reply_to: 5 }')] + fatal(1000, role)),
        ("messages/status-without-reply-to", "A status belongs to replies only",
         ["MSG-5"], "A Message MUST NOT have a non-zero status without a non-zero reply_to.",
         lambda b: handshake(b) + [frame('message { status: 3 json: "1" }')] + fatal(1000, role)),
        ("requests/reply-to-unknown", "A reply to a request never sent is dropped, and the channel lives on",
         ["REQ-5"], "A reply whose reply_to names no outstanding request of the receiver MUST NOT be delivered as a reply. The receiver MUST discard it and MUST NOT close the channel because of it.",
         lambda b: handshake(b) + [frame('message { reply_to: 999 json: "\\"stale\\"" }'),
                                   {"expect_maybe": {"error": {"code": 1007, "...": True}}, "level": "recommended"}]
         + still_alive(b)),
        ("requests/cancel-after-reply", "A Cancel that crosses its reply is ignored",
         ["REQ-8"], "A Cancel that names an id the receiver has already answered, or never received, MUST be ignored, without an error.",
         lambda b: handshake(b) + [frame('message { id: 41 json: "41" }'), {"expect": {"message": {"reply_to": 41, "json": "41"}}},
                                   frame('cancel { id: 41 }'), frame('cancel { id: 999 }')] + still_alive(b)),
        ("ping/unknown-pong", "A Pong nobody asked for is ignored",
         ["PING-3"], "A Pong whose nonce matches no Ping the receiver sent MUST be ignored.",
         lambda b: handshake(b) + [frame('pong { nonce: 31337 }')] + still_alive(b)),
        ("fds/announced-missing", "A message announcing descriptors that did not come is fatal",
         ["FD-7"], "The receiver MUST treat the channel as failed with FD_MISMATCH when a Message announces more descriptors than are queued.",
         lambda b: handshake(b) + [frame('message { fds: 1 json: "1" }')] + fatal(1006, role)),
        ("fds/stray", "A descriptor no frame announced is fatal",
         ["FD-8", "FD-9"], "When a receiver starts a frame at stream position P and its queue holds a descriptor noted at a position at or before P, no frame can claim that descriptor.",
         lambda b: handshake(b) + [stray_fd(), frame('message { json: "2" }')]
         + fatal(1006, role, may_first=[{"message": {"json": "\"with a stray descriptor\""}}]),
         {"max_fds": 1}),
        ("lifecycle/frame-after-goodbye", "Nothing may follow a Goodbye",
         ["END-1", "END-2"], "A frame received after the peer's Goodbye MUST NOT be delivered and is fatal with UNEXPECTED_FRAME.",
         lambda b: handshake(b) + [frame('goodbye { reason: REASON_SHUTDOWN }'), frame('message { json: "\\"late\\"" }')] + after_goodbye(role)),
    ]


def stray_fd():
    """A message announcing no descriptor, sent with one."""
    st = frame('message { json: "\\"with a stray descriptor\\"" }')
    st["send"]["fds"] = 1
    return st


def after_goodbye(role):
    """The implementation may already have answered the Goodbye; either way it must end."""
    alts = [{"level": "required", "steps": [{"expect": {"goodbye": {"...": True}}}, {"expect_eof": True}]},
            {"level": "required", "steps": [{"expect": {"error": {"code": 1005, "...": True}}}, {"expect_eof": True}]},
            {"level": "required", "steps": [{"expect_eof": True}]}]
    steps = [{"expect_one_of": alts}]
    if role == "parent":
        steps += [{"child_exit": 0}, {"expect_output": "exit 0"}]
    else:
        steps += [{"expect_exit": "any"}]
    return steps


def before_hello(base, bad):
    """The runner's Hello replaced by `bad`; the implementation's own Hello still comes first (spec HELLO-1)."""
    out = []
    for st in handshake(base):
        if "send" in st and "hello" in st["send"].get("text", ""):
            out.append(bad)
        else:
            out.append(st)
    return out


def main(argv=None):
    made = 0
    for role in ("child", "parent"):
        base_id = "%s/valid/handshake/hello-goodbye" % role
        path = os.path.join(CASES, base_id + ".json")
        if not os.path.exists(path):
            continue
        base = load(base_id)
        for d in derivations(role):
            name, title, checks, requirement, builder = d[:5]
            requires = d[5] if len(d) > 5 else None
            case_id = "%s/invalid/%s" % (role, name)
            case = {"case": case_id, "title": title, "role": role, "binding": "cord", "level": "required",
                    "checks": checks, "requirement": requirement,
                    "origin": "derived from %s: %s" % (base_id, title.lower()), "steps": builder(base)}
            if requires:
                case["requires"] = requires
            out = os.path.join(CASES, case_id + ".json")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "w") as f:
                json.dump(case, f, indent=1)
                f.write("\n")
            made += 1
    print("derived %d invalid cases" % made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
