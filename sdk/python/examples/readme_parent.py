#!/usr/bin/python3
"""readme_parent.py: the README's parent: forks a child, sends, asks, and stops it."""

import sys

import cord

with cord.spawn([sys.executable, sys.argv[1]]) as proc:
    proc.send({"hello": "child"})                         # one-way
    reply = proc.request({"add": [1, 2, 39]}).result(timeout=30)
    print(reply.data)                                     # {'sum': 42, 'seen': 1}
print(proc.exit)                                          # exit 0
