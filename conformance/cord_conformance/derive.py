"""derive.py: makes the invalid cases from recorded valid ones, each by one named edit (the bad bytes no reference implementation would send), and the few valid cases no reference would produce on its own."""
import copy
import json
import os
import sys

from . import wire

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.normpath(os.path.join(HERE, "..", "cases"))

COMMAND = "cord.conformance.Command"


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


def implementation_hello(base):
    """The step that expects the implementation's Hello."""
    return copy.deepcopy(next(st for st in base["steps"] if "expect" in st and "hello" in st["expect"]))


def raw(hexstr, note):
    """A send of bytes no implementation would write, described for people."""
    return {"send": {"hex": hexstr, "text": note}}


def frame(text, fds=0):
    st = {"send": {"hex": wire.hexs(wire.prefix(wire.from_text(text).SerializeToString())), "text": text}}
    if fds:
        st["send"]["fds"] = fds
    return st


def command(rid, text, fds=0):
    """A testee command (conformance/README.md, T-3) as a request."""
    return frame('message { id: %d typed { type: "%s" value: "%s" } }' % (rid, COMMAND, text), fds)


def reply(rid, status=None, **more):
    m = {"reply_to": rid}
    if status:
        m["status"] = status
    m.update(more)
    return {"expect": {"message": m}}


def the_end(role, exit_should=(0,)):
    """How the implementation's end shows after its direction: a child exits (spec END-8: the status is a SHOULD),
    the parent testee reports the stand-in's exit (T-6)."""
    if role == "child":
        return [{"expect_exit": "any", "should": list(exit_should), "checks": ["END-8"]}]
    return [{"child_exit": 0}, {"expect_output": "exit 0"}]


def fatal(code, role, should=(), may_first=(), error_level="recommended", error_checks=("END-11",), probe=True):
    """A fatal error (spec END-11), judged as the MUSTs say: at most one Error frame, with the right code (its
    presence recommended, each `should` on its form judged on its own), then end of file; a child then exits,
    with status 76 recommended (END-8). `may_first`: frames the implementation may send before it notices.

    With `probe`, a request follows the bad bytes: an implementation that has failed never reads it, and one
    that has not answers it, and so fails the case at once instead of when its time runs out."""
    steps = [frame('message { id: 901 json: "\\"still there?\\"" }')] if probe else []
    steps += [{"expect": p, "level": "optional", "checks": ["FD-8"]} for p in may_first]
    err = {"expect": {"error": {"code": code, "...": True}}, "level": error_level, "checks": list(error_checks)}
    if isinstance(code, dict):
        err["expect"] = code
    if should:
        err["should"] = list(should)
    steps += [err, {"expect_eof": True, "checks": ["END-11"]}]
    return steps + the_end(role, (76,))


def detail_gives(*parts, checks=("ERR-8",), says="the detail gives the numbers"):
    """A recommended form of an Error frame's detail: it contains each of parts."""
    return {"match": {"error": {"detail": {"contains": list(parts)}, "...": True}}, "checks": list(checks), "says": says}


def preview_of(hexstr):
    """Spec HELLO-7: the detail previews the first bytes the implementation received."""
    return {"match": {"error": {"detail": {"preview_of": hexstr.replace(" ", "")}, "...": True}}, "checks": ["HELLO-7"],
            "says": "the detail previews the first bytes received"}


def truncated(role):
    """Truncation (spec FRAME-12): the Error frame is allowed, not recommended (ERR-6); the end is required."""
    return fatal(1002, role, error_level="optional", error_checks=("ERR-6",), probe=False)


def still_alive(base):
    """After a fault that must not end the channel: a request still gets its reply, then the recorded end."""
    return probe() + ending(base)


def probe():
    return [frame('message { id: 900 json: "\\"alive?\\"" }'),
            {"expect": {"message": {"reply_to": 900, "json": "\"alive?\""}}, "ignore": ["error"]}]


def ending(base):
    """The recorded end of the base case: from the runner's Goodbye (or the implementation's) on."""
    steps = base["steps"]
    for i, st in enumerate(steps):
        if ("send" in st and "goodbye" in st["send"].get("text", "")) or ("expect" in st and "goodbye" in st["expect"]):
            return copy.deepcopy(steps[i:])
    return []


def runner_goodbye_end(role):
    """The runner ends its direction with a Goodbye; the implementation answers as END-3 and END-8 say."""
    steps = [frame("goodbye { reason: REASON_SHUTDOWN }"), {"close": "write"}]
    if role == "child":
        steps.append({"expect": {"goodbye": {"...": True}}, "checks": ["END-8"]})
    else:
        steps.append({"expect": {"goodbye": {"...": True}}, "level": "optional", "checks": ["END-3"]})
    return steps + [{"expect_eof": True}] + the_end(role)


HELLO = ('hello { magic: %d min_version: %d max_version: %d max_frame: 65536 max_fds: 4 '
         'impl_name: "conformance" impl_version: "1" }')
MAGIC = 0x44524F43


def hello_hex(magic, lo, hi):
    return frame(HELLO % (magic, lo, hi))["send"]["hex"]


