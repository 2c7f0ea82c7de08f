#!/usr/bin/env python3
"""seeds.py: the frame bodies of the conformance transcripts and of the spec's examples, one file each, as seeds of fuzz_decoders.

usage: seeds.py ROOT OUTDIR
"""
import hashlib
import json
import os
import re
import sys


def bodies(data):
    """The bodies of the whole frames in a byte string."""
    while len(data) >= 4:
        n = int.from_bytes(data[:4], "big")
        if n > len(data) - 4:
            return
        yield data[4 : 4 + n]
        data = data[4 + n :]


def main(root, outdir):
    found = set()
    for dirpath, _, files in os.walk(os.path.join(root, "conformance", "cases")):
        for f in files:
            case = json.load(open(os.path.join(dirpath, f)))
            for step in case.get("steps", []):
                for key in ("send", "expect"):
                    h = step.get("hex") if key == "expect" else (step.get("send") or {}).get("hex")
                    if isinstance(h, str):
                        found.update(bodies(bytes.fromhex(h.replace(" ", ""))))
    spec = open(os.path.join(root, "spec", "cord-v1.md")).read()
    for h in re.findall(r"^hex: ([0-9a-f ]+)$", spec, re.M):
        found.update(bodies(bytes.fromhex(h.replace(" ", ""))))
    os.makedirs(outdir, exist_ok=True)
    for b in found:
        with open(os.path.join(outdir, hashlib.sha1(b).hexdigest()), "wb") as fh:
            fh.write(b)
    print(f"{len(found)} seeds")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
