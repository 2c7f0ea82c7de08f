"""selftest.py: the suite's own tests: it fails each deliberately broken testee, passes each liberty the spec allows, never hangs, and reports in words.

Usage (each prints what it checked and exits 0, or says what went wrong and exits 1):
  selftest.py --list                 the tests, one `KIND NAME ROLE` a line (for ctest)
  selftest.py catches RULE ROLE      the suite fails `py_testee.py --break RULE` in ROLE, on the cases that check RULE
  selftest.py accepts QUIRK ROLE     the suite passes `py_testee.py --quirk QUIRK` in ROLE (its SHOULD misses, if any, are the listed ones)
  selftest.py watchdog               a parent that stops reading is timed out, its processes stopped, and the run goes on
  selftest.py report                 failure text, -v, the HTML report's order and size
  selftest.py private-schema         a module planted where an older runner generated its schema is never imported
  selftest.py v8-codec               the reader of the advanced serialization reads Node.js's bytes and refuses hostile ones
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
RUN = os.path.join(ROOT, "run")
TESTEE = os.path.join(ROOT, "testees", "py_testee.py")
BOTH = ("child", "parent")

# RULE: (roles, cases that must fail (globs, ROLE for the role), --strict, extra runner options, words the failure must hold)
CATCHES = {
    "hello-8-detail": (BOTH, ["ROLE/invalid/handshake/version-mismatch"], False, [], "error.detail"),
    "hello-7-preview": (BOTH, ["ROLE/invalid/handshake/non-protocol-text", "ROLE/invalid/handshake/wrong-magic"], True, [],
                        "HELLO-7"),
    "frame-5-detail": (BOTH, ["ROLE/invalid/framing/oversized-length", "ROLE/invalid/framing/top-bit-length"], True, [],
                       "FRAME-5"),
    "req-10": (BOTH, ["ROLE/valid/lifecycle/answers-before-goodbye"], True, [], "REQ-10"),
    "chan-4": (("parent",), ["parent/valid/handshake/hello-goodbye", "parent/valid/lifecycle/child-closes-and-exits"],
               False, [], "CHAN-4"),
    # The broken parents never finish these cases: a fifth of their limit shows it as well as all of it.
    "hello-12": (("parent",), ["parent/valid/handshake/silent-child-timed-out"], True, ["--timeout-scale", "0.2"],
                 "timed out"),
    "end-9": (("parent",), ["parent/valid/lifecycle/stop-escalates"], True, ["--timeout-scale", "0.2"], "timed out"),
    "flow-1": (("parent",), ["parent/valid/flow/parent-reads-while-writing"], False, ["--timeout-scale", "0.05"],
               "timed out after 6000 ms"),
    "frame-5": (BOTH, ["ROLE/invalid/framing/oversized-length"], False, ["--timeout-ms", "4000"], "timed out"),
    "hello-6": (BOTH, ["ROLE/invalid/handshake/message-before-hello"], False, [], "HELLO-5"),
    "msg-5": (BOTH, ["ROLE/invalid/messages/id-and-reply-to", "ROLE/invalid/messages/status-without-reply-to"], False,
              [], ""),
    "end-2": (BOTH, ["ROLE/invalid/lifecycle/frame-after-goodbye"], False, [], ""),
    "fd-7": (BOTH, ["ROLE/invalid/fds/announced-missing"], False, [], ""),
    "fd-8": (BOTH, ["ROLE/invalid/fds/stray"], False, [], ""),
    "req-5": (BOTH, ["ROLE/invalid/requests/reply-to-unknown"], False, [], ""),
    "err-2": (BOTH, ["ROLE/valid/requests/fail-forbidden-code"], False, [], "ERR-2"),
    "err-6": (BOTH, ["ROLE/valid/errors/forbidden-codes-are-not-fatal"], False, [], ""),
    "frame-15": (BOTH, ["ROLE/invalid/framing/wrong-wire-type", "ROLE/invalid/messages/wrong-wire-type"], False,
                 ["--timeout-ms", "4000"], ""),
    "frame-14": (BOTH, ["ROLE/invalid/framing/two-body-members",
                        "ROLE/invalid/messages/two-payloads", "ROLE/invalid/messages/uint32-too-large"], False,
                 ["--timeout-ms", "4000"], ""),
    "hello-13": (BOTH, ["ROLE/invalid/handshake/inverted-range"], False, [], "1004"),
    "end-12": (BOTH, ["ROLE/invalid/handshake/eof-before-hello"], False, [], "HELLO-5"),
    "ping-7": (BOTH, ["ROLE/valid/ping/peer-ends-before-pong"], False, [], "1011"),
    "end-8": (("child",), ["child/valid/handshake/hello-goodbye"], False, ["--timeout-ms", "4000"], "timed out"),
    "end-1": (BOTH, ["ROLE/valid/handshake/hello-goodbye"], False, [], "END-1"),
    "frame-7": (BOTH, ["ROLE/valid/handshake/hello-goodbye"], False, [], "FRAME-7"),
    "frame-12": (BOTH, ["ROLE/invalid/framing/truncated-body", "ROLE/invalid/framing/truncated-header"], False, [], ""),
    "hello-1": (BOTH, ["ROLE/invalid/handshake/eof-before-hello"], False, ["--timeout-ms", "4000"], ""),
    "chan-10": (("parent",), ["parent/valid/lifecycle/exits-while-channel-held"], False, ["--timeout-ms", "4000"], ""),
    "chan-2": (("parent",), ["parent/valid/channel/what-the-child-is-given"], False, [], "fds"),
    # Node.js's channel: the advanced serialization and handles.
    "node-12": (BOTH, ["ROLE/valid/node-advanced/*"], False, [], "NODE-12"),
    "node-14": (BOTH, ["ROLE/valid/node-handles/pass-and-echo", "ROLE/valid/node-advanced/handles"], False, [],
                "NODE-14"),
    "node-15": (BOTH, ["ROLE/valid/node-handles/pass-and-echo", "ROLE/valid/node-advanced/handles"], False, [],
                "NODE-15"),
}

# QUIRK: (roles, cases run (globs), cases skipped (globs), the ids whose SHOULDs it may miss)
ACCEPTS = {
    "close-not-goodbye": (("parent",), ["parent/*"],
                          ["parent/valid/handshake/silent-child-timed-out", "parent/valid/lifecycle/stop-escalates"], set()),
    "error-on-truncated": (BOTH, ["ROLE/invalid/framing/truncated-*"], [], set()),
    "exit-zero": (("child",), ["child/invalid/*"], [], {"END-8"}),
    "quiet": (BOTH, ["ROLE/invalid/*", "ROLE/valid/errors/*"], [], {"END-11", "REQ-5"}),
}


def command(role, args):
    testee = [TESTEE] + args
    return ("--child", " ".join(map(shlex.quote, testee))) if role == "child" else \
        ("--parent", " ".join(map(shlex.quote, [TESTEE, "--parent"] + args)))


def run_suite(role, testee_args, globs, strict=False, extra=(), skip=(), tag=None, report=None):
    """Runs conformance/run; returns (exit status, console text, results by case id)."""
    flag, cmd = command(role, testee_args)
    # The testee speaks all of Node.js's channel.
    argv = [RUN, flag, cmd, "--binding", "all", "--node", "advanced,handles"]
    for g in globs:
        argv += ["--run", g.replace("ROLE", role)]
    for g in skip:
        argv += ["--skip", g.replace("ROLE", role)]
    if strict:
        argv.append("--strict")
    argv += list(extra)
    own = None
    if report is None:
        own = tempfile.TemporaryDirectory(prefix="cord-selftest-")
        report = own.name
    argv += ["--report", report]
    env = dict(os.environ)
    if tag:
        env["CORD_SELFTEST_TAG"] = tag
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=900)
    text = p.stdout.decode("utf-8", "replace")
    try:
        with open(os.path.join(report, "results.json")) as f:
            results = {r["case"]: r for r in json.load(f)["results"]}
    except OSError:
        results = {}
    if own:
        own.cleanup()
    return p.returncode, text, results


def fail(why, text=""):
    print("FAILED: " + why)
    if text:
        print(text[-6000:])
    return 1


def catches(rule, role):
    roles, globs, strict, extra, words = CATCHES[rule]
    if role not in roles:
        return fail("%s is not broken in the %s role" % (rule, role))
    code, text, results = run_suite(role, ["--break", rule], globs, strict, extra)
    if code != 1 or not results:
        return fail("the suite did not fail the testee that breaks %s (exit %d)" % (rule, code), text)
    for case, r in sorted(results.items()):
        if r["verdict"] != "failed":
            return fail("%s: %s, but the testee breaks %s there" % (case, r["verdict"], rule), text)
        why = " ".join([r["reason"], r["expected"], r["actual"]])
        if words not in why:
            return fail("%s failed, but not for %s: %r lacks %r" % (case, rule, why, words), text)
        print("caught: %s %s: %s" % (role, case, r["reason"][:200]))
    return 0


def accepts(quirk, role):
    roles, globs, skip, may_miss = ACCEPTS[quirk]
    if role not in roles:
        return fail("%s is not a quirk of the %s role" % (quirk, role))
    code, text, results = run_suite(role, ["--quirk", quirk], globs, False, skip=skip)
    if code != 0:
        return fail("the suite failed a testee that only takes the liberty %r" % quirk, text)
    print("passed: %d cases with --quirk %s as a %s" % (len(results), quirk, role))
    code, text, results = run_suite(role, ["--quirk", quirk], globs, True, skip=skip)
    for case, r in sorted(results.items()):
        if r["verdict"] == "failed":
            missed = {i for m in r["should_misses"] for i in m["checks"]}
            if not r["should_misses"] or not missed <= may_miss:
                return fail("%s fails strictly for more than %s: %s" % (case, sorted(may_miss) or "nothing", r["reason"]), text)
            print("strictly: %s misses only %s" % (case, " ".join(sorted(missed))))
    if not may_miss and code != 0:
        return fail("the suite failed the quirk %r strictly" % quirk, text)
    return 0


def leftovers(tag):
    """The pids of processes that carry tag in their environment."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/environ" % name, "rb") as f:
                    if tag.encode() in f.read():
                        out.append(int(name))
            except OSError:
                pass
    return out


