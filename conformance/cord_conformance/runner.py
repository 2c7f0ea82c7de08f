"""runner.py: plays one case of the suite against an implementation started as a command line, in either role, within a bounded time."""
import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from . import handles, v8value, wire

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin.py")

# How many frames of a repeated step the wire log keeps at its start; the
# last one is kept too, so that a bulk case's log stays readable.
BULK_HEAD = 3


class Result:
    def __init__(self, case):
        self.case = case
        self.verdict = "passed"  # passed, failed, skipped, non-strict; the cli adds xfail, xpass
        self.reason = ""  # one line: what went wrong, naming the step
        self.expected = ""
        self.actual = ""
        self.actual_hex = ""
        self.misses = []  # (ids, text): recommended (SHOULD) outcomes that did not come
        self.log = []  # (t, direction, hex, decoded)
        self.stderr = ""
        self.seconds = 0.0

    def fail(self, reason, expected="", actual="", actual_hex=""):
        if self.verdict == "failed":
            return
        self.verdict = "failed"
        self.reason = reason
        self.expected = expected
        self.actual = actual
        self.actual_hex = actual_hex


class CaseError(Exception):
    """A step did not go as the case says; carries what was expected and what happened."""

    def __init__(self, reason, expected="", actual="", actual_hex=""):
        super().__init__(reason)
        self.reason, self.expected, self.actual, self.actual_hex = reason, expected, actual, actual_hex


def unexpected(reason, expected, ev):
    return CaseError(reason, expected, ev.decoded(300), ev.hex(96))


class Skip(Exception):
    pass


def _preexec(fd, target):
    def run():
        os.dup2(fd, target)
        # A fresh session and process group: signals meant for the runner
        # stay off the testee, and the whole group can be stopped at once.
        os.setsid()
    return run


def send_bytes(s, captures):
    """The bytes a `send` step (not repeated) writes, and their text for the log; CaseError if there are none."""
    if "json" in s:
        # The recorded bytes when there are any: JSON has many spellings.
        if "hex" in s:
            data = wire.unhex(s["hex"])
        else:
            try:
                data = (json.dumps(s["json"], separators=(",", ":"), ensure_ascii=False) + "\n").encode()
            except UnicodeEncodeError:
                # A lone surrogate has no UTF-8: escaped, as Node.js's JSON.stringify writes it.
                data = (json.dumps(s["json"], separators=(",", ":")) + "\n").encode()
        return data, data[:-1].decode("utf-8", "replace")
    if "value" in s:
        # On advanced: the recorded bytes when there are any, as for json.
        data = wire.unhex(s["hex"]) if "hex" in s else v8value.frame(s["value"])
        return data, v8value.dump(s["value"], 4096)
    if "hex" in s and "$" not in s.get("text", ""):
        data = wire.unhex(s["hex"])
        f = wire.decode(data[4:]) if len(data) >= 4 else None
        return data, s.get("text") or (wire.text(f) if f is not None else "(raw bytes)")
    t = wire.substitute(s["text"], captures)
    try:
        return wire.prefix(wire.from_text(t).SerializeToString()), t
    except Exception as e:  # text_format.ParseError: a captured value that does not fit the field
        raise CaseError("the case's frame is not one, with the values captured: %s" % str(e)[:200],
                        "a frame to send", t[:200])


def describe_step(st):
    """A step for a person."""
    if "expect" in st:
        e = st["expect"]
        if "json" in e or "value" in e:
            what = v8value.dump(e.get("json", e.get("value")), 120) + (" with a handle" if "handle" in e else "")
        else:
            what = "a frame " + wire.describe_pattern(e)
        lv = st.get("level", "required")
        return what + ("" if lv == "required" else " (%s)" % lv)
    if "expect_eof" in st:
        return "end of file"
    if "expect_exit" in st:
        return "an exit with status %s" % ("of any value" if st["expect_exit"] == "any" else
                                           " or ".join(str(s) for s in st["expect_exit"]))
    if "expect_output" in st:
        return "the parent testee to print %r and exit 0" % st["expect_output"]
    if "send" in st:
        s = st["send"]
        return "sending " + (s.get("text") or v8value.dump(s.get("json", s.get("value")), 120))[:120]
    return json.dumps(st)[:120]


