"""record.py: records a live session between a real parent and a real child through the proxy, and writes it as a case."""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

from . import handles, v8value, wire

HERE = os.path.dirname(os.path.abspath(__file__))


def frames_of(log, binding):
    """The frames (or lines) of each direction, each with the time it was complete and its descriptors."""
    out = []
    bufs = {"p2c": b"", "c2p": b""}
    pending_fds = {"p2c": 0, "c2p": 0}
    pending_handles = {"p2c": [], "c2p": []}  # what the descriptors not yet given to a NODE_HANDLE are
    exit_status = None
    for rec in log:
        if rec.get("event") == "exit":
            exit_status = rec["status"]
            out.append({"t": rec["t"], "kind": "exit", "status": rec["status"]})
            continue
        d = rec.get("dir")
        if not d:
            continue
        if rec.get("eof"):
            out.append({"t": rec["t"], "kind": "eof", "dir": d})
            continue
        if "hex" not in rec:
            continue
        bufs[d] += bytes.fromhex(rec["hex"])
        # Descriptors ride with the first byte of the frame that starts in
        # this chunk (spec FD-3): credit them to the next frame to complete.
        pending_fds[d] += rec.get("fds", 0)
        pending_handles[d] += rec.get("handles", [])
        while True:
            b = bufs[d]
            if binding.startswith("node-"):
                if binding == "node-json":
                    i = b.find(b"\n")
                    if i < 0:
                        break
                    raw, bufs[d] = b[:i + 1], b[i + 1:]
                    obj = json.loads(raw.decode())
                else:
                    if len(b) < 4 or len(b) < 4 + int.from_bytes(b[:4], "big"):
                        break
                    raw, bufs[d] = b[:4 + int.from_bytes(b[:4], "big")], b[4 + int.from_bytes(b[:4], "big"):]
                    obj = v8value.read(raw[4:])
                # Spec NODE-16: a NODE_HANDLE takes the oldest descriptor that came.
                handle = pending_handles[d].pop(0) if handles.is_internal(obj) and obj["cmd"] == "NODE_HANDLE" \
                    and pending_handles[d] else None
                out.append({"t": rec["t"], "kind": "line", "dir": d, "raw": raw, "obj": obj,
                            "fds": 1 if handle else 0, "handle": handle})
            else:
                if len(b) < 4 or len(b) < 4 + int.from_bytes(b[:4], "big"):
                    break
                n = int.from_bytes(b[:4], "big")
                raw, bufs[d] = b[:4 + n], b[4 + n:]
                f = wire.decode(raw[4:])
                nf = f.message.fds if f is not None and f.WhichOneof("body") == "message" else 0
                out.append({"t": rec["t"], "kind": "frame", "dir": d, "raw": raw, "frame": f,
                            "obj": wire.to_obj(f), "fds": nf})
                pending_fds[d] -= nf
            pending_fds[d] = max(0, pending_fds[d]) if binding == "node-json" else pending_fds[d]
    return out, exit_status


HELLO_PATTERN = {"magic": 1146244931, "min_version": {"<=": 1}, "max_version": {">=": 1},
                 "max_frame": {">=": 256}, "...": True}


