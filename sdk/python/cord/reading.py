"""reading.py: the one reading of a frame body (spec FRAME-14, FRAME-15): its bytes walked against the schema's descriptors before python3-protobuf parses them.

python3-protobuf keeps the last member of a oneof, truncates a uint32
varint past 32 bits, and keeps a known field that comes with the wrong wire
type among the message's unknown fields. The spec fixes one reading that
refuses all three, so the channel asks `check()` first and parses only a
body that has it. The walk is driven by `DESCRIPTOR.fields_by_number`, so a
field added to proto/cord.proto is covered with no edit here.
"""

from google.protobuf.descriptor import FieldDescriptor as _F

from . import cord_pb2 as pb

# The wire type each field type is encoded with (the protobuf encoding's
# own rule; the schema says which type each field has).
_WIRE_TYPE = {
    _F.TYPE_DOUBLE: 1, _F.TYPE_FLOAT: 5, _F.TYPE_INT64: 0, _F.TYPE_UINT64: 0, _F.TYPE_INT32: 0,
    _F.TYPE_FIXED64: 1, _F.TYPE_FIXED32: 5, _F.TYPE_BOOL: 0, _F.TYPE_STRING: 2, _F.TYPE_GROUP: 3,
    _F.TYPE_MESSAGE: 2, _F.TYPE_BYTES: 2, _F.TYPE_UINT32: 0, _F.TYPE_ENUM: 0, _F.TYPE_SFIXED32: 5,
    _F.TYPE_SFIXED64: 1, _F.TYPE_SINT32: 0, _F.TYPE_SINT64: 0,
}


def check(body):
    """What in BODY (bytes) breaks the one reading of spec FRAME-14 and
    FRAME-15, as a detail for the PROTOCOL (or NOT_CORD) failure that
    follows; None when BODY has one reading.

    The walk reads BODY in place, by offsets: it copies nothing, and it
    recurses only into message fields, so no deeper than the schema nests
    messages.

    Example:
        check(bytes.fromhex("220208071200"))   # 'frame.body: message after ping'
    """
    bad = _walk(body, 0, len(body), pb.Frame.DESCRIPTOR)
    return None if bad is None else "frame" + bad


def _varint(b, i, end):
    """The varint at B[I:], and the offset after it. At most 10 bytes, and
    the tenth at most 1: a value of 64 bits (FRAME-14)."""
    v = 0
    shift = 0
    while True:
        if i >= end:
            raise ValueError("a varint runs past the end")
        c = b[i]
        i += 1
        if shift == 63 and c > 1:
            raise ValueError("a varint is longer than 10 bytes or past 64 bits")
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def _range(fd, v):
    """Refuses a varint V that FD's type cannot hold (FRAME-14): a uint32
    past 32 bits, an int32 or enum outside int32 (whose negative values
    come as 10-byte varints, sign-extended); None when it fits."""
    if fd.type == _F.TYPE_UINT32 and v > 0xFFFFFFFF:
        return ".%s holds %d, past uint32" % (fd.name, v)
    if fd.type in (_F.TYPE_INT32, _F.TYPE_ENUM) and 0x7FFFFFFF < v < 0xFFFFFFFF80000000:
        return ".%s holds %d, past int32" % (fd.name, v)
    return None


def _packable(fd):
    """True for a repeated field whose values may come packed, all in one
    length-delimited field: protobuf has a receiver take both that and
    one field per value, whichever the sender chose."""
    return fd.label == _F.LABEL_REPEATED and _WIRE_TYPE[fd.type] in (0, 1, 5)


def _packed(b, i, end, fd):
    """Check the values of a packed repeated field in B[I:END]: whole fixed
    values, and varints each within bounds and FD's range."""
    wt = _WIRE_TYPE[fd.type]
    if wt != 0:
        size = 8 if wt == 1 else 4
        if (end - i) % size:
            return ".%s: %d bytes of packed %d-byte values" % (fd.name, end - i, size)
        return None
    try:
        while i < end:
            v, i = _varint(b, i, end)
            bad = _range(fd, v)
            if bad is not None:
                return bad
    except ValueError as e:
        return ".%s: %s" % (fd.name, e)
    return None


def _one_member(fd):
    """The oneof FD is a member of, when it is a real one: proto3's
    `optional` makes a oneof of one field, named for it, that FRAME-14 does
    not concern."""
    o = fd.containing_oneof
    if o is None or (len(o.fields) == 1 and o.name == "_" + fd.name):
        return None
    return o


def _walk(b, i, end, desc):
    """Check the message of type DESC encoded in B[I:END]. A failure comes
    back as the rest of its detail after the path so far (".status holds
    ..." or ": tag ..."), so that a path is built only for a body that
    fails."""
    fields = desc.fields_by_number
    seen = None                     # oneof name -> its member's name, once one came
    try:
        while i < end:
            # Tags and values of one byte are the common case: read inline.
            tag = b[i]
            if tag < 0x80:
                i += 1
            else:
                tag, i = _varint(b, i, end)
            num = tag >> 3
            wt = tag & 7
            if tag > 0xFFFFFFFF:
                return ": tag %d is past 32 bits" % tag
            if num == 0:
                return ": a tag names field 0"
            if wt in (3, 4, 6, 7):
                return ": field %d has wire type %d" % (num, wt)
            fd = fields.get(num)
            if fd is not None and _WIRE_TYPE[fd.type] != wt and not (wt == 2 and _packable(fd)):
                return ".%s has wire type %d" % (fd.name, wt)
            if wt == 0:
                if i < end and b[i] < 0x80:
                    v = b[i]
                    i += 1
                else:
                    v, i = _varint(b, i, end)
                if fd is not None:
                    bad = _range(fd, v)
                    if bad is not None:
                        return bad
            elif wt == 2:
                size, i = _varint(b, i, end)
                if size > end - i:
                    raise ValueError("a length runs past the end")
                if fd is not None and fd.type == _F.TYPE_MESSAGE:
                    bad = _walk(b, i, i + size, fd.message_type)
                    if bad is not None:
                        return "." + fd.name + bad
                elif fd is not None and _packable(fd):
                    bad = _packed(b, i, i + size, fd)
                    if bad is not None:
                        return bad
                i += size
            else:
                i += 8 if wt == 1 else 4
                if i > end:
                    raise ValueError("a fixed field runs past the end")
            oneof = _one_member(fd) if fd is not None else None
            if oneof is not None:
                if seen is None:
                    seen = {}
                first = seen.get(oneof.name)
                if first is not None:
                    return ".%s: %s after %s" % (oneof.name, fd.name, first)
                seen[oneof.name] = fd.name
    except ValueError as e:   # a varint past its bounds, or a field past the end
        return ": %s" % e
    return None
