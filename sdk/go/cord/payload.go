// payload.go: the three payload kinds of a Cord message (spec MSG-3) and their constructors.

package cord

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Kind says which payload a message carries.
type Kind uint8

const (
	KindNone  Kind = iota // no payload: a valid, empty message
	KindTyped             // a protobuf message of the application's schema
	KindJSON              // one JSON text in UTF-8 (the Node.js data model)
	KindRaw               // opaque bytes
)

// String returns "none", "typed", "json" or "raw".
func (k Kind) String() string {
	switch k {
	case KindTyped:
		return "typed"
	case KindJSON:
		return "json"
	case KindRaw:
		return "raw"
	}
	return "none"
}

// Payload is what a message carries. The zero Payload is no payload at
// all. A Payload is a value: the constructors keep the slices they are
// given (they do not copy), so the caller must not change them until the
// send that uses the Payload has returned.
type Payload struct {
	kind     Kind
	typeName string // KindTyped: the message's fully qualified name
	data     []byte // the JSON text, the raw bytes or the typed value
}

// JSON returns a payload holding one JSON text, such as `{"seq":1}`.
// Whether it is JSON is checked when it is sent (spec MSG-3, NODE-4).
func JSON(text string) Payload { return Payload{kind: KindJSON, data: []byte(text)} }

// MarshalJSON returns a payload holding v encoded with encoding/json.
func MarshalJSON(v any) (Payload, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Payload{}, err
	}
	return Payload{kind: KindJSON, data: b}, nil
}

// Raw returns a payload of opaque bytes. The slice is not copied.
func Raw(b []byte) Payload { return Payload{kind: KindRaw, data: b} }

// Typed returns a payload holding m, encoded, under m's fully qualified
// protobuf name (spec MSG-3). It fails only when m cannot be encoded.
func Typed(m proto.Message) (Payload, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return Payload{}, err
	}
	return TypedBytes(string(m.ProtoReflect().Descriptor().FullName()), b), nil
}

// TypedBytes returns a typed payload from a type name (without a leading
// dot, e.g. "example.v1.Job") and an already encoded value.
func TypedBytes(typeName string, value []byte) Payload {
	return Payload{kind: KindTyped, typeName: typeName, data: value}
}

// Kind returns which payload this is.
func (p Payload) Kind() Kind { return p.kind }

// TypeName returns a typed payload's message name, "" for other kinds.
func (p Payload) TypeName() string { return p.typeName }

// Bytes returns the payload's bytes: the raw bytes, the JSON text or the
// typed value. The slice belongs to the payload; do not change it.
func (p Payload) Bytes() []byte { return p.data }

// Text returns a JSON payload's text ("" for other kinds).
func (p Payload) Text() string {
	if p.kind != KindJSON {
		return ""
	}
	return string(p.data)
}

// Unmarshal decodes a typed payload into m. It fails when the payload is
// not typed, or is typed with another message name than m's.
func (p Payload) Unmarshal(m proto.Message) error {
	want := string(m.ProtoReflect().Descriptor().FullName())
	if p.kind != KindTyped || p.typeName != want {
		return fmt.Errorf("cord: payload is %s, not typed %s", p.describe(), want)
	}
	return proto.Unmarshal(p.data, m)
}

// DecodeJSON decodes a JSON payload into v with encoding/json.
func (p Payload) DecodeJSON(v any) error {
	if p.kind != KindJSON {
		return fmt.Errorf("cord: payload is %s, not json", p.describe())
	}
	return json.Unmarshal(p.data, v)
}

// describe names the payload for an error message.
func (p Payload) describe() string {
	if p.kind == KindTyped {
		return "typed " + peerText(p.typeName, 128)
	}
	return p.kind.String()
}
