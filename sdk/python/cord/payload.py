"""payload.py: the three payload kinds of a Cord message (spec MSG-3) and how Python values map to them."""

import json as _json
from typing import NamedTuple

from .errors import CordError, PROTOCOL


class Raw(NamedTuple):
    """Opaque bytes."""
    data: bytes


class Json(NamedTuple):
    """One JSON text, kept as the text that was sent or received, so that
    an echo sends back exactly the same bytes."""
    text: str

    def load(self):
        """The text parsed with `json.loads`."""
        return _json.loads(self.text)


class Typed(NamedTuple):
    """A protobuf message of the application's schema: its fully qualified
    name (no leading dot) and its encoding."""
    type: str
    value: bytes

    def decode(self, cls):
        """Parse `value` into a new instance of the generated class CLS,
        after checking that `type` is CLS's full name (CordError PROTOCOL
        otherwise)."""
        if cls.DESCRIPTOR.full_name != self.type:
            raise CordError(PROTOCOL, "payload is %s, not %s" % (self.type[:80], cls.DESCRIPTOR.full_name))
        return cls.FromString(self.value)


def to_payload(value):
    """Turn an application value into a payload (or None for no payload).

    Raw, Json, Typed and None pass through; bytes-like values become Raw;
    a protobuf message becomes Typed with its full name and encoding; any
    other value (dict, list, str, number, bool) becomes Json, encoded by
    `json.dumps` with compact separators (so a str is sent as a JSON string,
    never as raw bytes).

    Example: to_payload({"seq": 1}) == Json('{"seq":1}')
    """
    if value is None or isinstance(value, (Raw, Json, Typed)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Raw(bytes(value))
    descriptor = getattr(value, "DESCRIPTOR", None)
    if descriptor is not None and hasattr(value, "SerializeToString"):
        return Typed(descriptor.full_name, value.SerializeToString())
    return Json(_json.dumps(value, separators=(",", ":"), ensure_ascii=False))
