"""helpers.py: what the Python SDK's unit tests share: child programs given as source text, and bounded waits."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
PYTHON = sys.executable
LIMIT = 60.0   # seconds: bounds a hang on a loaded machine, never paces a test


def child(code):
    """argv of a Python child running CODE, which can import cord."""
    return [PYTHON, "-c", "import sys; sys.path.insert(0, %r)\n%s" % (SDK, code)]


def events_until(proc, kind, limit=LIMIT):
    """Take PROC's events until one of class KIND; returns them all."""
    out = []
    deadline = time.monotonic() + limit
    while True:
        ev = proc.next_event(timeout=max(0.0, deadline - time.monotonic()))
        if ev is None:
            raise AssertionError("no %s event within %s s; got %r" % (kind.__name__, limit, out))
        out.append(ev)
        if isinstance(ev, kind):
            return out


def wait_for(cond, limit=LIMIT):
    """Poll COND until true (bounded); the condition is read, never timed."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within %s s" % limit)
        time.sleep(0.01)


def start(test, argv, **options):
    """cord.spawn(ARGV, **OPTIONS), with the child killed and reaped when
    TEST ends, whatever the test did."""
    import cord
    proc = cord.spawn(argv, **options)

    def finish():
        if proc.exit is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
        while proc.next_event(LIMIT) is not None:   # up to and including Exit
            pass
    test.addCleanup(finish)
    return proc
