"""cord: Cord channels for Python: a child library (connect) and a parent (spawn), on both bindings.

    import cord
    with cord.connect() as ch:          # in a child started by a Cord parent
        for msg in ch:
            if msg.is_request:
                msg.reply(msg.payload)

    proc = cord.spawn(["./worker"])     # in a parent
    print(proc.request({"job": 1}).result().data)
    proc.stop()
"""

from .errors import CordError, QueueFull
from .payload import Json, Raw, Typed, to_payload
from .events import Cancel, Closed, Drain, Error, Exit, Failed, Message
from .channel import Options
from .child import AsyncChild, Child, NoChannel, Reply, aconnect, connect, find_channel
from . import errors

__all__ = [
    "CordError", "QueueFull", "Json", "Raw", "Typed", "to_payload",
    "Cancel", "Closed", "Drain", "Error", "Exit", "Failed", "Message",
    "Options", "AsyncChild", "Child", "NoChannel", "Reply", "aconnect", "connect",
    "find_channel", "errors", "spawn", "Proc",
]


def __getattr__(name):
    # The parent module is imported on first use, so that a child pays
    # nothing for it.
    if name in ("spawn", "Proc", "Request"):
        from . import parent
        return getattr(parent, name)
    raise AttributeError(name)
