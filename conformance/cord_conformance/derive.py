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
         ["FRAME-5", "END-11", "SEC-1", "SEC-2"], "A receiver MUST compare L with its own max_frame as soon as it has the 4 prefix bytes, before it reads, buffers or allocates anything for the body.",
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
         # The probe goes first, so that the recommended Error is looked for without waiting.
         lambda b: handshake(b) + [frame('message { reply_to: 999 json: "\\"stale\\"" }'), still_alive(b)[0],
                                   {"expect_maybe": {"error": {"code": 1007, "...": True}}, "level": "recommended"}]
         + still_alive(b)[1:]),
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


def silent_exit():
    """A child that must not use what it was given: nothing on descriptor 3, and an exit (64 recommended, CHAN-7)."""
    return [{"expect_one_of": [
        {"level": "recommended", "steps": [{"expect_eof": True}, {"expect_exit": [64]}]},
        {"level": "required", "steps": [{"expect_eof": True}, {"expect_exit": "any"}]}]}]


def hello_with(role, **fields):
    """The runner's Hello with some fields changed."""
    f = {"magic": 0x44524F43, "min_version": 1, "max_version": 1, "max_frame": 65536, "max_fds": 4,
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
        {"name": "valid/framing/byte-by-byte", "title": "Frames written one byte at a time are read whole",
         "checks": ["FRAME-11", "FRAME-1"], "level": "required",
         "requirement": "A receiver MUST accept any split of the byte stream: a prefix or body spread over several reads, and several frames in one read.",
         "build": lambda b: chunked(handshake(b)) + chunked(still_alive(b)[:1]) + still_alive(b)[1:]},
        {"name": "valid/framing/reply-too-big-for-peer", "title": "A reply that would exceed the runner's max_frame is not sent; the request still gets one answer",
         "checks": ["FRAME-2", "REQ-2"], "level": "required", "requires": {"max_frame": 1024},
         "requirement": "A sender MUST NOT send a frame whose L exceeds the peer's max_frame.",
         "build": lambda b: before_hello(b, hello_with(role, max_frame=256)) + [
             frame('message { id: 77 raw: "%s" }' % ("x" * 300)),
             {"expect": {"message": {"reply_to": 77, "status": 1012}}}] + ending(b)},
    ]
    if child:
        out += [
            {"name": "invalid/channel/no-variable", "title": "Without CORD_CHANNEL_FD the child does not touch descriptor 3",
             "checks": ["CHAN-7"], "level": "required", "channel": {"env": {"CORD_CHANNEL_FD": None}},
             "requirement": "A child whose environment has no CORD_CHANNEL_FD (and no NODE_CHANNEL_FD) was run without a channel. It MUST NOT read or write any descriptor it did not open itself on the assumption that it is a channel.",
             "build": lambda b: silent_exit()},
            {"name": "invalid/channel/not-a-number", "title": "A CORD_CHANNEL_FD that is not a decimal number is not used",
             "checks": ["CHAN-8"], "level": "required", "channel": {"env": {"CORD_CHANNEL_FD": "03x"}},
             "requirement": "A child whose CORD_CHANNEL_FD is set but fails the checks of CHAN-6 MUST NOT use that descriptor.",
             "build": lambda b: silent_exit()},
            {"name": "invalid/channel/pipe-not-socket", "title": "A CORD_CHANNEL_FD naming a pipe is not used",
             "checks": ["CHAN-8", "CHAN-6"], "level": "required", "channel": {"fd": "pipe"},
             "requirement": "check that the value is a decimal number naming an open descriptor that is an AF_UNIX SOCK_STREAM socket",
             "build": lambda b: silent_exit()},
            {"name": "valid/channel/both-variables", "title": "With both channel variables the child speaks Cord and removes both",
             "checks": ["CHAN-9"], "level": "required", "base": "child/valid/channel/environment",
             "channel": {"env": {"NODE_CHANNEL_FD": "3", "NODE_CHANNEL_SERIALIZATION_MODE": "json"}},
             "requirement": "If both CORD_CHANNEL_FD and NODE_CHANNEL_FD are set, the child MUST use CORD_CHANNEL_FD and MUST remove both variables from its environment.",
             "build": lambda b: copy.deepcopy(b["steps"])},
            {"name": "invalid/node-channel/advanced-serialization", "title": "A Node.js channel in `advanced` mode is not used",
             "checks": ["NODE-3"], "level": "required", "binding": "node-json",
             "channel": {"env": {"NODE_CHANNEL_SERIALIZATION_MODE": "advanced"}},
             "requirement": "A child whose NODE_CHANNEL_SERIALIZATION_MODE names one it does not speak MUST NOT use the channel (a child that speaks json only, as every Cord child does today).",
             "build": lambda b: silent_exit()},
        ]
    node_base = "%s/valid/node-messages/echo" % role
    out += [
        {"name": "invalid/node-messages/internal-message", "title": "A NODE_ internal message is not delivered",
         "checks": ["NODE-7"], "level": "required", "binding": "node-json", "base": node_base,
         "requirement": "An object whose cmd member is a string longer than 5 characters that starts with NODE_ is an internal message of Node.js. A receiver MUST NOT deliver it as a user message.",
         "build": lambda b: node_start(b) + [{"send": {"json": {"cmd": "NODE_SOMETHING", "x": 1}}}] + node_alive(b)},
        {"name": "invalid/node-messages/handle-refused", "title": "A handle whose descriptor is no socket is refused with NODE_HANDLE_NACK, its descriptor closed",
         "checks": ["NODE-8", "NODE-16"], "level": "required", "binding": "node-json", "base": node_base,
         "requirement": "On receiving a NODE_HANDLE message, an implementation MUST answer it with exactly one internal message: {\"cmd\":\"NODE_HANDLE_ACK\"} when it takes the descriptor, or {\"cmd\":\"NODE_HANDLE_NACK\"} when no descriptor came or it does not take it, closing that descriptor. ... one that takes handles MUST refuse a descriptor that is not what its type says. When it refuses one, it ... SHOULD deliver the msg without the descriptor.",
         "build": lambda b: node_start(b) + [{"send": {"json": {"cmd": "NODE_HANDLE", "type": "net.Native", "msg": {"with": "handle"}}, "fds": 1}},
                                             {"expect": {"json": {"cmd": "NODE_HANDLE_NACK"}}}, node_alive(b)[0],
                                             {"expect_maybe": {"json": {"with": "handle"}}, "level": "optional"}]
         + node_alive(b)[1:]},
        {"name": "invalid/node-messages/long-line", "title": "A line longer than the receiver can hold does not overflow it or end the channel",
         "checks": ["NODE-6"], "level": "required", "binding": "node-json", "base": node_base,
         "requirement": "A line that does not fit in the receiver's buffer MUST NOT overflow it: the receiver MUST discard the line up to and including its 0a, report FRAME_TOO_LARGE to its application, and keep the channel open.",
         "build": lambda b: node_start(b) + [{"send": {"json": "L" * 200000}}, node_alive(b)[0],
                                             {"expect_maybe": {"json": "L" * 200000}, "level": "optional"}]
         + node_alive(b)[1:]},
    ]
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
             "checks": ["FLOW-1", "FLOW-3", "MSG-2"], "level": "required",
             "requirement": "A parent MUST keep reading its channel while it has frames waiting to be written: it MUST NOT block in a write while not also reading.",
             "build": lambda b: handshake(b) + [
                 {"send": {"text": 'message { json: "{\\"i\\":$i,\\"pad\\":\\"%s\\"}" }' % ("p" * 1000), "repeat": 3000}},
                 {"expect": {"message": {"json": '{"i":$i,"pad":"%s"}' % ("p" * 1000)}}, "repeat": 3000}] + ending(b)},
        ]
    return out


def chunked(steps):
    out = copy.deepcopy(steps)
    for st in out:
        if "send" in st:
            st["send"]["chunk"] = 1
    return out


def node_start(base):
    """Nothing to shake hands on the binding: a case starts with the first data."""
    return []


def node_alive(base):
    """On the binding: data still comes back, then the recorded end."""
    steps = [{"send": {"json": {"probe": "alive?"}}}, {"expect": {"json": {"probe": "alive?"}}}]
    tail = [st for st in base["steps"] if "close" in st or "expect_eof" in st or "expect_exit" in st
            or "child_exit" in st or "expect_output" in st]
    return steps + copy.deepcopy(tail)


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
            case_id = "%s/invalid/%s" % (role, name)
            case = {"case": case_id, "title": title, "role": role, "binding": "cord", "level": "required",
                    "checks": checks, "requirement": requirement,
                    "origin": "derived from %s: %s" % (base_id, title.lower()), "steps": builder(base)}
            if requires:
                case["requires"] = requires
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
            for k in ("requires", "channel"):
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