class Run:
    """The state of one case while it runs."""

    def __init__(self, case, result, opts):
        self.case = case
        self.result = result
        self.opts = opts
        self.binding = case.get("binding", "cord")
        self.node = self.binding.startswith("node-")
        self.sent_handles = {}  # name -> what the runner sent as that handle (handles.describe)
        self.captures = {}
        self.t0 = time.monotonic()
        self.limit_ms = int(case.get("timeout_ms", opts.timeout_ms) * getattr(opts, "timeout_scale", 1.0))
        self.deadline = self.t0 + self.limit_ms / 1000.0
        self.proc = None
        self.pidfd = None
        self.status = None  # the implementation's exit status once known (negative: a signal)
        self.chan = None
        self.chan_closed = False
        self.ctl = None
        self.ctl_eof = False
        self.standin = None  # pidfd of the stand-in child (parent role)
        self.standin_pid = None
        self.last = None
        self.peer_hello = None
        self.facts = {}
        self.pushed = []  # events looked at by an optional step and left for the next
        self.quiet = False  # bulk steps: not every frame is logged
        self.chan4_checked = False
        self.expired = False
        self.lock = threading.Lock()
        self.errfile = None
        self.outfile = None

    def log(self, direction, raw=b"", decoded=""):
        if self.quiet and direction in ("in", "out"):
            return
        if len(decoded) > 4096:
            decoded = decoded[:4096] + " ... (%d characters in all)" % len(decoded)
        self.result.log.append((round(time.monotonic() - self.t0, 4), direction,
                                wire.hexs(raw[:4096]) + (" ... (%d bytes in all)" % len(raw) if len(raw) > 4096 else ""),
                                decoded))

    def miss(self, checks, text):
        """A recommended outcome did not come: judged on its own, failing the case only under --strict."""
        self.result.misses.append((list(checks or []), text))

    # ---- the watchdog ---------------------------------------------------------------------------

    def expire(self):
        """Called by the watchdog when the case's time is up and a step is still blocked: stops everything it waits for."""
        with self.lock:
            self.expired = True
            self.kill_all()
            for s in (self.chan.sock if self.chan else None, self.ctl):
                try:
                    if s is not None:
                        s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def kill_all(self):
        """SIGKILL to the testee's process group and to the stand-in child, whichever still runs."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        if self.standin is not None:
            try:
                signal.pidfd_send_signal(self.standin, signal.SIGKILL)
            except OSError:
                pass

    # ---- starting the implementation -------------------------------------------------------

    def _started(self, argv, **kw):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
        except (OSError, AttributeError):
            self.pidfd = None

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
        if self.node:
            env["NODE_CHANNEL_FD"] = "3"
            env["NODE_CHANNEL_SERIALIZATION_MODE"] = self.binding[len("node-"):]
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
        self._started(shlex.split(command), env=env, stdout=self.errfile, stderr=self.errfile, close_fds=False,
                      preexec_fn=_preexec(given, 3))
        theirs.close()
        if pipe:
            os.close(pipe[0])
            os.close(pipe[1])
        # The runner is the parent: it reads while it writes (spec FLOW-1).
        self.chan = wire.Channel(mine, self.binding, self.log, read_while_sending=True)

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
        if self.node:
            env["CORD_CONFORMANCE_BINDING"] = self.binding[len("node-"):]
        self.errfile = tempfile.TemporaryFile()
        self.outfile = tempfile.TemporaryFile()
        argv = shlex.split(command) + [sys.executable, STANDIN]
        self._started(argv, env=env, stdout=self.outfile, stderr=self.errfile, preexec_fn=os.setsid)
        listener.settimeout(max(0.01, self.deadline - time.monotonic()))
        try:
            conn, _ = listener.accept()
        except (socket.timeout, OSError):
            raise CaseError("the parent never started the stand-in child", "a child started", "none")
        finally:
            listener.close()
        conn.settimeout(max(0.01, self.deadline - time.monotonic()))
        try:
            msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4))
            self.facts = json.loads(msg.decode())
        except (socket.timeout, ValueError, OSError):
            raise CaseError("the stand-in child could not report what it was given", "a report", "none")
        conn.settimeout(None)
        self.ctl = conn
        self.standin_pid = self.facts.pop("pid", None)
        if self.standin_pid:
            try:
                self.standin = os.pidfd_open(self.standin_pid)
            except (OSError, AttributeError):
                self.standin = None
        fds = [int.from_bytes(d[i:i + 4], sys.byteorder) for lvl, typ, d in anc
               if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS for i in range(0, len(d), 4)]
        if not fds:
            raise CaseError("the stand-in child found no channel: " + self.facts.get("problem", "?"),
                            "a channel", "none")
        # The runner is the child: it may block in a write (spec FLOW-2),
        # which is how a parent that stops reading shows (FLOW-1).
        self.chan = wire.Channel(socket.socket(fileno=fds[0]), self.binding, self.log, read_while_sending=False)
        self.log("facts", b"", json.dumps(self.facts, sort_keys=True))

    # ---- reading ------------------------------------------------------------------------------

    def next_event(self, ignore=()):
        while True:
            if self.pushed:
                return self.pushed.pop()
            if self.chan_closed:
                raise CaseError("the case reads after the runner closed the channel")
            ev = self.take(self.deadline)
            if ev.kind == "frame" and ev.frame.WhichOneof("body") in ignore:
                self.log("note", b"", "ignored, as the case allows")
                continue
            if ev.kind == "frame" and ev.frame.WhichOneof("body") == "hello" and self.peer_hello is None:
                self.peer_hello = ev.obj["hello"]
            return ev

    def take(self, deadline):
        """The next event off the channel, logged, its descriptors closed; a frame that breaks a rule fails the case."""
        ev = self.chan.next(deadline)
        if ev.kind in ("frame", "line", "value", "garbage", "violation", "eof"):
            self.log("in", ev.raw, ev.decoded())
        for fd in ev.fds:
            # Descriptors are checked by count, then closed (spec FD-9).
            os.close(fd)
        if ev.kind == "violation":
            raise unexpected("the implementation broke %s" % ev.detail, "frames that follow the spec", ev)
        return ev

    def timed_out(self, waiting_for):
        return CaseError("timed out after %d ms, waiting for %s" % (self.limit_ms, waiting_for), waiting_for,
                         "nothing before the case's time ran out")

    def check_node(self):
        """Skips a case that needs more of Node.js's channel than the implementation speaks (--node), or that is for
        implementations that do not speak something it does."""
        if not self.node:
            return
        speaks = getattr(self.opts, "node", None) or set()
        need = set(self.case.get("requires", {}).get("node", []))
        if self.binding == "node-advanced":
            need.add("advanced")
        missing = sorted(need - speaks)
        if missing:
            raise Skip("the implementation is not declared to speak %s (--node)" % ", ".join(missing))
        unless = sorted(set(self.case.get("requires", {}).get("node_without", [])) & speaks)
        if unless:
            raise Skip("the case is for implementations that do not speak %s, and this one does (--node)"
                       % ", ".join(unless))

    def check_requires(self):
        req = self.case.get("requires", {})
        if not req or self.peer_hello is None:
            return
        for k, v in req.items():
            if k in ("node", "node_without"):
                continue
            have = self.peer_hello.get(k, 0)
            if have < v:
                raise Skip("the implementation declares %s %d; this case needs %d" % (k, have, v))

    def context(self):
        return {"hello": self.peer_hello}

    def matches(self, pattern, ev, captures):
        """None if ev matches pattern, else the Mismatch text."""
        if self.node:
            if ev.kind not in ("line", "value"):
                return "not a message"
            try:
                v8value.match(pattern.get("json", pattern.get("value")), ev.obj, captures)
                self.match_handle(pattern.get("handle"), ev, captures)
            except v8value.Mismatch as m:
                return str(m)
            return None
        if ev.kind != "frame":
            return "not a frame"
        try:
            wire.match(pattern, ev.obj, captures, context=self.context())
        except wire.Mismatch as m:
            return str(m)
        return None

    def match_handle(self, want, ev, captures):
        """The handle that came with a message of a Node.js binding is what the case's `handle` says (or none came)."""
        if want is None:
            if ev.handles:
                raise v8value.Mismatch("a handle came (%s) that the case does not expect" % ev.handles[0].get("kind"))
            return
        if len(ev.handles) != 1:
            raise v8value.Mismatch("want a handle (%s), none came" % want.get("kind"))
        got = ev.handles[0]
        for k in ("kind", "family"):
            if k in want and got.get(k) != want[k]:
                raise v8value.Mismatch("handle: want a %s socket, got %s %s" % (
                    " ".join(str(want.get(x, "")) for x in ("family", "kind")), got.get("family"), got.get("kind")))
        if "port" in want:
            v8value.match(want["port"], got.get("port"), captures, "handle.port")
        if "same_as" in want:
            sent = self.sent_handles.get(want["same_as"])
            if sent is None or sent["inode"] != got["inode"]:
                raise v8value.Mismatch("handle: want the socket the runner sent as %s, got another one" % want["same_as"])

    def expect_frame(self, st):
        if st.get("repeat"):
            n = st["repeat"]
            template = json.dumps(st["expect"])
            for k in range(1, n + 1):
                one = dict(st)
                one.pop("repeat")
                one["expect"] = json.loads(template.replace("$i", str(k)))
                self.quiet = BULK_HEAD < k < n
                if k == BULK_HEAD + 1 and n > BULK_HEAD + 1:
                    self.log("note", b"", "(%d more frames like these, not logged)" % (n - BULK_HEAD - 1))
                try:
                    self.expect_frame(one)
                finally:
                    self.quiet = False
            return
        pattern = st["expect"]
        level = st.get("level", "required")
        want = describe_step(st)
        ev = self.next_event(st.get("ignore", ()))
        if ev.kind == "timeout" and level == "required":
            raise self.timed_out(want)
        caps = dict(self.captures)
        why = self.matches(pattern, ev, caps)
        if why is None:
            self.captures = caps
            self.last = ev
            if not self.node and "hello" in ev.obj:
                self.check_requires()
            for s in st.get("should", []):
                try:
                    wire.match(s["match"], ev.obj, dict(self.captures), context=self.context())
                except wire.Mismatch as m:
                    self.miss(s.get("checks"), "%s: %s" % (s.get("says", "a recommended form"), m))
            return
        if level == "required":
            if ev.kind in ("frame", "line", "value"):
                raise unexpected("the %s differs: %s" % ("message" if self.node else "frame", why), want, ev)
            raise unexpected("expected %s, got %s" % ("a message" if self.node else "a frame",
                                                      ev.decoded(80)), want, ev)
        # An optional frame: a frame of the same kind that differs is wrong;
        # anything else is left for the next step.
        if ev.kind == "frame" and not self.node and ev.frame.WhichOneof("body") in pattern:
            raise unexpected("the frame differs: %s" % why, want, ev)
        self.pushed.append(ev)
        if level == "recommended":
            self.miss(st.get("checks"), "no %s came (%s came instead)" % (wire.describe_pattern(pattern), ev.decoded(80)))

    def expect_eof(self):
        ev = self.next_event()
        if ev.kind == "timeout":
            raise self.timed_out("end of file")
        if ev.kind != "eof":
            raise unexpected("expected end of file, got %s" % ("a frame" if ev.kind == "frame" else ev.decoded(80)),
                             "end of file", ev)

    # ---- sending ------------------------------------------------------------------------------

    def do_send(self, s):
        if s.get("repeat"):
            n = s["repeat"]
            template = wire.from_text(wire.substitute(s["text"], self.captures))
            for k in range(1, n + 1):
                self.quiet = BULK_HEAD < k < n
                if k == BULK_HEAD + 1 and n > BULK_HEAD + 1:
                    self.log("note", b"", "(%d more frames like these, not logged)" % (n - BULK_HEAD - 1))
                f = wire.substitute_frame(template, "$i", str(k))
                try:
                    self._send(wire.prefix(f.SerializeToString()), wire.text(f), s)
                except CaseError as e:
                    e.reason += " (at frame %d of %d)" % (k, n)
                    raise
                finally:
                    self.quiet = False
            return
        data, decoded = send_bytes(s, self.captures)
        message = s.get("json", s.get("value"))
        if handles.is_internal(message) and message["cmd"] in ("NODE_HANDLE_ACK", "NODE_HANDLE_NACK"):
            # Spec NODE-15: what the implementation wrote before this answer is looked at first.
            self.chan.answering()
        self._send(data, decoded, s)

    def _send(self, data, decoded, s):
        if not self.node and len(data) >= 4 and int.from_bytes(data[:4], "big") == len(data) - 4:
            f = wire.decode(data[4:])
            if f is not None and f.WhichOneof("body") == "hello" and self.chan.sender.runner_hello is None:
                self.chan.sender.runner_hello = f.hello
        fds, keep = [], []
        for _ in range(s.get("fds", 0)):
            fd, more = handles.make({"kind": "pipe"})
            fds.append(fd)
        if "handle" in s:
            # A real socket of the kind the case names, sent as Node.js sends a handle.
            fd, keep = handles.make(s["handle"])
            fds.append(os.dup(fd))
            what = handles.describe(fd)
            if s["handle"].get("name"):
                self.sent_handles[s["handle"]["name"]] = what
            if isinstance(s["handle"].get("port"), dict) and "$capture" in s["handle"]["port"]:
                self.captures[s["handle"]["port"]["$capture"]] = what.get("port")
            decoded += " [+a %s %s socket]" % (what.get("family"), what.get("kind"))
        self.log("out", data, decoded + (" [+%d fds]" % len(fds) if fds and "handle" not in s else ""))
        try:
            if s.get("chunk"):
                # Spec FRAME-11: the peer must cope with any split; each piece
                # is written on its own, so that the reads see them apart.
                for off in range(0, len(data), s["chunk"]):
                    if not self.chan.send(data[off:off + s["chunk"]], fds if off == 0 else (), self.deadline):
                        break
            else:
                self.chan.send(data, fds, self.deadline)
        except wire.Timeout as e:
            raise CaseError("timed out after %d ms while sending (%s): the implementation stopped reading"
                            % (self.limit_ms, e), "the implementation reads what it is sent (FLOW-1, FLOW-2)",
                            "it stopped reading")
        finally:
            for fd in fds:
                os.close(fd)
            for k in keep:
                k.close() if hasattr(k, "close") else os.close(k)
        # A write that fails because the peer closed its end is no error of
        # the case: the steps that follow say whether the close was right.

    # ---- the process -------------------------------------------------------------------------

    def wait_exit(self, until=None):
        """The implementation's exit status (negative: the signal), or None if it still runs at the deadline.

        The process is not reaped here: as a zombie it keeps its process
        group, which finish() then stops as a whole."""
        until = until or self.deadline
        while self.status is None:
            try:
                si = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                si = None
            if si is not None and si.si_pid:
                self.status = si.si_status if si.si_code == os.CLD_EXITED else -si.si_status
                self.log("exit", b"", "status %d" % self.status if self.status >= 0 else "signal %d" % -self.status)
                break
            left = until - time.monotonic()
            if left <= 0:
                return None
            if self.pidfd is not None:
                select.select([self.pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.01))  # no pidfd (kernel before 5.3): poll
        return self.status

    def expect_exit(self, st):
        statuses = st["expect_exit"]
        code = self.wait_exit()
        if code is None:
            raise self.timed_out("the implementation to exit")
        if statuses != "any" and code not in statuses:
            raise CaseError("wrong exit status", "exit status %s" % " or ".join(map(str, statuses)),
                            "exit status %d" % code if code >= 0 else "killed by signal %d" % -code)
        if "should" in st and code not in st["should"]:
            self.miss(st.get("checks"), "exit status %d; %s is recommended" % (code, " or ".join(map(str, st["should"]))))

    def standin_gone(self):
        """The stand-in child has ended (its control connection closed): its end of the channel goes, as the kernel would close a real child's."""
        if self.ctl_eof:
            return
        self.ctl_eof = True
        self.log("note", b"", "the stand-in child has ended; the runner closes the child's end of the channel")
        self.close_chan()

    def close_chan(self):
        if not self.chan_closed:
            self.chan_closed = True
            self.chan.close_fds()
            try:
                self.chan.sock.close()
            except OSError:
                pass

    def expect_output(self, line):
        """Parent role: the testee exits 0 after printing `line`. Meanwhile what it still sends is read and checked."""
        self.check_chan4()
        while self.wait_exit(until=time.monotonic()) is None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise self.timed_out("the parent testee to exit after printing %r" % line)
            watch = [self.ctl] if self.ctl is not None and not self.ctl_eof else []
            if not self.chan_closed and not self.chan.eof:
                watch.append(self.chan.sock)
            if self.pidfd is not None:
                watch.append(self.pidfd)
            r, _, _ = select.select(watch, [], [], left if self.pidfd is not None else min(left, 0.01))
            if self.ctl in r:
                try:
                    gone = self.ctl.recv(64) == b""
                except OSError:
                    gone = True
                if gone:
                    self.standin_gone()
            if not self.chan_closed and self.chan.sock in r:
                self.take(time.monotonic())
        self.outfile.seek(0)
        out = self.outfile.read().decode("utf-8", "replace").strip().splitlines()
        self.log("output", b"", " | ".join(out)[-2000:])
        code = self.status
        if code != 0 or not out or out[-1] != line:
            raise CaseError("the parent testee reported otherwise", "%r, then exit status 0" % line,
                            "%r, then %s" % (out[-1] if out else "(nothing)",
                                             "exit status %d" % code if code >= 0 else "signal %d" % -code))

    def check_chan4(self):
        """Spec CHAN-4, on every parent case: once the child runs, no process of the parent testee holds the child's end."""
        if self.chan4_checked or self.case["role"] != "parent" or self.chan is None or self.chan_closed:
            return
        self.chan4_checked = True
        ino = os.fstat(self.chan.sock.fileno()).st_ino
        link = "socket:[%d]" % ino
        for pid in group_members(self.proc.pid):
            if pid == self.standin_pid:
                continue
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == link:
                        raise CaseError("the implementation broke CHAN-4: process %d of the parent keeps the child's end "
                                        "of the channel as its descriptor %s" % (pid, fd),
                                        "the parent closed its copy of the child's end", "descriptor %s still open" % fd)
                except OSError:
                    pass

    # ---- the steps ------------------------------------------------------------------------------

    def step(self, st):
        if "send" in st:
            self.do_send(st["send"])
        elif "expect" in st:
            self.expect_frame(st)
        elif "expect_eof" in st:
            self.expect_eof()
        elif "expect_exit" in st:
            self.expect_exit(st)
        elif "expect_output" in st:
            self.expect_output(st["expect_output"])
        elif "expect_fds" in st:
            n = len(self.last.fds) if self.last else 0
            if n != st["expect_fds"]:
                raise CaseError("wrong number of descriptors with the last frame", "%d descriptors" % st["expect_fds"],
                                "%d descriptors" % n)
        elif "expect_facts" in st:
            for k, v in st["expect_facts"].items():
                if self.facts.get(k) != v:
                    raise CaseError("the child found %s %s" % (k, json.dumps(self.facts.get(k))),
                                    "%s %s" % (k, json.dumps(v)), "%s %s" % (k, json.dumps(self.facts.get(k))))
        elif "close" in st:
            self.check_chan4()
            self.log("out", b"", "close " + st["close"])
            if st["close"] == "write":
                self.chan.sock.shutdown(socket.SHUT_WR)
            else:
                self.close_chan()
        elif "child_exit" in st:
            self.check_chan4()
            self.log("out", b"", "stand-in exits %d" % st["child_exit"])
            self.ctl.sendall(b"exit %d\n" % st["child_exit"])
        elif "child_ignores" in st:
            self.control("ignore " + " ".join(st["child_ignores"]))
        else:
            raise CaseError("unknown step %s" % json.dumps(st))

    def control(self, command):
        """A command to the stand-in child, acknowledged before the case goes on."""
        self.log("note", b"", "stand-in: " + command)
        self.ctl.sendall(command.encode() + b"\n")
        self.ctl.settimeout(max(0.01, self.deadline - time.monotonic()))
        try:
            ok = self.ctl.recv(16)
        except (socket.timeout, OSError):
            ok = b""
        finally:
            self.ctl.settimeout(None)
        if not ok.startswith(b"ok"):
            raise CaseError("the stand-in child did not acknowledge %r" % command, "ok", repr(ok))

    def finish(self):
        if self.ctl:
            try:
                self.ctl.close()
            except OSError:
                pass
        if self.chan:
            self.close_chan()
        if self.proc:
            # The implementation and everything it started in its group stop
            # here, whether or not it has exited; then it is reaped.
            self.kill_all()
            self.proc.wait()
            self.errfile.seek(0)
            self.result.stderr = self.errfile.read().decode("utf-8", "replace")[-4000:]
        for fd in (self.pidfd, self.standin):
            if fd is not None:
                os.close(fd)