def derivations(role):
    """(id, title, checks, requirement, builder[, requires[, level]]) for each fault, for the implementation in `role`."""
    return [
        ("framing/oversized-length", "A prefix beyond the receiver's max_frame is refused before the body is read",
         ["FRAME-5", "END-11", "SEC-1", "SEC-2", "ERR-8"], "A receiver MUST compare L with its own max_frame as soon as it has the 4 prefix bytes, before it reads, buffers or allocates anything for the body.",
         lambda b: handshake(b) + [raw("7f ff ff f0 00 00", "a prefix of 2147483632 bytes, and no body")]
         + fatal(1001, role, should=[detail_gives("2147483632", "$hello.max_frame", checks=("FRAME-5", "ERR-8"),
                                                  says="the detail gives L and the limit")])),
        ("framing/top-bit-length", "A prefix with the top bit set is never valid",
         ["FRAME-3", "FRAME-5"], "Prefixes with the top bit set (80 00 00 00 and above) are never valid.",
         lambda b: handshake(b) + [raw("80 00 00 05 12 03 32 01 31", "a prefix with the top bit set")]
         + fatal(1001, role, should=[detail_gives("2147483653", "$hello.max_frame", checks=("FRAME-5", "ERR-8"),
                                                  says="the detail gives L and the limit")])),
        ("framing/truncated-header", "End of file inside a prefix is a truncated stream",
         ["FRAME-12", "END-8", "ERR-6"], "End of file after at least one byte of a frame and before its last byte is fatal.",
         lambda b: handshake(b) + [raw("00 00", "two bytes of a prefix"), {"close": "write"}] + truncated(role)),
        ("framing/truncated-body", "End of file inside a body is a truncated stream",
         ["FRAME-12", "END-8", "ERR-6"], "The receiver MUST discard the partial frame, MUST NOT deliver anything from it, and MUST treat the channel as failed with TRUNCATED.",
         lambda b: handshake(b) + [raw("00 00 00 0d 12 0b 32 09 7b 22", "6 of 17 bytes of a message frame"), {"close": "write"}]
         + truncated(role)),
        ("framing/bad-protobuf", "A body that is not a Frame is fatal",
         ["FRAME-6"], "A body that is not a valid protobuf encoding of cord.v1.Frame is fatal.",
         lambda b: handshake(b) + [raw("00 00 00 04 0f 00 00 00", "wire type 7, which does not exist")] + fatal(1000, role)),
        ("framing/wrong-wire-type", "A Frame member with the wrong wire type is fatal, not an unknown field",
         ["FRAME-15", "FRAME-6"], "A field that the receiver knows from the schema ... that arrives with a wire type other than the one its type is encoded with ... the receiver MUST treat it as FRAME-6 says, fatal with PROTOCOL.",
         lambda b: handshake(b) + [raw("00 00 00 02 10 01", "member 2 (message) as the varint 1")] + fatal(1000, role)),
        ("messages/wrong-wire-type", "A Message field with the wrong wire type is fatal, not an unknown field",
         ["FRAME-15", "FRAME-6"], "A field that the receiver knows from the schema, in Frame or in any message inside it, that arrives with a wire type other than the one its type is encoded with ... MUST NOT take it for a field it does not know.",
         lambda b: handshake(b) + [raw("00 00 00 06 12 04 0a 02 31 32", "a message whose id (a varint) comes as 2 bytes of text")]
         + fatal(1000, role)),
        ("framing/two-body-members", "A body with two members of Frame.body is fatal, whichever a runtime would keep",
         ["FRAME-14", "FRAME-7"], "A receiver MUST treat a body as FRAME-6 says, fatal with PROTOCOL ... when a member of Frame.body, or of Message.payload, appears more than once: the same member twice, or two members.",
         lambda b: handshake(b) + [raw("00 00 00 06 22 02 08 07 12 00", "a Ping, then a Message, in one body")] + fatal(1000, role)),
        ("framing/same-member-twice", "A body with the Message member twice is fatal: runtimes keep the second or merge the two",
         ["FRAME-14", "FRAME-7"], "A receiver MUST treat a body as FRAME-6 says, fatal with PROTOCOL ... when a member of Frame.body ... appears more than once: the same member twice, or two members.",
         lambda b: handshake(b) + [raw("00 00 00 08 12 02 08 36 12 02 10 01", "message { id: 54 } message { reply_to: 1 }")]
         + fatal(1000, role)),
        ("messages/two-payloads", "A Message with two payload members is fatal",
         ["FRAME-14"], "A receiver MUST treat a body as FRAME-6 says, fatal with PROTOCOL ... when a member of ... Message.payload appears more than once.",
         lambda b: handshake(b) + [raw("00 00 00 0a 12 08 2a 03 0a 01 74 32 01 6a", "a typed payload, then a json one")]
         + fatal(1000, role)),
        ("messages/uint32-too-large", "A uint32 field holding more than 32 bits is fatal",
         ["FRAME-14"], "A receiver MUST treat a body as FRAME-6 says, fatal with PROTOCOL ... when a uint32 field holds a value above 4294967295.",
         lambda b: handshake(b) + [raw("00 00 00 08 12 06 20 80 80 80 80 10", "a message whose fds is 2^32")]
         + fatal(1000, role)),
        ("framing/tag-past-32-bits", "A tag longer than 32 bits is fatal, even for a field the receiver does not know",
         ["FRAME-14"], "A receiver MUST treat a body as FRAME-6 says, fatal with PROTOCOL ... when a tag is not a varint of at most 32 bits.",
         lambda b: handshake(b) + [raw("00 00 00 07 f8 ff ff ff ff 01 00", "an unknown field whose tag has 33 bits")]
         + fatal(1000, role)),
        ("framing/unknown-frame-kind", "A frame with a body from a newer schema is ignored",
         ["FRAME-8", "FRAME-9"], "A receiver MUST discard, without closing the channel, a frame whose body holds no member it knows.",
         lambda b: handshake(b) + [raw("00 00 00 02 7a 00", "body member 15, unknown"), raw("00 00 00 00", "an empty body"),
                                   raw("00 00 00 06 12 04 f8 06 e8 07", "a one-way message with an unknown field 111"),
                                   # Its echo (T-2): the message the implementation knows, an empty one.
                                   {"expect": {"message": {}}, "ignore": ["error"], "checks": ["FRAME-9"]}]
         + still_alive(b)),
        ("handshake/message-before-hello", "A user message before the Hello is never delivered",
         ["HELLO-5", "HELLO-6"], "A user message received before the peer's Hello MUST NOT be delivered to the application.",
         lambda b: before_hello(b, frame('message { id: 7 json: "\\"early\\"" }')) + fatal(1005, role)),
        ("handshake/empty-before-hello", "An empty frame before the Hello is fatal",
         ["HELLO-6"], "Any other first frame that decodes, an empty one included, is fatal with UNEXPECTED_FRAME.",
         lambda b: before_hello(b, raw("00 00 00 00", "an empty body")) + fatal(1005, role)),
        ("handshake/wrong-magic", "A Hello with the wrong magic is not Cord",
         ["HELLO-2", "HELLO-7"], "If ... it holds a Hello whose magic is wrong, the peer is not speaking Cord: the receiver MUST treat the channel as failed with NOT_CORD.",
         lambda b: before_hello(b, frame(HELLO % (0x11111111, 1, 1)))
         # No probe: the preview may show every byte received, up to 32.
         + fatal(1003, role, should=[preview_of(hello_hex(0x11111111, 1, 1))], probe=False)),
        ("handshake/non-protocol-text", "Text on the channel is not Cord",
         ["HELLO-7"], "If the first prefix received exceeds 256 ... the receiver MUST treat the channel as failed with NOT_CORD.",
         lambda b: before_hello(b, raw("48 65 6c 6c 6f 20 77 6f 72 6c 64 0a", "Hello world and a newline"))
         + fatal(1003, role, should=[preview_of("48 65 6c 6c 6f 20 77 6f 72 6c 64 0a")], probe=False)),
        ("handshake/version-mismatch", "No common version, and the Error detail names both ranges",
         ["HELLO-8", "ERR-8"], "If V is less than the larger of the two min_version values, there is no common version: each side MUST treat the channel as failed with VERSION_MISMATCH, and the report and Error detail MUST name both ranges.",
         lambda b: before_hello(b, frame(HELLO % (MAGIC, 2, 3)))
         + fatal({"error": {"code": 1004, "detail": {"contains": ["$hello.min_version..$hello.max_version", "2..3"]}}}, role)),
        ("handshake/inverted-range", "A Hello whose range is inverted is malformed, before it is compared",
         ["HELLO-9", "HELLO-13"], "A receiver MUST treat as fatal with PROTOCOL a Hello whose min_version exceeds its max_version. ... the first check that fails decides the code of the failure: ... the fields of HELLO-9 (PROTOCOL), and only then the versions.",
         lambda b: before_hello(b, frame(HELLO % (MAGIC, 3, 1))) + fatal(1000, role)),
        ("handshake/small-max-frame", "A Hello whose max_frame is below 256 is malformed",
         ["HELLO-9", "FRAME-3"], "A receiver MUST treat as fatal with PROTOCOL a Hello ... whose max_frame is outside the range of FRAME-3.",
         lambda b: before_hello(b, frame(HELLO.replace("65536", "100") % (MAGIC, 1, 1))) + fatal(1000, role)),
        ("handshake/second-hello", "A second Hello is fatal",
         ["HELLO-10"], "A receiver MUST treat a Hello received after the first as fatal with UNEXPECTED_FRAME.",
         lambda b: handshake(b) + [frame(HELLO % (MAGIC, 1, 1))] + fatal(1005, role)),
        ("handshake/eof-before-hello", "End of file before the peer's Hello ends the channel, without a Goodbye",
         ["END-12", "HELLO-5"], "The side MUST NOT send any frame after its own Hello then: no Goodbye, which HELLO-5 does not allow, and no Error frame, since the peer has gone. It MUST close the channel.",
         lambda b: [implementation_hello(b), {"close": "write"}, {"expect_eof": True, "checks": ["END-12"]}]
         + (the_end(role, (0,)) if role == "child" else the_end(role))),
        ("messages/id-and-reply-to", "A message cannot be both a request and a reply",
         ["MSG-5"], "A Message MUST NOT have both a non-zero id and a non-zero reply_to.",
         lambda b: handshake(b) + [frame('message { id: 5 reply_to: 5 }')] + fatal(1000, role)),
        ("messages/status-without-reply-to", "A status belongs to replies only",
         ["MSG-5"], "A Message MUST NOT have a non-zero status without a non-zero reply_to.",
         lambda b: handshake(b) + [frame('message { status: 3 json: "1" }')] + fatal(1000, role)),
        ("requests/reply-to-unknown", "A reply to a request never sent is dropped, and the channel lives on",
         ["REQ-5", "ERR-8"], "A reply whose reply_to names no outstanding request of the receiver MUST NOT be delivered as a reply. The receiver MUST discard it and MUST NOT close the channel because of it.",
         # The probe goes first, so that the recommended Error is looked for without waiting.
         lambda b: handshake(b) + [frame('message { reply_to: 999 json: "\\"stale\\"" }'), probe()[0],
                                   {"expect": {"error": {"code": 1007, "...": True}}, "level": "recommended", "checks": ["REQ-5"],
                                    "should": [detail_gives("999", checks=("REQ-5", "ERR-8"), says="the detail names the id")]}]
         + probe()[1:] + ending(b)),
        ("requests/duplicate-id", "A request whose id is that of one not yet answered is fatal",
         ["REQ-4"], "A side that receives a request whose id equals that of a request from the same peer it has not yet answered SHOULD treat the channel as failed with PROTOCOL.",
         lambda b: handshake(b) + [command(5, "hold"), frame('message { id: 5 json: "\\"again\\"" }')] + fatal(1000, role),
         None, "recommended"),
        ("requests/cancel-after-reply", "A Cancel that crosses its reply is ignored",
         ["REQ-8"], "A Cancel that names an id the receiver has already answered, or never received, MUST be ignored, without an error.",
         lambda b: handshake(b) + [frame('message { id: 41 json: "41" }'), reply(41, json="41"),
                                   frame('cancel { id: 41 }'), frame('cancel { id: 999 }')] + still_alive(b)),
        ("ping/unknown-pong", "A Pong nobody asked for is ignored",
         ["PING-3"], "A Pong whose nonce matches no Ping the receiver sent MUST be ignored.",
         lambda b: handshake(b) + [frame('pong { nonce: 31337 }')] + still_alive(b)),
        ("fds/announced-missing", "A message announcing descriptors that did not come is fatal",
         ["FD-7"], "The receiver MUST treat the channel as failed with FD_MISMATCH when a Message announces more descriptors than are queued.",
         lambda b: handshake(b) + [frame('message { fds: 1 json: "1" }')] + fatal(1006, role)),
        ("fds/stray", "A descriptor no frame announced is fatal",
         ["FD-8", "FD-9"], "When a receiver starts a frame at stream position P and its queue holds a descriptor noted at a position at or before P, no frame can claim that descriptor.",
         lambda b: handshake(b) + [frame('message { json: "\\"with a stray descriptor\\"" }', fds=1), frame('message { json: "2" }')]
         + fatal(1006, role, may_first=[{"message": {"json": "\"with a stray descriptor\""}}]),
         {"max_fds": 1}),
        ("lifecycle/frame-after-goodbye", "Nothing may follow a Goodbye",
         ["END-1", "END-2"], "A frame received after the peer's Goodbye MUST NOT be delivered and is fatal with UNEXPECTED_FRAME.",
         lambda b: handshake(b) + [frame('goodbye { reason: REASON_SHUTDOWN }'), frame('message { json: "\\"late\\"" }')]
         + after_goodbye(role)),
    ]


