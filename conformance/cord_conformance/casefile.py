"""casefile.py: reading a case file, and the check that every member and step has the form conformance/README.md gives it."""
import json
import re

from . import v8value, wire

ROLES = ("child", "parent")
BINDINGS = ("cord", "node-json", "node-advanced")
NODE_PARTS = ("advanced", "handles")  # what `requires` may ask of Node.js's channel (spec CONF-5)
HANDLE_KINDS = ("listen", "connected", "dgram", "pipe")
HANDLE_FAMILIES = ("inet", "inet6", "unix")
LEVELS = ("required", "recommended")
STEP_LEVELS = ("required", "recommended", "optional")
ID = re.compile(r"^[A-Z]+-[0-9]+$")
HEX = re.compile(r"^([0-9a-f]{2}( [0-9a-f]{2})*)?$")
# Bounds that keep a case file from asking the runner for unbounded work:
# the largest recorded case repeats 20,000 frames.
MAX_REPEAT = 1000000
MAX_FDS = 253  # SCM_MAX_FD: the most descriptors one sendmsg() carries
MAX_DEPTH = 32  # a pattern nests as deep as the schema does, and no deeper
SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2")
CASE_MEMBERS = {"case", "title", "role", "binding", "level", "checks", "requirement", "origin", "requires",
                "channel", "timeout_ms", "steps"}
STEP_ACTIONS = ("send", "expect", "expect_eof", "expect_exit", "expect_output", "expect_fds", "expect_facts",
                "close", "child_exit", "child_ignores")
STEP_EXTRAS = {"send": set(), "expect": {"hex", "text", "level", "ignore", "repeat", "should"},
               "expect_exit": {"should"}}
FRAME_BODIES = ("hello", "message", "cancel", "ping", "pong", "goodbye", "error")


class CaseFileError(Exception):
    """A case file that is not a case: what is wrong and where, for the person who wrote it."""


def parse(text, where="case"):
    """The case in text (a case file's contents), checked; raises CaseFileError, never anything else."""
    try:
        case = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CaseFileError("%s: not JSON: %s" % (where, e)) from None
    check(case, where)
    return case


def check(case, where="case"):
    """Raises CaseFileError unless case has the form of conformance/README.md, Transcripts."""
    def bad(what):
        raise CaseFileError("%s: %s" % (where, what))

    if not isinstance(case, dict):
        bad("not a JSON object")
    for k in ("case", "title", "role", "level", "checks", "requirement", "origin", "steps"):
        if k not in case:
            bad("no %r member" % k)
    unknown = sorted(set(case) - CASE_MEMBERS - {"_path"})
    if unknown:
        bad("unknown member %r" % unknown[0])
    for k in ("case", "title", "requirement", "origin"):
        if not isinstance(case[k], str) or not case[k]:
            bad("%r is not a non-empty string" % k)
    if not re.match(r"^(child|parent)/(valid|invalid)/[a-z0-9-]+/[a-z0-9-]+$", case["case"]):
        bad("case id %r is not ROLE/valid|invalid/AREA/NAME" % case["case"][:80])
    if case["role"] not in ROLES or not case["case"].startswith(case["role"] + "/"):
        bad("role %r is not child or parent, or not the case id's" % (case["role"],))
    if case.get("binding", "cord") not in BINDINGS:
        bad("binding %r is not one of %s" % (case["binding"], ", ".join(BINDINGS)))
    if case["level"] not in LEVELS:
        bad("level %r is not one of %s" % (case["level"], ", ".join(LEVELS)))
    _ids(case["checks"], "checks", bad, empty=False)
    if "requires" in case and not (isinstance(case["requires"], dict) and all(
            (isinstance(v, list) and all(x in NODE_PARTS for x in v)) if k in ("node", "node_without")
            else isinstance(k, str) and _int(v, 0, 1 << 32) for k, v in case["requires"].items())):
        bad("'requires' is not an object of Hello fields and numbers (and 'node', 'node_without': lists of %s)"
            % ", ".join(NODE_PARTS))
    if "channel" in case:
        ch = case["channel"]
        if not isinstance(ch, dict) or set(ch) - {"env", "fd"}:
            bad("'channel' is not an object of 'env' and 'fd'")
        if "env" in ch and not (isinstance(ch["env"], dict) and
                                all(isinstance(k, str) and k and "=" not in k and "\0" not in k and
                                    (v is None or (isinstance(v, str) and "\0" not in v))
                                    for k, v in ch["env"].items())):
            bad("'channel.env' is not an object of variable names and strings (or null)")
        if "fd" in ch and ch["fd"] != "pipe":
            bad("'channel.fd' is not \"pipe\"")
    if "timeout_ms" in case and not _int(case["timeout_ms"], 1, 3600000):
        bad("'timeout_ms' is not a number of milliseconds from 1 to 3600000")
    steps = case["steps"]
    if not isinstance(steps, list) or not steps:
        bad("'steps' is not a non-empty list")
    for i, st in enumerate(steps):
        _step(st, case, lambda what, i=i: bad("step %d: %s" % (i + 1, what)))


