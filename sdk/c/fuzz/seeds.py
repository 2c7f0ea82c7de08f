#!/usr/bin/env python3
"""seeds.py: makes the parent fuzzer's seeds from what children write in the conformance transcripts and in the spec's examples.

usage: seeds.py ROOT OUTDIR   (ROOT: the repository; one file per seed in OUTDIR)
Each seed is a mode byte (fuzz_parent.c: bit 0 a Node.js binding, bit 1 one
byte at a time, bit 2 requests on Cord, advanced on Node.js's) and then the
bytes a child sent.
"""
import hashlib
import json
import os
import re
import sys


def child_bytes(case):
    """The bytes the runner, playing the child, sends in a parent-role case."""
    out = b""
    for step in case.get("steps", []):
        send = step.get("send")
        if not send:
            continue
        if "hex" in send:
            out += bytes.fromhex(send["hex"].replace(" ", ""))
        elif "json" in send:
            out += json.dumps(send["json"], separators=(",", ":")).encode() + b"\n"
    return out


def main(root, outdir):
    seeds = []
    for dirpath, _, files in os.walk(os.path.join(root, "conformance", "cases", "parent")):
        for f in sorted(files):
            case = json.load(open(os.path.join(dirpath, f)))
            data = child_bytes(case)
            if data:
                json_binding = case.get("binding") == "node-json"
                seeds.append(bytes([1 if json_binding else 4]) + data)
    spec = open(os.path.join(root, "spec", "cord-v1.md")).read()
    frames = [bytes.fromhex(h.replace(" ", "")) for h in re.findall(r"^hex: ([0-9a-f ]+)$", spec, re.M)]
    hello_child = next((f for f in frames if b"cord-child" in f), None)
    if hello_child:
        for f in frames:
            if f is not hello_child:
                seeds.append(b"\x04" + hello_child + f)
    # The advanced binding: the spec's frames, one after the other, and
    # each V8 value of the codec's corpus in a frame.
    adv = re.findall(r"```node-frame\n(?:.*\n)*?hex: ([0-9a-f ]+)\n", spec)
    if adv:
        seeds.append(b"\x05" + b"".join(bytes.fromhex(h.replace(" ", "")) for h in adv))
    v8dir = os.path.join(root, "sdk", "c", "fuzz", "corpus", "v8")
    for f in sorted(os.listdir(v8dir)) if os.path.isdir(v8dir) else []:
        v = open(os.path.join(v8dir, f), "rb").read()
        seeds.append(b"\x05" + len(v).to_bytes(4, "big") + v)
    os.makedirs(outdir, exist_ok=True)
    for s in seeds:
        with open(os.path.join(outdir, hashlib.sha1(s).hexdigest()), "wb") as fh:
            fh.write(s)
    print(f"{len(seeds)} seeds")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
