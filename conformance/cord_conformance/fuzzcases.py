"""fuzzcases.py: a mutation fuzzer of the case reader: any file is refused with a clear error or read, and a read case never breaks the runner's own code."""
import argparse
import copy
import json
import os
import random
import sys
import time
import traceback

from . import casefile, runner, wire

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.normpath(os.path.join(HERE, "..", "cases"))

# Values a mutation puts in place of another: every JSON type, and the
# edges of the numbers and strings the runner reads.
ODD = [None, True, False, 0, -1, 1, 255, 256, 2 ** 31, 2 ** 32, 2 ** 64, 10 ** 30, 1.5, float("1e308"),
       "", "*", "$", "$x", "$hello.max_frame", "00", "zz", "0a 0b", "...", "\u0000", "\ud800x", "é" * 3,
       [], [1], ["FRAME-5"], {}, {"...": True}, {">=": "a"}, {"any_of": 3}, {"contains": [1]},
       {"preview_of": "0g"}, {"hello": {}}, {"json": None}, {"send": {}}, {"expect": {}}]


def seeds():
    """The suite's own case files, as text."""
    out = []
    for dirpath, _, files in os.walk(CASES):
        for name in sorted(files):
            if name.endswith(".json") and not name.startswith("manifest"):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    out.append(f.read())
    return out


def _places(v, path=()):
    """Every (path) of a value inside a JSON tree."""
    yield path
    if isinstance(v, dict):
        for k in v:
            yield from _places(v[k], path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _places(x, path + (i,))


def _get(v, path):
    for p in path:
        v = v[p]
    return v


def mutate_tree(case, rnd):
    """A structural edit of a case: a member dropped, replaced, duplicated or moved."""
    c = copy.deepcopy(case)
    places = [p for p in _places(c) if p]
    if not places:
        return rnd.choice(ODD)
    path = rnd.choice(places)
    parent = _get(c, path[:-1])
    key = path[-1]
    what = rnd.randrange(7)
    if what == 0:
        del parent[key]
    elif what == 1:
        parent[key] = copy.deepcopy(rnd.choice(ODD))
    elif what == 2 and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif what == 3:
        other = _get(c, rnd.choice(places)[:-1] or ())
        if isinstance(other, dict) and other:
            parent[key] = copy.deepcopy(other[rnd.choice(list(other))])
    elif what == 4 and isinstance(parent, dict):
        parent[rnd.choice(["send", "expect", "level", "repeat", "fds", "chunk", "hex", "text", "json", "should",
                           "ignore", "checks", "...", "x"])] = copy.deepcopy(parent[key])
    elif what == 5 and isinstance(parent[key], str) and parent[key]:
        s = parent[key]
        i = rnd.randrange(len(s))
        parent[key] = s[:i] + rnd.choice(["$", "\"", "{", "}", "\\", " ", "0", "x", ""]) + s[i + 1:]
    elif what == 6 and isinstance(parent[key], int) and not isinstance(parent[key], bool):
        parent[key] = rnd.choice([-parent[key], parent[key] + 1, parent[key] * 1000003, 0])
    return c


def mutate_text(text, rnd):
    """A byte-level edit of a case file's text."""
    b = bytearray(text.encode("utf-8"))
    for _ in range(rnd.randint(1, 4)):
        if not b:
            break
        i = rnd.randrange(len(b))
        op = rnd.randrange(4)
        if op == 0:
            b[i] = rnd.randrange(256)
        elif op == 1:
            del b[i:i + rnd.randint(1, 64)]
        elif op == 2:
            b[i:i] = rnd.choice([b"[", b"{", b"\"", b",", b"1e999", b"\\u", b"[" * 64])
        else:
            del b[i:]
    return b.decode("utf-8", "replace")


# Frames an implementation could send, to match read patterns against.
SAMPLES = [wire.to_obj(wire.from_text(t)) for t in (
    'hello { magic: 1146244931 min_version: 1 max_version: 1 max_frame: 65536 max_fds: 4 pid: 7 }',
    'message { id: 1 json: "{}" }', 'message { reply_to: 1 status: 1012 }', 'message { typed { type: "a.B" } }',
    'ping { nonce: 3 }', 'pong { nonce: 3 }', 'goodbye { reason: REASON_SHUTDOWN detail: "x" }',
    'error { code: 1001 detail: "frame of 300 bytes exceeds max_frame 256" }', 'cancel { id: 2 }')]


def exercise(case):
    """The runner's own reading of every step of a case read without error, short of any I/O.

    Anything but CaseError (a case that cannot be carried out, reported as
    its failure) and wire.Mismatch (a pattern that does not match) is a
    fault of the runner."""
    captures = {}
    ctx = {"hello": SAMPLES[0]["hello"]}
    for st in case["steps"]:
        runner.describe_step(st)
        if "send" in st and not st["send"].get("repeat"):
            try:
                runner.send_bytes(st["send"], captures)
            except runner.CaseError:
                pass
        patterns = [st["expect"]] + [s["match"] for s in st.get("should", [])] if "expect" in st else []
        for pattern in patterns:
            if case.get("binding", "cord") != "cord":
                continue
            for sample in SAMPLES:
                try:
                    wire.match(pattern, sample, dict(captures), context=ctx)
                except wire.Mismatch:
                    pass


def one(text):
    """Reads text as a case file; raises what the runner must never raise."""
    try:
        case = casefile.parse(text)
    except casefile.CaseFileError:
        return False
    exercise(case)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m cord_conformance.fuzzcases", description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0, help="how long to run (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=None, help="the random seed (default: one from the clock, printed)")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else int(time.time() * 1000) & 0xFFFFFFFF
    rnd = random.Random(seed)
    texts = seeds()
    cases = [json.loads(t) for t in texts]
    for t in texts:  # every case of the suite is read, and exercised, as it is
        try:
            exercise(casefile.parse(t))
        except casefile.CaseFileError as e:
            print("FAILED: a case of the suite is refused: %s" % e)
            return 1
    end = time.monotonic() + a.seconds
    runs = accepted = 0
    while time.monotonic() < end:
        k = rnd.randrange(len(texts))
        if rnd.random() < 0.5:
            text = json.dumps(mutate_tree(cases[k], rnd) if rnd.random() < 0.9 else
                              mutate_tree(mutate_tree(cases[k], rnd), rnd))
        else:
            text = mutate_text(texts[k], rnd)
        runs += 1
        try:
            accepted += one(text)
        except Exception:
            print("FAILED (seed %d, input %d): the runner broke on a case file:\n%s" % (seed, runs, text[:4000]))
            traceback.print_exc()
            return 1
    print("fuzzcases: %d inputs, %d read as cases, %d refused with a clear error, no fault (seed %d)"
          % (runs, accepted, runs - accepted, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
