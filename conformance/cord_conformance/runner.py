"""runner.py: plays one case of the suite against an implementation started as a command line, in either role."""
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

from . import wire

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin.py")


class Result:
    def __init__(self, case):
        self.case = case
        self.verdict = "passed"  # passed, failed, skipped, non-strict
        self.reason = ""
        self.expected = ""
        self.actual = ""
        self.log = []  # (t, direction, hex, decoded)
        self.stderr = ""
        self.seconds = 0.0

    def fail(self, reason, expected="", actual=""):
        if self.verdict == "failed":
            return
        self.verdict = "failed"
        self.reason = reason
        self.expected = expected
        self.actual = actual


class CaseError(Exception):
    """A step did not go as the case says; carries what was expected and what happened."""

    def __init__(self, reason, expected="", actual=""):
        super().__init__(reason)
        self.reason, self.expected, self.actual = reason, expected, actual


class Skip(Exception):
    pass


def _preexec(fd, target):
    def run():
        os.dup2(fd, target)
        # A fresh session keeps signals meant for the runner off the testee.
        os.setsid()
    return run


class Run:
    """The state of one case while it runs."""

    def __init__(self, case, result, opts):
        self.case = case
        self.result = result
        self.opts = opts
        self.binding = case.get("binding", "cord")
        self.captures = {}
        self.t0 = time.monotonic()
        self.deadline = self.t0 + case.get("timeout_ms", opts.timeout_ms) / 1000.0
        self.proc = None
        self.chan = None
        self.ctl = None
        self.last = None
        self.peer_hello = None
        self.stdout_path = None
        self.facts = {}
        self.pushed = []  # events looked at by expect_maybe and put back

    def log(self, direction, raw=b"", decoded=""):
        self.result.log.append((round(time.monotonic() - self.t0, 4), direction,
                                wire.hexs(raw[:4096]) + (" ..." if len(raw) > 4096 else ""), decoded))

    # ---- starting the implementation -------------------------------------------------------

    def start_child(self, command):
        """The implementation is a child: the runner is its parent.

        A case can change what the child is given (`channel`): its
        environment (a value of null removes a variable), and descriptor 3,
        a socket (the default) or the read end of a pipe."""
        spec = self.case.get("channel", {})
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        for k in ("CORD_CHANNEL_FD", "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"):
            env.pop(k, None)
        if self.binding == "node-json":
            env["NODE_CHANNEL_FD"] = "3"
            env["NODE_CHANNEL_SERIALIZATION_MODE"] = "json"
        else:
            env["CORD_CHANNEL_FD"] = "3"
        for k, v in spec.get("env", {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        given = theirs.fileno()
        pipe = None
        if spec.get("fd") == "pipe":
            pipe = os.pipe()
            given = pipe[0]
        self.errfile = tempfile.TemporaryFile()
        # Python's descriptors are close-on-exec (PEP 446); the one dup2()ed
        # into place as 3 is not. close_fds would close it after the dup2.
        self.proc = subprocess.Popen(shlex.split(command), env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.errfile, stderr=self.errfile, close_fds=False,
                                     preexec_fn=_preexec(given, 3))
        theirs.close()
        if pipe:
            os.close(pipe[0])
            os.close(pipe[1])
        self.chan = wire.Channel(mine, self.binding, self.log)

    def start_parent(self, command):
        """The implementation is a parent: it starts the runner's stand-in child, which hands the channel over."""
        self.tmp = tempfile.TemporaryDirectory(prefix="cord-conformance-")
        path = os.path.join(self.tmp.name, "ctl")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        env = dict(os.environ)
        env["CORD_CONFORMANCE_CTL"] = path
        env.pop("CORD_CONFORMANCE_BINDING", None)
        if self.binding == "node-json":
            env["CORD_CONFORMANCE_BINDING"] = "json"
        self.errfile = tempfile.TemporaryFile()
        self.outfile = tempfile.TemporaryFile()
        argv = shlex.split(command) + [sys.executable, STANDIN]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self.outfile,
                                     stderr=self.errfile, preexec_fn=os.setsid)
        listener.settimeout(max(0.1, self.deadline - time.monotonic()))
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            raise CaseError("the parent never started the stand-in child", "a child started", "none")
        finally:
            listener.close()
        conn.settimeout(max(0.1, self.deadline - time.monotonic()))
        try:
            msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4))
            self.facts = json.loads(msg.decode())
        except (socket.timeout, ValueError):
            raise CaseError("the stand-in child could not report what it was given", "a report", "none")
        conn.settimeout(None)
        fds = [int.from_bytes(d[i:i + 4], sys.byteorder) for lvl, typ, d in anc
               if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS for i in range(0, len(d), 4)]
        if not fds:
            raise CaseError("the stand-in child found no channel: " + self.facts.get("problem", "?"),
                            "a channel", "none")
        self.ctl = conn
        self.chan = wire.Channel(socket.socket(fileno=fds[0]), self.binding, self.log)
        self.log("facts", b"", json.dumps(self.facts, sort_keys=True))

    # ---- steps ------------------------------------------------------------------------------

    def next_event(self, ignore=()):
        while True:
            if self.pushed:
                return self.pushed.pop()
            ev = self.chan.next(self.deadline)
            if ev.kind in ("frame", "line", "garbage", "violation"):
                self.log("in", ev.raw, ev.describe())
            if ev.kind == "violation":
                raise CaseError(ev.detail, "a conforming frame", ev.describe())
            elif ev.kind == "eof":
                self.log("in", b"", "end of file")
            if ev.kind == "frame" and ev.frame.WhichOneof("body") in ignore:
                self.log("note", b"", "ignored, as the case allows")
                continue
            if ev.kind == "frame" and ev.frame.WhichOneof("body") == "hello" and self.peer_hello is None:
                self.peer_hello = ev.obj["hello"]
            for fd in ev.fds:
                # Descriptors are checked by count, then closed (spec FD-9).
                os.close(fd)
            return ev

    def check_requires(self):
        req = self.case.get("requires", {})
        if not req or self.peer_hello is None:
            return
        for k, v in req.items():
            have = self.peer_hello.get(k, 0)
            if have < v:
                raise Skip("the implementation declares %s %d; this case needs %d" % (k, have, v))

    def expect_frame(self, step):
        if step.get("repeat"):
            for k in range(1, step["repeat"] + 1):
                st = dict(step)
                st.pop("repeat")
                st["expect"] = json.loads(json.dumps(step["expect"]).replace("$i", str(k)))
                self.expect_frame(st)
            return
        pattern = step["expect"]
        ev = self.next_event(step.get("ignore", ()))
        self.last = ev
        want = json.dumps(pattern, sort_keys=True)
        if self.binding == "node-json":
            if ev.kind != "line":
                raise CaseError("expected a line", want, ev.describe())
            if "json" in pattern:
                if ev.obj != pattern["json"]:
                    raise CaseError("the line differs", json.dumps(pattern["json"]), ev.describe())
            return
        if ev.kind != "frame":
            raise CaseError("expected a frame", want, ev.describe())
        try:
            wire.match(pattern, ev.obj, self.captures)
        except wire.Mismatch as m:
            raise CaseError("the frame differs: %s" % m, step.get("text", want), ev.describe())
        if "hello" in ev.obj:
            self.check_requires()

    def do_send(self, s, i=None):
        if i is None and s.get("repeat"):
            for k in range(1, s["repeat"] + 1):
                self.do_send(s, k)
            return
        if i is not None:
            s = dict(s)
            s["text"] = s["text"].replace("$i", str(i))
            s.pop("hex", None)
        fds = []
        if "json" in s:
            # The recorded bytes when there are any: JSON has many spellings.
            data = wire.unhex(s["hex"]) if "hex" in s else \
                (json.dumps(s["json"], separators=(",", ":"), ensure_ascii=False) + "\n").encode()
            decoded = data[:-1].decode("utf-8", "replace")
        elif "hex" in s and "$" not in s.get("text", ""):
            data = wire.unhex(s["hex"])
            f = wire.decode(data[4:]) if len(data) >= 4 else None
            decoded = s.get("text") or (wire.text(f) if f is not None else "(raw bytes)")
        else:
            t = wire.substitute(s["text"], self.captures)
            data = wire.prefix(wire.from_text(t).SerializeToString())
            decoded = t
        for _ in range(s.get("fds", 0)):
            r, w = os.pipe()
            os.close(r)
            fds.append(w)
        if i is None or i <= 3 or i == s.get("repeat"):
            self.log("out", data, decoded + (" [+%d fds]" % len(fds) if fds else "") +
                     (" (then %d more like it)" % (s["repeat"] - 3) if i == 3 and s.get("repeat", 0) > 4 else ""))
        if s.get("chunk"):
            # Spec FRAME-11: the peer must cope with any split; pieces are
            # paced so that they arrive apart.
            ok = True
            for off in range(0, len(data), s["chunk"]):
                ok = self.chan.send(data[off:off + s["chunk"]], fds if off == 0 else ())
                time.sleep(0.001)
        else:
            ok = self.chan.send(data, fds)
        for fd in fds:
            os.close(fd)
        if not ok and not s.get("may_fail"):
            pass  # the peer closed; later steps say whether that was right

    def expect_maybe(self, step):
        """A frame the spec recommends: consumed if it is there; if not, the case passes only non-strictly."""
        ev = self.next_event()
        if ev.kind in ("frame", "line"):
            try:
                if self.binding == "node-json":
                    if ev.obj == step["expect_maybe"].get("json"):
                        return
                else:
                    wire.match(step["expect_maybe"], ev.obj, dict(self.captures))
                    return
            except wire.Mismatch:
                pass
        if ev.kind != "timeout":
            self.pushed.append(ev)
        if step.get("level") == "recommended" and self.result.verdict == "passed":
            self.result.verdict = "non-strict"
            self.result.reason = "the recommended %s did not come" % json.dumps(step["expect_maybe"])

    def expect_eof(self):
        ev = self.next_event()
        if ev.kind != "eof":
            raise CaseError("expected end of file", "end of file", ev.describe())

    def wait_exit(self):
        left = max(0.0, self.deadline - time.monotonic())
        try:
            return self.proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            return None

    def expect_exit(self, statuses):
        code = self.wait_exit()
        if code is None:
            raise CaseError("the implementation did not exit", "exit status %s" % statuses, "still running")
        self.log("exit", b"", "status %d" % code)
        if statuses != "any" and code not in statuses:
            raise CaseError("wrong exit status", "exit status %s" % statuses, "exit status %d" % code)

    def expect_output(self, line):
        code = self.wait_exit()
        if code is None:
            raise CaseError("the parent testee did not exit", line, "still running")
        self.outfile.seek(0)
        out = self.outfile.read().decode("utf-8", "replace").strip().splitlines()
        self.log("output", b"", " | ".join(out))
        if code != 0 or not out or out[-1] != line:
            raise CaseError("the parent testee reported otherwise", line + ", status 0",
                            "%s, status %d" % (out[-1] if out else "(nothing)", code))

    def one_of(self, alts):
        """Reads everything up to end of file (or the deadline), then finds the alternative it matches."""
        seen = []
        while True:
            ev = self.next_event()
            seen.append(ev)
            if ev.kind in ("eof", "timeout"):
                break
        order = {"recommended": 0, "required": 1}
        best = None
        reasons = []
        for alt in sorted(alts, key=lambda a: order.get(a.get("level", "required"), 1)):
            caps = dict(self.captures)
            try:
                self._match_alt(alt["steps"], seen, caps)
            except CaseError as e:
                reasons.append("%s: %s" % (alt.get("level", "required"), e.reason))
                continue
            best = alt
            self.captures = caps
            break
        if best is None:
            raise CaseError("no acceptable outcome: " + "; ".join(reasons),
                            " or ".join(json.dumps(a["steps"]) for a in alts),
                            " | ".join(e.describe() for e in seen))
        if best.get("level", "required") == "required" and any(a.get("level") == "recommended" for a in alts):
            self.result.verdict = "non-strict"
            self.result.reason = "only the required outcome, not the recommended one"

    def _match_alt(self, steps, seen, caps):
        i = 0
        for st in steps:
            if "expect" in st:
                if i >= len(seen) or seen[i].kind not in ("frame", "line"):
                    raise CaseError("missing %s" % json.dumps(st["expect"]))
                try:
                    wire.match(st["expect"], seen[i].obj, caps)
                except wire.Mismatch as m:
                    raise CaseError(str(m))
                i += 1
            elif "expect_eof" in st:
                if i >= len(seen) or seen[i].kind != "eof":
                    raise CaseError("no end of file at frame %d" % i)
                i += 1
            elif "expect_exit" in st:
                code = self.wait_exit()
                if code is None or (st["expect_exit"] != "any" and code not in st["expect_exit"]):
                    raise CaseError("exit status %s, want %s" % (code, st["expect_exit"]))
        if i < len(seen) and seen[i].kind != "timeout":
            raise CaseError("unexpected %s" % seen[i].describe())

    def step(self, st):
        if "send" in st:
            self.do_send(st["send"])
        elif "expect" in st:
            self.expect_frame(st)
        elif "expect_maybe" in st:
            self.expect_maybe(st)
        elif "expect_eof" in st:
            self.expect_eof()
        elif "expect_exit" in st:
            self.expect_exit(st["expect_exit"])
        elif "expect_output" in st:
            self.expect_output(st["expect_output"])
        elif "expect_fds" in st:
            n = len(self.last.fds) if self.last else 0
            if n != st["expect_fds"]:
                raise CaseError("wrong number of descriptors", str(st["expect_fds"]), str(n))
        elif "expect_facts" in st:
            for k, v in st["expect_facts"].items():
                if self.facts.get(k) != v:
                    raise CaseError("the child found %s" % k, json.dumps(v), json.dumps(self.facts.get(k)))
        elif "close" in st:
            self.log("out", b"", "close " + st["close"])
            if st["close"] == "write":
                self.chan.sock.shutdown(socket.SHUT_WR)
            else:
                self.chan.sock.close()
        elif "child_exit" in st:
            self.log("out", b"", "stand-in exits %d" % st["child_exit"])
            self.ctl.sendall(b"exit %d\n" % st["child_exit"])
        elif "expect_one_of" in st:
            self.one_of(st["expect_one_of"])
        else:
            raise CaseError("unknown step %s" % json.dumps(st))

    def finish(self):
        if self.ctl:
            try:
                self.ctl.close()
            except OSError:
                pass
        if self.chan:
            self.chan.close_fds()
            try:
                self.chan.sock.close()
            except OSError:
                pass
        if self.proc and self.proc.poll() is None:
            # The implementation outlived its case: stop it, and its group.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        if self.proc:
            self.errfile.seek(0)
            self.result.stderr = self.errfile.read().decode("utf-8", "replace")[-4000:]


def run_case(case, command, opts):
    """Runs one case against the implementation started by `command`; returns its Result."""
    result = Result(case)
    r = Run(case, result, opts)
    t = time.monotonic()
    try:
        if case["role"] == "child":
            r.start_child(command)
        else:
            r.start_parent(command)
        for st in case["steps"]:
            r.step(st)
            if result.verdict == "failed":
                break
    except Skip as e:
        result.verdict = "skipped"
        result.reason = str(e)
    except CaseError as e:
        result.fail(e.reason, e.expected, e.actual)
    except OSError as e:
        result.fail("the runner could not start or talk to the implementation: %s" % e)
    finally:
        r.finish()
        result.seconds = round(time.monotonic() - t, 3)
    return result