class Namer:
    """Values one side chooses (request ids, ping nonces) become names, so a case works with any choice."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.names = {}

    def name(self, kind, v):
        key = (kind, v)
        if key not in self.names:
            self.names[key] = "$%s_%s%d" % (self.prefix, kind, len([k for k in self.names if k[0] == kind]) + 1)
        return self.names[key]

    def lookup(self, kind, v):
        return self.names.get((kind, v))


def expect_pattern(obj, chooser):
    """What the implementation under test sent, made into a pattern: exact, except what it may choose."""
    body = next(iter(obj)) if obj else None
    if body == "hello":
        return {"hello": dict(HELLO_PATTERN)}
    if body == "message":
        m = dict(obj["message"])
        if m.get("id"):
            m["id"] = chooser.name("id", m["id"])
        return {"message": m}
    if body == "ping":
        return {"ping": {"nonce": chooser.name("nonce", obj["ping"].get("nonce", 0))}}
    if body in ("error", "goodbye"):
        p = {k: v for k, v in obj[body].items() if k != "detail"}
        p["..."] = True
        return {body: p}
    return obj


def send_template(frame, chooser):
    """What the runner sends: literal bytes, unless it refers to a value the implementation chose."""
    body = frame.WhichOneof("body")
    refs = []
    if body == "message" and frame.message.reply_to:
        refs.append(("reply_to", "id", frame.message.reply_to))
    if body == "cancel":
        refs.append(("id", "id", frame.cancel.id))
    if body == "pong":
        refs.append(("nonce", "nonce", frame.pong.nonce))
    t = wire.text(frame)
    templated = False
    for field, kind, v in refs:
        name = chooser.lookup(kind, v)
        if name:
            t = t.replace("%s: %d" % (field, v), "%s: %s" % (field, name), 1)
            templated = True
    return t, templated


# The pids in recorded Hellos, replaced so that a case does not change each time it is recorded.
RECORDED_PIDS = {"p2c": 4242, "c2p": 4243}


def fixed_pid(it):
    """A Hello as recorded, with its pid replaced by a fixed one (spec HELLO-4: the pid is for diagnostics only)."""
    f = it["frame"]
    if f is None or f.WhichOneof("body") != "hello" or not f.hello.pid:
        return it
    g = type(f)()
    g.CopyFrom(f)
    g.hello.pid = RECORDED_PIDS[it["dir"]]
    return dict(it, frame=g, raw=wire.prefix(g.SerializeToString()), obj=wire.to_obj(g))


def chosen_ports(v, ports):
    """A value the implementation sent, with each `port` member (a port its listening socket was given) made a capture."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == "port" and isinstance(x, int):
                ports.setdefault(x, {"$capture": "port%d" % (len(ports) + 1)})
                out[k] = ports[x]
            else:
                out[k] = chosen_ports(x, ports)
        return out
    if isinstance(v, list):
        return [chosen_ports(x, ports) for x in v]
    return v


def to_case(items, exit_status, output, meta):
    role = meta["role"]
    binding = meta["binding"]
    runner_dir = "p2c" if role == "child" else "c2p"  # what the runner plays
    chooser = Namer("c" if role == "child" else "p")
    steps = []
    runner_ended = False  # the runner's direction has ended (its Goodbye, or end of file)
    sent = {}  # inode -> the name of a handle the runner sent (Node.js bindings)
    ports = {}  # port -> the capture it became (Node.js bindings)
    for it in items:
        if it["kind"] == "exit":
            if role == "parent":
                steps.append({"child_exit": it["status"]})
            continue
        if it["kind"] == "eof":
            if it["dir"] == runner_dir:
                runner_ended = True
                steps.append({"close": "write"})
            else:
                steps.append({"expect_eof": True})
            continue
        if binding.startswith("node-"):
            key = "json" if binding == "node-json" else "value"
            h = it.get("handle")
            if it["dir"] == runner_dir:
                st = {"send": {key: it["obj"], "hex": wire.hexs(it["raw"])}}
                if h:
                    # The runner sends a fresh socket of the same kind, named so that its echo can be recognised.
                    name = "h%d" % (len(sent) + 1)
                    sent[h["inode"]] = name
                    st["send"]["handle"] = {"kind": h["kind"], "family": h["family"], "name": name}
            else:
                pattern = {key: chosen_ports(it["obj"], ports)}
                if h:
                    pattern["handle"] = {"kind": h["kind"], "family": h["family"]}
                    if "port" in h and h["kind"] == "listen":
                        pattern["handle"]["port"] = ports.get(h["port"], {"$any": True})
                    if h["inode"] in sent:
                        pattern["handle"]["same_as"] = sent[h["inode"]]
                st = {"expect": pattern, "hex": wire.hexs(it["raw"])}
            steps.append(st)
            continue
        it = fixed_pid(it)
        if it["dir"] == runner_dir:
            if it["frame"].WhichOneof("body") == "goodbye":
                runner_ended = True
            t, templated = send_template(it["frame"], chooser)
            s = {"text": t}
            if not templated:
                s["hex"] = wire.hexs(it["raw"])
            if it["fds"]:
                s["fds"] = it["fds"]
            steps.append({"send": s})
        else:
            st = {"expect": expect_pattern(it["obj"], chooser), "hex": wire.hexs(it["raw"]), "text": wire.text(it["frame"])}
            if role == "parent" and runner_ended and "goodbye" in it["obj"]:
                # Spec END-3: once the child's direction has ended, the parent
                # sends its own Goodbye, or closes.
                st["level"] = "optional"
                st["checks"] = ["END-3"]
            steps.append(st)
            if it["fds"]:
                steps.append({"expect_fds": it["fds"]})
    if role == "child" and exit_status is not None:
        if exit_status == 0:
            # Spec END-8: the status after a clean end is a SHOULD.
            steps.append({"expect_exit": "any", "should": [0], "checks": ["END-8"]})
        else:
            # Any other status was asked for (the testee's `exit CODE`).
            steps.append({"expect_exit": [exit_status]})
    if role == "parent" and output:
        steps.append({"expect_output": output})
    case = {k: meta[k] for k in ("case", "title", "role", "binding", "level", "checks", "requirement")}
    case["origin"] = meta["origin"]
    if meta.get("requires"):
        case["requires"] = meta["requires"]
    case["steps"] = steps
    return case