def _int(v, lo, hi):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _ids(v, name, bad, empty=True):
    if not isinstance(v, list) or (not v and not empty) or not all(isinstance(x, str) and ID.match(x) for x in v):
        bad("%r is not a list of spec ids such as FRAME-5" % name)


def _step(st, case, bad):
    if not isinstance(st, dict):
        bad("not a JSON object")
    actions = [k for k in STEP_ACTIONS if k in st]
    if len(actions) != 1:
        bad("has %s of the actions %s" % ("none" if not actions else "more than one", ", ".join(STEP_ACTIONS)))
    a = actions[0]
    unknown = sorted(set(st) - {a, "checks"} - STEP_EXTRAS.get(a, set()))
    if unknown:
        bad("unknown member %r beside %r" % (unknown[0], a))
    if "checks" in st:
        _ids(st["checks"], "checks", bad)
    node = case.get("binding", "cord") != "cord"
    v = st[a]
    if a == "send":
        _send(v, case.get("binding", "cord"), bad)
    elif a == "expect":
        _pattern(v, node, bad)
        if st.get("level", "required") not in STEP_LEVELS:
            bad("level %r is not one of %s" % (st["level"], ", ".join(STEP_LEVELS)))
        if "hex" in st and not (isinstance(st["hex"], str) and HEX.match(st["hex"])):
            bad("'hex' is not bytes as two lowercase hex digits each, spaces between")
        if "text" in st and not isinstance(st["text"], str):
            bad("'text' is not a string")
        if "ignore" in st and not (isinstance(st["ignore"], list) and all(x in FRAME_BODIES for x in st["ignore"])):
            bad("'ignore' is not a list of Frame.body members")
        if "repeat" in st and not _int(st["repeat"], 1, MAX_REPEAT):
            bad("'repeat' is not a count from 1 to %d" % MAX_REPEAT)
        for s in st.get("should", []) if isinstance(st.get("should", []), list) else bad("'should' is not a list"):
            if not isinstance(s, dict) or set(s) - {"match", "checks", "says"} or "match" not in s:
                bad("a 'should' entry is not an object of 'match', 'checks' and 'says'")
            _pattern(s["match"], node, bad)
            if "checks" in s:
                _ids(s["checks"], "checks", bad)
            if "says" in s and not isinstance(s["says"], str):
                bad("'says' is not a string")
    elif a == "expect_eof":
        if v is not True:
            bad("'expect_eof' is not true")
    elif a == "expect_exit":
        if v != "any" and not (isinstance(v, list) and v and all(_int(x, -64, 255) for x in v)):
            bad("'expect_exit' is not \"any\" or a list of exit statuses (negative: a signal)")
        if "should" in st and not (isinstance(st["should"], list) and all(_int(x, -64, 255) for x in st["should"])):
            bad("'should' is not a list of exit statuses")
    elif a == "expect_output":
        if not isinstance(v, str) or "\n" in v:
            bad("'expect_output' is not one line")
    elif a == "expect_fds":
        if not _int(v, 0, MAX_FDS):
            bad("'expect_fds' is not a count from 0 to %d" % MAX_FDS)
    elif a == "expect_facts":
        if not isinstance(v, dict):
            bad("'expect_facts' is not an object")
    elif a == "close":
        if v not in ("write", "both"):
            bad("'close' is not \"write\" or \"both\"")
    elif a == "child_exit":
        if not _int(v, 0, 255):
            bad("'child_exit' is not an exit status from 0 to 255")
    elif a == "child_ignores":
        if not (isinstance(v, list) and all(x in SIGNALS for x in v)):
            bad("'child_ignores' is not a list of signal names (%s)" % ", ".join(SIGNALS))


def _handle(h, send, bad):
    """A `handle` of a Node.js send (the socket to make) or expect (what must come)."""
    keys = {"kind", "family", "name", "port"} if send else {"kind", "family", "port", "same_as"}
    if not isinstance(h, dict) or set(h) - keys:
        bad("'handle' is not an object of %s" % ", ".join(sorted(keys)))
    if "kind" in h and h["kind"] not in HANDLE_KINDS:
        bad("'handle.kind' is not one of %s" % ", ".join(HANDLE_KINDS))
    if "family" in h and h["family"] not in HANDLE_FAMILIES:
        bad("'handle.family' is not one of %s" % ", ".join(HANDLE_FAMILIES))
    for k in ("name", "same_as"):
        if k in h and not (isinstance(h[k], str) and h[k]):
            bad("'handle.%s' is not a name" % k)


