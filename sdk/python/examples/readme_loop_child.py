#!/usr/bin/python3
"""readme_loop_child.py: the README's child in the loop style: iterate over messages, reply, pass a descriptor back."""

import cord

with cord.connect() as ch:            # leaving the block says Goodbye and closes (spec END-8)
    for msg in ch:                    # ends when the parent's direction ends
        if msg.is_request:
            msg.reply(msg.payload, fds=msg.fds)   # echo, descriptors included
        msg.close_fds()               # ours to close: the reply passed duplicates
ch.exit()                             # exit 0, or 76 after a fatal protocol error