def silent_exit(checks):
    """A child that must not use what it was given: nothing on descriptor 3, and an exit (64 recommended)."""
    return [{"expect_eof": True}, {"expect_exit": "any", "should": [64], "checks": checks}]


def hello_with(role, **fields):
    """The runner's Hello with some fields changed."""
    f = {"magic": MAGIC, "min_version": 1, "max_version": 1, "max_frame": 65536, "max_fds": 4,
         "impl_name": '"conformance"', "impl_version": '"1"'}
    f.update(fields)
    return frame("hello { %s }" % " ".join("%s: %s" % kv for kv in f.items()))


def more(role):
    """Cases that need a base other than the handshake, a changed start, or both roles' variants."""
    child = role == "child"
    out = [
        {"name": "valid/handshake/unknown-capabilities", "title": "Unknown capability bits and odd names change nothing",
         "checks": ["HELLO-11", "HELLO-4", "SEC-7"], "level": "required",
         "requirement": "A receiver MUST ignore capability bits it does not know. impl_name, impl_version and pid are for diagnostics only; a receiver MUST NOT change its behaviour because of them.",
         "build": lambda b: before_hello(b, hello_with(role, capabilities=0xfffffffffe, pid=1,
                                                        impl_name='"\\x01\\x1b[31mname with controls\\x7f and 64 bytes of text........"')) + still_alive(b)},
        {"name": "valid/errors/unknown-codes-are-not-fatal", "title": "Error frames with an unknown protocol code or an application code do not end the channel",
         "checks": ["ERR-2", "ERR-3"], "level": "required",
         "requirement": "A receiver MUST treat a received code it does not know from the protocol range as a non-fatal error.",
         "build": lambda b: handshake(b) + [frame('error { code: 1999 detail: "from a newer revision" }'),
                                            frame('error { code: 10042 detail: "an application problem" }')] + still_alive(b)},
        {"name": "valid/errors/forbidden-codes-are-not-fatal", "title": "Codes that never travel, received anyway, are non-fatal errors: in an Error frame, and as a reply's status",
         "checks": ["ERR-7", "REQ-2"], "level": "required",
         "requirement": "A receiver MUST treat a code from a range that ERR-2 forbids on the wire (POSIX, SDK or reserved), received in Error.code or Message.status, as a protocol code it does not know: a non-fatal error.",
         "build": lambda b: handshake(b) + [frame('error { code: 5 detail: "a POSIX code" }'),
                                            frame('error { code: 2003 detail: "an SDK code" }'),
                                            frame('error { code: 3000 detail: "a reserved code" }'),
                                            command(31, "request"),
                                            {"expect": {"message": {"id": "$q", "raw": "71"}}},
                                            {"send": {"text": "message { reply_to: $q status: 2003 }"}},
                                            # T-3: the status, which the testee may not send itself, comes back as FAILED.
                                            reply(31, 1012)] + still_alive(b)},
        {"name": "valid/errors/codes-past-every-range", "title": "Codes above 2147483647, in an Error frame and as a reply's status, are non-fatal errors",
         "checks": ["ERR-5", "REQ-2"], "level": "required",
         "requirement": "A code above 2147483647 ... is in no range of ERR-1: a side MUST NOT send one, and a receiver MUST treat one as a code it does not know, a non-fatal error.",
         "build": lambda b: handshake(b) + [frame('error { code: 4294967295 detail: "past every range" }'),
                                            frame('error { code: 2147483648 }'),
                                            command(33, "request"),
                                            {"expect": {"message": {"id": "$q", "raw": "71"}}},
                                            {"send": {"text": "message { reply_to: $q status: 4294967295 }"}},
                                            # T-3: a status the testee may not send comes back as FAILED.
                                            reply(33, 1012)] + still_alive(b)},
        {"name": "valid/framing/byte-by-byte", "title": "Frames written one byte at a time are read whole",
         "checks": ["FRAME-11", "FRAME-1"], "level": "required",
         "requirement": "A receiver MUST accept any split of the byte stream: a prefix or body spread over several reads, and several frames in one read.",
         "build": lambda b: chunked(handshake(b)) + chunked(probe()[:1]) + probe()[1:] + ending(b)},
        {"name": "valid/framing/reply-too-big-for-peer", "title": "A reply that would exceed the runner's max_frame is not sent; the request still gets one answer",
         "checks": ["FRAME-2", "REQ-2"], "level": "required", "requires": {"max_frame": 1024},
         "requirement": "A sender MUST NOT send a frame whose L exceeds the peer's max_frame.",
         "build": lambda b: before_hello(b, hello_with(role, max_frame=256)) + [
             frame('message { id: 77 raw: "%s" }' % ("x" * 300)), reply(77, 1012)] + ending(b)},
        {"name": "valid/fds/data-echo", "title": "Descriptors that come with data come back with its echo, a reply or a one-way message",
         "checks": ["FD-1", "FD-2", "FD-3", "FD-6"], "level": "required", "requires": {"max_fds": 2},
         "requirement": "The sender MUST pass the N descriptors of a frame in one SCM_RIGHTS control message, attached to the sendmsg() call whose data begins with the first byte of that frame's prefix.",
         "build": lambda b: handshake(b) + [frame('message { id: 51 fds: 1 raw: "64" }', fds=1),
                                            reply(51, raw="3634", fds=1), {"expect_fds": 1},
                                            frame('message { fds: 2 json: "{\\"two\\":2}" }', fds=2),
                                            {"expect": {"message": {"fds": 2, "json": "{\"two\":2}"}}}, {"expect_fds": 2}]
         + ending(b)},
        {"name": "valid/requests/fail-forbidden-code", "title": "A status the implementation may not send is refused: the testee answers FAILED instead",
         "checks": ["ERR-2", "REQ-2"], "level": "required",
         "requirement": "A side MUST NOT send a code from the POSIX, SDK or reserved ranges.",
         "build": lambda b: handshake(b) + [command(61, "fail 2003"), reply(61, 1012), command(62, "fail 7"), reply(62, 1012),
                                            command(63, "fail 10001"), reply(63, 10001)] + ending(b)},
        {"name": "valid/requests/one-way-command", "title": "A command sent one-way is data: it comes back, and is not carried out",
         "checks": ["MSG-1", "MSG-2"], "level": "required",
         "requirement": "After the handshake a side MAY send Message frames at any time until it sends its Goodbye. A receiver MUST deliver messages to its application in the order the frames arrived.",
         "build": lambda b: handshake(b) + [frame('message { typed { type: "%s" value: "send 2 json" } }' % COMMAND),
                                            {"expect": {"message": {"typed": {"type": COMMAND, "value": b"send 2 json".hex()}}}}]
         + still_alive(b)},
        {"name": "valid/ping/peer-ends-before-pong", "title": "A Ping whose Pong cannot come, because the peer's direction ended, is reported CLOSED",
         "checks": ["PING-7", "REQ-2"], "level": "required",
         "requirement": "When the peer's direction ends (its Goodbye, end of file, or a fatal error), no Pong can come for the Pings a side has sent and not seen answered: the side MUST report each of them to its application as failed with CLOSED.",
         # The runner's Goodbye crosses the testee's Ping: the Ping may or may not go out.
         "build": lambda b: handshake(b) + [command(71, "ping"), frame("goodbye { reason: REASON_SHUTDOWN }"), {"close": "write"},
                                            {"expect": {"ping": {"nonce": "*"}}, "level": "optional", "checks": ["PING-1"]},
                                            reply(71, 1011)]
         + ([{"expect": {"goodbye": {"...": True}}, "checks": ["END-8"]}] if child else
            [{"expect": {"goodbye": {"...": True}}, "level": "optional", "checks": ["END-3"]}])
         + [{"expect_eof": True}] + the_end(role)},
        {"name": "valid/lifecycle/answers-before-goodbye", "title": "Requests held when the implementation says Goodbye are answered first",
         "checks": ["REQ-10"], "level": "recommended",
         "requirement": "A side SHOULD answer every request it received, with CANCELLED if need be, before it sends its Goodbye.",
         "build": lambda b: handshake(b) + [command(81, "hold"), command(82, "goodbye"), reply(82),
                                            {"expect": {"message": {"reply_to": 81, "...": True}}, "checks": ["REQ-10"]},
                                            {"expect": {"goodbye": {"reason": "REASON_SHUTDOWN", "...": True} if not child else
                                                        {"...": True}}},
                                            {"expect_eof": True}] + runner_goodbye_tail(role)},
    ]
    if child:
        out += [
            {"name": "valid/lifecycle/held-when-parent-ends", "title": "When the parent's direction ends, a held request is answered before the child's Goodbye",
             "checks": ["REQ-10", "END-8"], "level": "recommended",
             "requirement": "A child MUST end its work when the parent's direction ends: on the parent's Goodbye, or end of file, it finishes or cancels its requests (REQ-10), sends its Goodbye, closes the channel and exits.",
             "build": lambda b: handshake(b) + [command(91, "hold"), frame("goodbye { reason: REASON_SHUTDOWN }"), {"close": "write"},
                                                {"expect": {"message": {"reply_to": 91, "...": True}}, "checks": ["REQ-10"]},
                                                {"expect": {"goodbye": {"...": True}}}, {"expect_eof": True}] + the_end(role)},
            {"name": "invalid/channel/no-variable", "title": "Without CORD_CHANNEL_FD the child does not touch descriptor 3",
             "checks": ["CHAN-7"], "level": "required", "channel": {"env": {"CORD_CHANNEL_FD": None}},
             "requirement": "A child whose environment has no CORD_CHANNEL_FD (and no NODE_CHANNEL_FD) was run without a channel. It MUST NOT read or write any descriptor it did not open itself on the assumption that it is a channel.",
             "build": lambda b: silent_exit(["CHAN-7"])},
            {"name": "invalid/channel/not-a-number", "title": "A CORD_CHANNEL_FD that is not a decimal number is not used",
             "checks": ["CHAN-8"], "level": "required", "channel": {"env": {"CORD_CHANNEL_FD": "03x"}},
             "requirement": "A child whose CORD_CHANNEL_FD is set but fails the checks of CHAN-6 MUST NOT use that descriptor.",
             "build": lambda b: silent_exit(["CHAN-8"])},
            {"name": "invalid/channel/pipe-not-socket", "title": "A CORD_CHANNEL_FD naming a pipe is not used",
             "checks": ["CHAN-8", "CHAN-6"], "level": "required", "channel": {"fd": "pipe"},
             "requirement": "check that the value is a decimal number naming an open descriptor that is an AF_UNIX SOCK_STREAM socket",
             "build": lambda b: silent_exit(["CHAN-8"])},
            {"name": "valid/channel/both-variables", "title": "With both channel variables the child speaks Cord and removes both",
             "checks": ["CHAN-9"], "level": "required", "base": "child/valid/channel/environment",
             "channel": {"env": {"NODE_CHANNEL_FD": "3", "NODE_CHANNEL_SERIALIZATION_MODE": "json"}},
             "requirement": "If both CORD_CHANNEL_FD and NODE_CHANNEL_FD are set, the child MUST use CORD_CHANNEL_FD and MUST remove both variables from its environment.",
             "build": lambda b: copy.deepcopy(b["steps"])},
            {"name": "invalid/node-channel/advanced-serialization", "title": "A Node.js channel in `advanced` mode is not used",
             "checks": ["NODE-3"], "level": "required", "binding": "node-json",
             "channel": {"env": {"NODE_CHANNEL_SERIALIZATION_MODE": "advanced"}},
             "requires": {"node_without": ["advanced"]},
             "requirement": "A child whose NODE_CHANNEL_SERIALIZATION_MODE names one it does not speak MUST NOT use the channel (a child that speaks json only, as every Cord child does today).",
             "build": lambda b: silent_exit(["NODE-3"])},
        ]
    node_base = "%s/valid/node-messages/echo" % role
    out += [
        {"name": "invalid/node-messages/internal-message", "title": "A NODE_ internal message is not delivered",
         "checks": ["NODE-7"], "level": "required", "binding": "node-json", "base": node_base,
         "requirement": "An object whose cmd member is a string longer than 5 characters that starts with NODE_ is an internal message of Node.js. A receiver MUST NOT deliver it as a user message.",
         "build": lambda b: [{"send": {"json": {"cmd": "NODE_SOMETHING", "x": 1}}}] + node_alive(b)},
        {"name": "invalid/node-messages/handle-refused", "title": "A handle whose descriptor is no socket is refused with NODE_HANDLE_NACK, its descriptor closed",
         "checks": ["NODE-8", "NODE-16"], "level": "required", "binding": "node-json", "base": node_base,
         "requirement": "On receiving a NODE_HANDLE message, an implementation MUST answer it with exactly one internal message: {\"cmd\":\"NODE_HANDLE_ACK\"} when it takes the descriptor, or {\"cmd\":\"NODE_HANDLE_NACK\"} when no descriptor came or it does not take it, closing that descriptor. ... one that takes handles MUST refuse a descriptor that is not what its type says. When it refuses one, it ... SHOULD deliver the msg without the descriptor.",
         "build": lambda b: [{"send": {"json": {"cmd": "NODE_HANDLE", "type": "net.Native", "msg": {"with": "handle"}}, "fds": 1}},
                                             {"expect": {"json": {"cmd": "NODE_HANDLE_NACK"}}}, node_alive(b)[0],
                                             {"expect": {"json": {"with": "handle"}}, "level": "optional"}]
         + node_alive(b)[1:]},
        {"name": "invalid/node-messages/long-line", "title": "A line longer than the receiver can hold does not overflow it or end the channel",
         "checks": ["NODE-6"], "level": "required", "binding": "node-json", "base": node_base,
         "requirement": "A line that does not fit in the receiver's buffer MUST NOT overflow it: the receiver MUST discard the line up to and including its 0a, report FRAME_TOO_LARGE to its application, and keep the channel open.",
         "build": lambda b: [{"send": {"json": "L" * 200000}}, node_alive(b)[0],
                             {"expect": {"json": "L" * 200000}, "level": "optional", "checks": ["NODE-6"]}]
         + node_alive(b)[1:]},
    ]
    out += node_advanced_and_handles(role)
    if not child:
        out += [
            {"name": "valid/channel/what-the-child-is-given", "title": "The child finds a blocking AF_UNIX stream socket at 3, named in CORD_CHANNEL_FD, and nothing else",
             "checks": ["CHAN-1", "CHAN-2", "CHAN-3", "CHAN-5", "SEC-3", "SEC-4"], "level": "required",
             "requirement": "The parent MUST create the channel with socketpair(AF_UNIX, SOCK_STREAM, 0, fds) ... MUST set the variable CORD_CHANNEL_FD in the child's environment to N ... MUST NOT set O_NONBLOCK on the child's end.",
             "build": lambda b: [{"expect_facts": {"family": "AF_UNIX", "type": "SOCK_STREAM", "nonblocking": False,
                                                   "cloexec": False, "CORD_CHANNEL_FD": "3", "NODE_CHANNEL_FD": None,
                                                   "fds": [0, 1, 2, 3]}}] + copy.deepcopy(b["steps"])},
            {"name": "valid/node-channel/what-the-child-is-given", "title": "On the json binding the child finds NODE_CHANNEL_FD and the json mode",
             "checks": ["NODE-1", "CHAN-1", "CHAN-5"], "level": "required", "binding": "node-json", "base": node_base,
             "requirement": "A parent that starts a child with the Node.js binding MUST ... set NODE_CHANNEL_FD to the descriptor number and NODE_CHANNEL_SERIALIZATION_MODE to json instead of CORD_CHANNEL_FD.",
             "build": lambda b: [{"expect_facts": {"family": "AF_UNIX", "type": "SOCK_STREAM", "nonblocking": False,
                                                   "NODE_CHANNEL_FD": "3", "NODE_CHANNEL_SERIALIZATION_MODE": "json",
                                                   "CORD_CHANNEL_FD": None}}] + copy.deepcopy(b["steps"])},
            {"name": "valid/flow/parent-reads-while-writing", "title": "A child that writes 3 MB without reading is still read, and every echo comes back in order",
             "checks": ["FLOW-1", "FLOW-3", "MSG-2"], "level": "required", "timeout_ms": 120000,
             "requirement": "A parent MUST keep reading its channel while it has frames waiting to be written: it MUST NOT block in a write while not also reading.",
             "build": lambda b: handshake(b) + [
                 {"send": {"text": 'message { json: "{\\"i\\":$i,\\"pad\\":\\"%s\\"}" }' % ("p" * 1000), "repeat": 3000}},
                 {"expect": {"message": {"json": '{"i":$i,"pad":"%s"}' % ("p" * 1000)}}, "repeat": 3000}] + ending(b)},
            {"name": "valid/lifecycle/child-closes-and-exits", "title": "A child whose end closes at once (a crash) is seen to end: the parent closes its copy of the child's end",
             "checks": ["CHAN-4", "END-4", "END-10"], "level": "required",
             "requirement": "The parent MUST close its copy of the child's end once the child has been started. While the parent holds it, the parent never sees end of file when the child exits.",
             "build": lambda b: handshake(b) + [{"close": "both"}, {"child_exit": 9}, {"expect_output": "exit 9"}]},
            {"name": "valid/lifecycle/exits-while-channel-held", "title": "A child that exits while the channel stays open elsewhere is seen to end: the parent ends the channel itself",
             "checks": ["CHAN-10", "END-10"], "level": "required",
             "requirement": "A parent MUST NOT wait for end of file on a channel whose child has exited: once the child is reaped, what is in the socket is all the child wrote, and the parent reads it and then ends the channel as if end of file had come.",
             # The runner keeps its end open, as a descendant that kept the child's end would.
             "build": lambda b: handshake(b) + [{"child_exit": 0},
                                                {"expect": {"goodbye": {"...": True}}, "level": "optional", "checks": ["END-4"]},
                                                {"expect_eof": True, "checks": ["CHAN-10"]}, {"expect_output": "exit 0"}]},
            {"name": "valid/handshake/silent-child-timed-out", "title": "A child that never says Hello is timed out, its channel closed, then it is sent the kill signal",
             "checks": ["HELLO-12", "END-9"], "level": "recommended", "timeout_ms": 90000,
             "requirement": "A parent SHOULD bound the time it waits for the child's Hello and treat the channel as failed with TIMEOUT when it runs out. A child that never speaks is then stopped as END-9 says, without the Goodbye: the parent closes the channel, waits the grace period, and sends its kill signal, then SIGKILL.",
             "build": lambda b: [implementation_hello(b),
                                 {"expect": {"error": {"code": 1008, "...": True}}, "level": "optional", "checks": ["HELLO-12"]},
                                 {"expect_eof": True, "checks": ["HELLO-12"]}, {"expect_output": "signal 15"}]},
            {"name": "valid/lifecycle/stop-escalates", "title": "A child that ignores SIGTERM after the parent's Goodbye is killed with SIGKILL",
             "checks": ["END-9", "END-10"], "level": "recommended", "timeout_ms": 90000,
             "requirement": "To stop a child, a parent SHOULD send Goodbye with REASON_SHUTDOWN, wait a grace period for the child to exit, then send its kill signal (SIGTERM unless configured), wait another grace period, and then send SIGKILL.",
             "build": lambda b: [{"child_ignores": ["SIGTERM"]}] + handshake(b) + [
                 command(1, "goodbye"), reply(1), {"expect": {"goodbye": {"reason": "REASON_SHUTDOWN", "...": True}}},
                 {"expect_output": "signal 9"}]},
        ]
    return out