def group_members(pgid):
    """The pids of the processes in process group pgid, from /proc."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            out.append(int(name))
    return out


def run_case(case, command, opts):
    """Runs one case against the implementation started by `command`, within the case's time; returns its Result."""
    result = Result(case)
    r = Run(case, result, opts)
    t = time.monotonic()
    # The watchdog: a step that waits longer than the case's time (which
    # every wait of the runner is bounded by, so this is the last resort)
    # has what it waits for taken away.
    dog = threading.Timer(r.limit_ms / 1000.0 + 2.0, r.expire)
    dog.daemon = True
    dog.start()
    steps = case["steps"]
    i = -1
    try:
        r.check_node()
        if case["role"] == "child":
            r.start_child(command)
        else:
            r.start_parent(command)
        for i, st in enumerate(steps):
            r.step(st)
        r.check_chan4()
    except Skip as e:
        result.verdict = "skipped"
        result.reason = str(e)
    except CaseError as e:
        where = "at the start" if i < 0 else "step %d of %d%s" % (
            i + 1, len(steps), " [%s]" % " ".join(steps[i]["checks"]) if steps[i].get("checks") else "")
        result.fail("%s: %s" % (where, e.reason), e.expected, e.actual, e.actual_hex)
    except OSError as e:
        result.fail("the runner could not start or talk to the implementation: %s" % e)
    finally:
        dog.cancel()
        if r.expired:
            result.verdict = "passed"
            result.fail("timed out after %d ms (the watchdog stopped the implementation)%s" % (
                r.limit_ms, "" if i < 0 else ", at step %d of %d: %s" % (i + 1, len(steps), describe_step(steps[i]))),
                describe_step(steps[i]) if i >= 0 else "", "still waiting")
        r.finish()
        result.seconds = round(time.monotonic() - t, 3)
    if result.verdict == "failed" and case.get("level") == "recommended":
        # A recommended case checks a SHOULD: not meeting it is a miss, not a failure of the MUSTs.
        result.misses.append((case.get("checks", []), result.reason))
        result.verdict = "passed"
    if result.verdict == "passed" and result.misses:
        result.verdict = "failed" if opts.strict else "non-strict"
        result.reason = "recommended (SHOULD) outcome not met: " + "; ".join(
            "[%s] %s" % (" ".join(c), t) if c else t for c, t in result.misses)
    return result