def watchdog():
    """A parent that blocks in its writes (breaking FLOW-1) once hung the runner: now the case is timed out, with its
    wire log, every process it started is gone, and the next case runs (with a fortieth of its limit too: whether it
    passes in that time is not the point)."""
    tag = uuid.uuid4().hex
    t = time.monotonic()
    code, text, results = run_suite("parent", ["--break", "flow-1"],
                                    ["parent/valid/flow/parent-reads-while-writing", "parent/valid/handshake/hello-goodbye"],
                                    extra=["--timeout-scale", "0.025"], tag=tag)
    took = time.monotonic() - t
    r = results.get("parent/valid/flow/parent-reads-while-writing")
    if r is None or r["verdict"] != "failed" or "timed out after 3000 ms" not in r["reason"]:
        return fail("the blocked parent was not timed out", text)
    if not any(w["dir"] == "out" for w in r["wire"]) or not any(w["dir"] == "in" for w in r["wire"]):
        return fail("the timed-out case has no wire log", text)
    nxt = results.get("parent/valid/handshake/hello-goodbye")
    if nxt is None or not any(w["dir"] == "facts" for w in nxt["wire"]):
        return fail("the run did not go on with the next case", text)
    left = leftovers(tag)
    if left:
        return fail("processes of the timed-out case are still running: %s" % left, text)
    print("timed out: %s (%.1f s for the whole run)" % (r["reason"], took))
    return 0


