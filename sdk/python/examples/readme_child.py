#!/usr/bin/python3
"""readme_child.py: the README's child: answers {"add": [...]} requests, counts one-way messages."""

import sys

import cord

ch = cord.connect()
seen = 0


@ch.handler
def add(msg):
    return {"sum": sum(msg.data["add"]), "seen": seen}


@ch.on_message
def note(msg):
    global seen
    seen += 1


sys.exit(ch.run())