def runner_goodbye_tail(role):
    """After the implementation's Goodbye and end of file: the runner's own Goodbye, then the end."""
    return [frame("goodbye { }"), {"close": "write"}] + the_end(role)


def chunked(steps):
    out = copy.deepcopy(steps)
    for st in out:
        if "send" in st:
            st["send"]["chunk"] = 1
    return out


def node_alive(base):
    """On the binding: data still comes back, then the recorded end."""
    steps = [{"send": {"json": {"probe": "alive?"}}}, {"expect": {"json": {"probe": "alive?"}}}]
    tail = [st for st in base["steps"] if "close" in st or "expect_eof" in st or "expect_exit" in st
            or "child_exit" in st or "expect_output" in st]
    return steps + copy.deepcopy(tail)


def node_alive_in(base, key):
    """node_alive() on either serialization: `key` is "json" or "value"."""
    return json.loads(json.dumps(node_alive(base)).replace('"json"', '"%s"' % key))


def node_fatal(role, checks):
    """On the binding, after bytes that end the channel (spec NODE-10, NODE-13): the implementation closes it; a child
    exits (76 recommended, END-8), a parent reports its child's exit."""
    if role == "parent":
        return [{"expect_eof": True, "checks": checks}, {"child_exit": 0}, {"expect_output": "exit 0"}]
    return [{"expect_eof": True, "checks": checks}, {"expect_exit": "any", "should": [76], "checks": ["END-8"]}]