def report():
    """Failure text in words, one form for bytes; -v shows passing wire logs; the HTML lists failures first and
    cuts a case's text as its bytes."""
    with tempfile.TemporaryDirectory(prefix="cord-selftest-") as d:
        code, text, results = run_suite("child", ["--break", "hello-8-detail"],
                                        ["child/invalid/handshake/version-mismatch", "child/valid/messages/echo-raw",
                                         "child/invalid/node-messages/long-line"], report=d)
        lines = text.splitlines()
        at = next((i for i, l in enumerate(lines) if l.startswith("FAIL   child/invalid/handshake/version-mismatch")), None)
        if at is None:
            return fail("no FAIL line for the broken case", text)
        block = lines[at:at + 6]
        want = ["step 4 of 6 [END-11]: the frame differs: frame.error.detail is",
                "expected: a frame error { code: 1004 detail contains",
                "actual:   error { code: 1004 detail: \"no common version\" }",
                "          00 00 00 18 3a 16 08 ec 07 12 11 6e 6f 20 63 6f 6d 6d 6f 6e"]
        for w, l in zip(want, block[1:]):
            if w not in l:
                return fail("the failure text does not say %r where it should (%r)" % (w, l), "\n".join(block))
        with open(os.path.join(d, "index.html")) as f:
            page = f.read()
        first = page.find('<div class="case" id="')
        if not page[first:].startswith('<div class="case" id="child/invalid/handshake/version-mismatch"'):
            return fail("the HTML report does not list the failure first")
        if len(page) > 200000:
            return fail("the HTML report of 3 cases takes %d bytes" % len(page))
        for w in results["child/invalid/node-messages/long-line"]["wire"]:
            if len(w["decoded"]) > 4200 or len(w["hex"]) > 4096 * 3 + 40:
                return fail("a wire entry is not cut: %d characters decoded, %d of hex" % (len(w["decoded"]), len(w["hex"])))
        code, text, _ = run_suite("child", [], ["child/valid/messages/echo-raw"], extra=["-v"])
        if "wire:" not in text or "hello, raw bytes" not in text:
            return fail("-v does not show a passing case's wire log", text)
    print("failure text, -v, HTML order and size as they should be")
    return 0


