#!/usr/bin/env python3
"""cli_lines.py: `cord run` sends every line it has read at once, even when several come in one read and input stays open."""
import select
import subprocess
import sys

cord, child = sys.argv[1], sys.argv[2]
p = subprocess.Popen([cord, "run", "--", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
p.stdin.write(b'{"a":1}\n{"b":2}\n')  # one write: both lines reach cord in one read
p.stdin.flush()
seen = b""
while seen.count(b"\n") < 2:
    # The bound is for a hang; the answers come at once when both lines are sent.
    ready, _, _ = select.select([p.stdout], [], [], 20)
    if not ready:
        print("only these answers came while input stayed open:", seen)
        p.kill()
        sys.exit(1)
    chunk = p.stdout.read1(4096)
    if not chunk:
        break
    seen += chunk
p.stdin.close()
rest = p.stdout.read()
status = p.wait()
if seen + rest != b'{"a":1}\n{"b":2}\n' or status != 0:
    print("answers", seen + rest, "status", status)
    sys.exit(1)
print("both lines answered while input was open")