def refused_handle(base, key, envelope, handle):
    """A NODE_HANDLE that must be refused: NACK, its msg maybe delivered (spec NODE-16's SHOULD), the channel alive."""
    send = {key: envelope}
    if handle:
        send["handle"] = handle
    return [{"send": send}, {"expect": {key: {"cmd": "NODE_HANDLE_NACK"}}, "checks": ["NODE-8"]},
            node_alive_in(base, key)[0],
            {"expect": {key: envelope["msg"]}, "level": "optional", "checks": ["NODE-16"]}] + node_alive_in(base, key)[1:]


def node_advanced_and_handles(role):
    """Cases of the advanced serialization and of handles that no reference implementation would produce."""
    adv_base = "%s/valid/node-advanced/echo-types" % role
    out = [
        {"name": "invalid/node-advanced/long-frame", "title": "An advanced frame longer than the receiver can hold does not overflow it or end the channel",
         "checks": ["NODE-6", "NODE-12"], "level": "required", "binding": "node-advanced", "base": adv_base,
         "requirement": "A line (or, on advanced, a frame, NODE-12) that does not fit in the receiver's buffer MUST NOT overflow it: the receiver MUST discard ... the frame up to the end its length gives, report FRAME_TOO_LARGE to its application, and keep the channel open.",
         "build": lambda b: [{"send": {"value": "L" * 200000}}, node_alive_in(b, "value")[0],
                             {"expect": {"value": "L" * 200000}, "level": "optional", "checks": ["NODE-6"]}]
         + node_alive_in(b, "value")[1:]},
        {"name": "invalid/node-advanced/no-value", "title": "An advanced frame whose bytes are no V8 value ends the channel",
         "checks": ["NODE-13"], "level": "required", "binding": "node-advanced", "base": adv_base,
         "requirement": "Bytes that are no V8 value at all are a PROTOCOL_ERROR, which is fatal.",
         "build": lambda b: [{"send": {"hex": "00 00 00 03 ff 0f ee", "text": "(raw bytes: a frame whose tag ee is no V8 value)"}}]
         + node_fatal(role, ["NODE-13"])},
        {"name": "invalid/node-advanced/zero-length", "title": "An advanced frame of length 0 ends the channel",
         "checks": ["NODE-12", "NODE-13"], "level": "required", "binding": "node-advanced", "base": adv_base,
         "requirement": "A sender MUST NOT send a frame of length 0 ... Bytes that are no V8 value at all are a PROTOCOL_ERROR, which is fatal.",
         "build": lambda b: [{"send": {"hex": "00 00 00 00", "text": "(raw bytes: a frame of length 0)"}}] + node_fatal(role, ["NODE-13"])},
        {"name": "invalid/node-advanced/truncated-frame", "title": "End of file inside an advanced frame whose length is large is a truncated stream, and nothing is reserved for it",
         "checks": ["NODE-10", "NODE-12"], "level": "required", "binding": "node-advanced", "base": adv_base,
         "requirement": "A receiver ... MUST NOT reserve memory for a length before the bytes arrive. A partial line (or frame) at end of file is discarded and reported as TRUNCATED, a fatal error.",
         "build": lambda b: [{"send": {"hex": "7f ff ff f0 ff 0f 6f", "text": "(raw bytes: the start of a frame of 2147483632 bytes)"}}, {"close": "write"}]
         + node_fatal(role, ["NODE-10"])},
    ]
    for binding, key, base in (("node-json", "json", "%s/valid/node-messages/echo" % role), ("node-advanced", "value", adv_base)):
        area = "node-handles" if binding == "node-json" else "node-advanced"
        out += [
            {"name": "invalid/%s/handle-without-descriptor" % area, "title": "A NODE_HANDLE message that came with no descriptor is refused with NODE_HANDLE_NACK",
             "checks": ["NODE-8"], "level": "required", "binding": binding, "base": base,
             "requirement": "On receiving a NODE_HANDLE message, an implementation MUST answer it with exactly one internal message: ... {\"cmd\":\"NODE_HANDLE_NACK\"} when no descriptor came or it does not take it.",
             "build": lambda b, key=key: refused_handle(b, key, {"cmd": "NODE_HANDLE", "type": "net.Server",
                                                                 "msg": {"with": "no descriptor"}}, None)},
            {"name": "invalid/%s/handle-of-another-kind" % area, "title": "A net.Server handle whose descriptor is a connected socket, not a listening one, is refused",
             "checks": ["NODE-8", "NODE-16"], "level": "required", "binding": binding, "base": base,
             "requirement": "An implementation MAY refuse every handle; one that takes handles MUST refuse a descriptor that is not what its type says. When it refuses one, it MUST report that to its application and SHOULD deliver the msg without the descriptor.",
             "build": lambda b, key=key: refused_handle(b, key, {"cmd": "NODE_HANDLE", "type": "net.Server",
                                                                 "msg": {"with": "a connected socket"}},
                                                        {"kind": "connected", "family": "unix"})},
        ]
    return out