def _send(s, binding, bad):
    node = binding != "cord"
    if not isinstance(s, dict):
        bad("'send' is not an object")
    unknown = sorted(set(s) - {"hex", "text", "json", "value", "handle", "fds", "repeat", "chunk"})
    if unknown:
        bad("unknown member %r in 'send'" % unknown[0])
    if "hex" in s and not (isinstance(s["hex"], str) and HEX.match(s["hex"])):
        bad("'hex' is not bytes as two lowercase hex digits each, spaces between")
    if "text" in s and not isinstance(s["text"], str):
        bad("'text' is not a string")
    key = "value" if binding == "node-advanced" else "json"
    other = "json" if key == "value" else "value"
    if (not node and ("json" in s or "value" in s)) or other in s:
        bad("a send on the %s binding has %r" % (binding, "json" if "json" in s else "value"))
    if node and key not in s and not ("hex" in s and "text" in s):
        bad("a send on the %s binding has neither %r nor raw bytes ('hex' and 'text')" % (binding, key))
    if "value" in s and "hex" not in s:
        try:
            v8value.write(s["value"])
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
            bad("'value' is no value of the tagged JSON form: %s" % str(e)[:200])
    if "handle" in s:
        if not node:
            bad("a handle on the cord binding")
        _handle(s["handle"], True, bad)
    if not node and "hex" not in s and "text" not in s:
        bad("a send has neither 'hex' nor 'text'")
    if "fds" in s and not _int(s["fds"], 0, MAX_FDS):
        bad("'fds' is not a count from 0 to %d" % MAX_FDS)
    if "repeat" in s:
        if not _int(s["repeat"], 1, MAX_REPEAT) or node or "text" not in s:
            bad("'repeat' is not a count from 1 to %d of a frame given as 'text'" % MAX_REPEAT)
    if "chunk" in s and not _int(s["chunk"], 1, 1 << 30):
        bad("'chunk' is not a count of bytes")
    # The frame must be one the runner can write: text that protobuf's text
    # format reads (once captured values are in, which only a run knows).
    if "text" in s and "$" not in s["text"] and ("hex" not in s or "repeat" in s):
        try:
            wire.from_text(s["text"])
        except Exception as e:  # text_format.ParseError, and what protobuf raises beside it
            bad("'text' is not a cord.v1.Frame in protobuf text format: %s" % str(e)[:200])


def _pattern(p, node, bad, depth=0, path="expect"):
    """A pattern of conformance/README.md, Patterns: values, '*', '$name' and the operators."""
    if depth > MAX_DEPTH:
        bad("%s nests deeper than %d" % (path, MAX_DEPTH))
    if depth == 0:
        if not isinstance(p, dict) or not p:
            bad("%s is not a non-empty object" % path)
        if node:
            if len(set(p) & {"json", "value"}) != 1 or set(p) - {"json", "value", "handle"}:
                bad("%s on the Node.js binding is not {\"json\" or \"value\": VALUE} (and 'handle')" % path)
            if "handle" in p:
                _handle(p["handle"], False, bad)
            return
        body = [k for k in p if k != "..."]
        if len(body) != 1 or body[0] not in FRAME_BODIES:
            bad("%s names no single Frame.body member (%s)" % (path, ", ".join(FRAME_BODIES)))
    if isinstance(p, dict) and len(p) == 1 and next(iter(p)) in wire.OPERATORS:
        op, v = next(iter(p.items()))
        if op in (">=", "<=") and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            bad("%s: %s takes a number" % (path, op))
        if op == "any_of" and not isinstance(v, list):
            bad("%s: any_of takes a list" % path)
        if op == "contains" and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            bad("%s: contains takes a list of strings" % path)
        if op == "preview_of" and not (isinstance(v, str) and re.match(r"^([0-9a-f]{2})*$", v)):
            bad("%s: preview_of takes bytes as hex without spaces" % path)
        return
    if isinstance(p, dict):
        for k, v in p.items():
            if k == "...":
                if v is not True:
                    bad("%s: '...' is not true" % path)
                continue
            if not re.match(r"^[a-z_][a-z0-9_]*$", k):
                bad("%s: %r is not a field name" % (path, k[:40]))
            _pattern(v, node, bad, depth + 1, path + "." + k)
        return
    if isinstance(p, list) or p is None or isinstance(p, float):
        bad("%s: %s is no value a frame field has" % (path, json.dumps(p)[:40]))