def main(argv=None):
    ap = argparse.ArgumentParser(prog="conformance/record",
                                 description="Record a session between a real parent and a real child as a case.")
    ap.add_argument("--parent", required=True, help="the parent command; the child command is appended to it")
    ap.add_argument("--child", required=True, help="the child command")
    ap.add_argument("--out", required=True, help="the case file to write")
    ap.add_argument("--case", required=True)
    ap.add_argument("--title", required=True)
    ap.add_argument("--role", choices=["child", "parent"], required=True, help="the role the case will test")
    ap.add_argument("--binding", choices=["cord", "node-json", "node-advanced"], default="cord")
    ap.add_argument("--level", choices=["required", "recommended"], default="required")
    ap.add_argument("--checks", required=True, help="comma-separated spec ids")
    ap.add_argument("--requirement", required=True)
    ap.add_argument("--requires", default="", help="e.g. max_fds=1 (skip when the testee declares less)")
    ap.add_argument("--parent-env", action="append", default=[], help="NAME=VALUE for the parent")
    ap.add_argument("--node-requires", default="", help="what of Node.js's channel the case needs: advanced,handles")
    opts = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "log")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.path.dirname(HERE) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        for kv in opts.parent_env:
            k, _, v = kv.partition("=")
            env[k] = v
        argv = shlex.split(opts.parent) + [sys.executable, "-m", "cord_conformance.proxy", log_path, "--"] + \
            shlex.split(opts.child)
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, timeout=120)
        output = p.stdout.decode().strip().splitlines()
        with open(log_path) as f:
            log = [json.loads(line) for line in f]
    items, status = frames_of(log, opts.binding)
    meta = vars(opts).copy()
    meta["checks"] = [c.strip() for c in opts.checks.split(",") if c.strip()]
    meta["origin"] = "recorded between %s (parent) and %s (child)" % (
        os.path.basename(shlex.split(opts.parent)[0]), " ".join(os.path.basename(x) for x in shlex.split(opts.child)[:2]))
    meta["requires"] = dict((k, int(v)) for k, _, v in (r.partition("=") for r in opts.requires.split(",") if r))
    if opts.node_requires:
        meta["requires"]["node"] = sorted(opts.node_requires.split(","))
    case = to_case(items, status, output[-1] if output else "", meta)
    os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
    with open(opts.out, "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")
    print("recorded %s: %d steps, parent exit %d" % (opts.case, len(case["steps"]), p.returncode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