def private_schema():
    """Before, the runner imported cord_pb2.py from a predictable directory under /tmp: a module planted there ran."""
    import hashlib
    with tempfile.TemporaryDirectory(prefix="cord-selftest-") as d:
        with open(os.path.join(ROOT, "..", "proto", "cord.proto"), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
        marker = os.path.join(d, "planted-module-ran")
        for base in (d, os.path.join(d, "cache")):
            planted = os.path.join(base, "cord-conformance-" + digest)
            os.makedirs(planted)
            with open(os.path.join(planted, "cord_pb2.py"), "w") as f:
                f.write("open(%r, 'w').write('ran')\nraise SystemExit('planted')\n" % marker)
        env = dict(os.environ, TMPDIR=d, XDG_CACHE_HOME=os.path.join(d, "cache"))
        p = subprocess.run([RUN, "--child", TESTEE, "--run", "child/valid/handshake/hello-goodbye"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        if os.path.exists(marker):
            return fail("the runner imported a module planted in %s" % d)
        if p.returncode != 0:
            return fail("the run failed", p.stdout.decode())
    print("the planted module was not imported")
    return 0


def tests():
    for rule, (roles, *_rest) in sorted(CATCHES.items()):
        for role in roles:
            yield "catches", rule, role
    for quirk, (roles, *_rest) in sorted(ACCEPTS.items()):
        for role in roles:
            yield "accepts", quirk, role


# Values as Node.js 20 writes them (spec section 13.1, and v8.serialize() with Node.js's host object for views).
NODE_BYTES = [
    ("ff0f6f220373657149027b01", {"seq": 1}),
    ("ff0f6f2203636d64220f4e4f44455f48414e444c455f41434b7b01", {"cmd": "NODE_HANDLE_ACK"}),
    ("ff0f5c000a03010203", {"$view": "Buffer", "hex": "010203"}),
    ("ff0f5c0004020201", {"$view": "Uint16Array", "hex": "0201"}),
    ("ff0f6302ac20", "\u20ac"),
    ("ff0f4e000000000000f83f", 1.5),
    ("ff0f6f22036269675a20000000000000000001000000000000007b01", {"big": {"$bigint": "18446744073709551616"}}),
    ("ff0f6f220161490222046c6f6f705e007b02", {"a": 1, "loop": {"$ref": 0}}),
]


def v8_codec():
    """The suite's reader of V8's serialization reads what Node.js writes, writes what it reads back to the same
    value, and refuses hostile bytes with its own error, within bounds: nesting, lengths and counts past the bytes
    left, references that multiply a value, and every truncation of a valid value."""
    from . import v8value
    for hx, want in NODE_BYTES:
        got = v8value.read(bytes.fromhex(hx))
        try:
            v8value.match(want, got, {})
            v8value.match(want, v8value.read(v8value.write(want)), {})
        except v8value.Mismatch as e:
            return fail("%s: %s" % (hx, e))
    # Two spellings of one value are the same value: a one-byte and a two-byte string, an int32 and a double,
    # a dense and a sparse array.
    for a, b in (("ff0f220161", "ff0f63026100"), ("ff0f4902", "ff0f4e000000000000f03f"),
                 ("ff0f410249024904240002", "ff0f61024900490249024904400202")):
        try:
            v8value.match(v8value.read(bytes.fromhex(a)), v8value.read(bytes.fromhex(b)), {})
        except v8value.Mismatch as e:
            return fail("%s and %s are one value: %s" % (a, b, e))
    try:
        v8value.match({"i": 1}, {"i": True}, {})
        return fail("true matched the number 1")
    except v8value.Mismatch:
        pass
    # Forty arrays, each of the next one and a reference to it: 2**40 values once references are followed.
    bomb = b"\xff\x0f" + b"A\x02" * 40 + b"o{\x00" + b"".join(b"^" + bytes([i + 1]) + b"$\x00\x02" for i in range(39, -1, -1))
    hostile = {
        "nesting past the bound": b"\xff\x0f" + b"A\x01" * 100000,
        "an array longer than the bytes left": b"\xff\x0f" + b"A\xff\xff\xff\xff\x0f",
        "a string longer than the bytes left": b"\xff\x0f" + b"\x22\xff\xff\xff\xff\x07ab",
        "a view longer than the bytes left": b"\xff\x0f" + b"\\\x00\x0a\xff\xff\xff\x7f",
        "a BigInt past the reader's bound": b"\xff\x0f" + b"Z\xfe\xff\x7f" + b"\x01" * 40,
        "a varint of 11 bytes": b"\xff\x0f" + b"I" + b"\x80" * 11,
        "a reference to nothing": b"\xff\x0f" + b"^\x05",
        "references that multiply": bytes(bomb),
        "no header": b"I\x02",
        "bytes after the value": b"\xff\x0f" + b"0" + b"0",
        "a tag that is none": b"\xff\x0f\xee",
        "a Map whose count is wrong": b"\xff\x0f;" + b"I\x02I\x04:\x05",
    }
    for what, data in hostile.items():
        try:
            v8value.read(data)
            return fail("%s was read" % what)
        except v8value.Error as e:
            print("refused: %s: %s" % (what, e))
    for hx, _ in NODE_BYTES:
        data = bytes.fromhex(hx)
        for n in range(len(data)):
            try:
                v8value.read(data[:n])
                return fail("%s cut to %d bytes was read" % (hx, n))
            except v8value.Error:
                pass
    print("read %d values as Node.js writes them; refused %d hostile inputs and every truncation" % (
        len(NODE_BYTES), len(hostile)))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--list"]:
        for t in tests():
            print(" ".join(t))
        return 0
    if len(argv) == 3 and argv[0] == "catches" and argv[1] in CATCHES:
        return catches(argv[1], argv[2])
    if len(argv) == 3 and argv[0] == "accepts" and argv[1] in ACCEPTS:
        return accepts(argv[1], argv[2])
    if argv == ["watchdog"]:
        return watchdog()
    if argv == ["report"]:
        return report()
    if argv == ["private-schema"]:
        return private_schema()
    if argv == ["v8-codec"]:
        return v8_codec()
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
