#!/usr/bin/python3
"""worker.py: an example Cord child in Python: typed, JSON and descriptor-passing requests, served by handlers."""

import os
import sys

import cord
from google.protobuf.wrappers_pb2 import StringValue

ch = cord.connect()


@ch.handler(type="google.protobuf.StringValue")
def shout(msg):
    """A typed request: the text, upper-cased, as a typed reply."""
    text = msg.payload.decode(StringValue).value
    return StringValue(value=text.upper())


@ch.handler
def job(msg):
    """A JSON request: {"add": [numbers]} or {"write": text} with a descriptor."""
    work = msg.data
    if isinstance(work, dict) and "add" in work:
        return {"sum": sum(work["add"])}
    if isinstance(work, dict) and "write" in work and len(msg.fds) == 1:
        with os.fdopen(msg.fds.pop(), "w") as out:
            out.write(work["write"])
        return {"written": len(work["write"])}
    msg.close_fds()
    raise cord.CordError(10001, "unknown job")


sys.exit(ch.run())