def after_goodbye(role):
    """The implementation may already have answered the Goodbye (and need not read on, END-2), or found the late
    frame: an optional Goodbye or an optional Error, never both (the runner checks END-1 on every frame), then
    the end."""
    steps = [{"expect": {"goodbye": {"...": True}}, "level": "optional", "checks": ["END-2"]},
             {"expect": {"error": {"code": 1005, "...": True}}, "level": "optional", "checks": ["END-2"]},
             {"expect_eof": True}]
    if role == "parent":
        return steps + [{"child_exit": 0}, {"expect_output": "exit 0"}]
    return steps + [{"expect_exit": "any"}]


def before_hello(base, bad):
    """The runner's Hello replaced by `bad`; the implementation's own Hello still comes first (spec HELLO-1)."""
    out = []
    for st in handshake(base):
        if "send" in st and "hello" in st["send"].get("text", ""):
            out.append(bad)
        else:
            out.append(st)
    return out


def write(case):
    out = os.path.join(CASES, case["case"] + ".json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")


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
            level = d[6] if len(d) > 6 else "required"
            case_id = "%s/invalid/%s" % (role, name)
            case = {"case": case_id, "title": title, "role": role, "binding": "cord", "level": level,
                    "checks": checks, "requirement": requirement,
                    "origin": "derived from %s: %s" % (base_id, title.lower())}
            if requires:
                case["requires"] = requires
            case["steps"] = builder(base)
            write(case)
            made += 1
        for d in more(role):
            bid = d.get("base", base_id)
            if not os.path.exists(os.path.join(CASES, bid + ".json")):
                continue
            b = load(bid)
            case = {"case": "%s/%s" % (role, d["name"]), "title": d["title"], "role": role,
                    "binding": d.get("binding", "cord"), "level": d["level"], "checks": d["checks"],
                    "requirement": d["requirement"], "origin": "derived from %s: %s" % (bid, d["title"].lower())}
            for k in ("requires", "channel", "timeout_ms"):
                if k in d:
                    case[k] = d[k]
            case["steps"] = d["build"](b)
            write(case)
            made += 1
    print("derived %d cases" % made)
    write_manifest()
    return 0


def write_manifest():
    """cases/manifest-v1.json: every case of this spec version, so that a runner can tell a missing file."""
    ids = []
    for dirpath, _, files in os.walk(CASES):
        for name in files:
            if name.endswith(".json") and not name.startswith("manifest"):
                ids.append(os.path.relpath(os.path.join(dirpath, name), CASES)[:-5])
    with open(os.path.join(CASES, "manifest-v1.json"), "w") as f:
        json.dump({"spec": "spec/cord-v1.md", "protocol_version": 1, "cases": sorted(ids)}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
