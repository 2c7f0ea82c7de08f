// reading.go: the one reading of a frame body (spec FRAME-14, FRAME-15): the body's bytes walked against the schema's descriptors before the protobuf runtime decodes them.

package cord

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"cord.dev/go/internal/cordpb"
)

// frameDescriptor is cord.v1.Frame as the generated code describes it.
// The walk asks it, and the descriptors it leads to, for every field, so a
// field added to proto/cord.proto is checked with no edit here.
var frameDescriptor = (*cordpb.Frame)(nil).ProtoReflect().Descriptor()

// checkReading returns what in body breaks the one reading of spec
// FRAME-14 and FRAME-15, as a detail for the PROTOCOL (or NOT_CORD) error
// that follows, or "" when body has one reading.
//
// google.golang.org/protobuf keeps the last member of a oneof, truncates a
// uint32 past 32 bits and keeps a known field with the wrong wire type
// among the unknown fields; all three are refused here, before it runs.
// The walk allocates nothing unless it fails, and recurses only into
// message fields, so no deeper than the schema nests messages.
//
// Example:
//
//	checkReading([]byte{0x22, 0x02, 0x08, 0x07, 0x12, 0x00}) // "frame.body: message after ping"
func checkReading(body []byte) string {
	if bad := walkMessage(body, frameDescriptor); bad != "" {
		return "frame" + bad
	}
	return ""
}

// walkMessage checks the fields of one message of type md, whose encoding
// is b. A failure comes back as the rest of its detail after the path so
// far: ".status holds ..." or ": tag ...", so that a path is built only for
// a body that fails.
func walkMessage(b []byte, md protoreflect.MessageDescriptor) string {
	fields := md.Fields()
	var seen uint64 // a bit for each oneof (by index) that has had its member
	for i := 0; i < len(b); {
		tag, n := protowire.ConsumeVarint(b[i:])
		if n < 0 {
			return ": " + varintFault(n, "a tag")
		}
		i += n
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		switch {
		case tag > 0xFFFFFFFF:
			return fmt.Sprintf(": tag %d is past 32 bits", tag)
		case num == 0:
			return ": a tag names field 0"
		case typ == protowire.StartGroupType || typ == protowire.EndGroupType || typ > protowire.Fixed32Type:
			return fmt.Sprintf(": field %d has wire type %d", num, typ)
		}
		fd := fields.ByNumber(num)
		if fd != nil && typ != wireTypeOf(fd) && !(typ == protowire.BytesType && packable(fd)) {
			return fmt.Sprintf(".%s has wire type %d", fd.Name(), typ)
		}
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b[i:])
			if n < 0 {
				return ": " + varintFault(n, "a varint")
			}
			i += n
			if fd != nil {
				if bad := checkRange(fd, v); bad != "" {
					return bad
				}
			}
		case protowire.Fixed32Type, protowire.Fixed64Type, protowire.BytesType:
			n := protowire.ConsumeFieldValue(num, typ, b[i:])
			if n < 0 {
				return ": " + varintFault(n, "a field")
			}
			if fd != nil && typ == protowire.BytesType && (fd.Kind() == protoreflect.MessageKind || packable(fd)) {
				// The length is a varint: skip it to reach the field's bytes.
				_, ln := protowire.ConsumeVarint(b[i:])
				if packable(fd) {
					if bad := walkPacked(b[i+ln:i+n], fd); bad != "" {
						return bad
					}
				} else if bad := walkMessage(b[i+ln:i+n], fd.Message()); bad != "" {
					return "." + string(fd.Name()) + bad
				}
			}
			i += n
		}
		if fd == nil {
			continue
		}
		// FRAME-14: a member of a oneof, once, and no other member after it.
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && od.Index() < 64 {
			bit := uint64(1) << od.Index()
			if seen&bit != 0 {
				return fmt.Sprintf(".%s: %s after %s", od.Name(), fd.Name(), firstMember(b, od))
			}
			seen |= bit
		}
	}
	return ""
}

// checkRange refuses a varint that the field's type cannot hold (FRAME-14):
// past 32 bits for a uint32, outside int32 for an int32 or an enum (whose
// negative values come as 10-byte varints, sign-extended).
func checkRange(fd protoreflect.FieldDescriptor, v uint64) string {
	switch fd.Kind() {
	case protoreflect.Uint32Kind:
		if v > 0xFFFFFFFF {
			return fmt.Sprintf(".%s holds %d, past uint32", fd.Name(), v)
		}
	case protoreflect.Int32Kind, protoreflect.EnumKind:
		if v > 0x7FFFFFFF && v < 0xFFFFFFFF80000000 {
			return fmt.Sprintf(".%s holds %d, past int32", fd.Name(), v)
		}
	}
	return ""
}

// packable reports whether fd is a repeated field whose values may come
// packed, all in one length-delimited field: protobuf has a receiver take
// both that and one field per value, whichever the sender chose.
func packable(fd protoreflect.FieldDescriptor) bool {
	return fd.IsList() && wireTypeOf(fd) != protowire.BytesType && wireTypeOf(fd) != protowire.StartGroupType
}

// walkPacked checks the values of a packed repeated field: whole fixed
// values, and varints that are each within bounds and the field's range.
// A failure comes back as walkMessage's do, the field's name first.
func walkPacked(b []byte, fd protoreflect.FieldDescriptor) string {
	size := 0
	switch wireTypeOf(fd) {
	case protowire.Fixed32Type:
		size = 4
	case protowire.Fixed64Type:
		size = 8
	}
	if size != 0 {
		if len(b)%size != 0 {
			return fmt.Sprintf(".%s: %d bytes of packed %d-byte values", fd.Name(), len(b), size)
		}
		return ""
	}
	for i := 0; i < len(b); {
		v, n := protowire.ConsumeVarint(b[i:])
		if n < 0 {
			return "." + string(fd.Name()) + ": " + varintFault(n, "a varint")
		}
		i += n
		if bad := checkRange(fd, v); bad != "" {
			return bad
		}
	}
	return ""
}

// wireTypeOf is the wire type a field of fd's type is encoded with.
func wireTypeOf(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
		protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		return protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.BytesType // strings, bytes and messages
}

// firstMember names the member of od that came first in b, a message whose
// walk has just found a second one: the failure's detail says which two
// met. Only a failing body pays for this second look.
func firstMember(b []byte, od protoreflect.OneofDescriptor) string {
	for i := 0; i < len(b); {
		num, _, n := protowire.ConsumeField(b[i:])
		if n < 0 {
			break
		}
		if fd := od.Fields().ByNumber(num); fd != nil {
			return string(fd.Name())
		}
		i += n
	}
	return "another member"
}

// varintFault says why protowire refused what it was asked to read.
func varintFault(n int, what string) string {
	return what + ": " + protowire.ParseError(n).Error()
}
