// messages_test.go: user messages both ways, their payload kinds (MSG-1 to MSG-5) and the refusals of a sender (FRAME-2).

package cord

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"cord.dev/go/internal/cordpb"
)

func TestReceiveEveryPayloadKindInOrder(t *testing.T) {
	p, c := open(t, Config{})
	value, _ := proto.Marshal(wrapperspb.String("typed"))
	p.message(&cordpb.Message{Payload: &cordpb.Message_Typed{Typed: &cordpb.Typed{Type: "google.protobuf.StringValue", Value: value}}})
	p.message(&cordpb.Message{Payload: &cordpb.Message_Json{Json: `{"s":"a` + "\u2028" + `b"}`}})
	p.message(&cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte{0, 1, 2}}})
	p.message(&cordpb.Message{})

	var s wrapperspb.StringValue
	if m := recvMsg(t, c); m.IsRequest() || m.Unmarshal(&s) != nil || s.Value != "typed" {
		t.Fatalf("typed: %+v %v", m, s.Value)
	}
	var v struct{ S string }
	if m := recvMsg(t, c); m.DecodeJSON(&v) != nil || v.S != "a\u2028b" {
		t.Fatalf("json: %q", m.Text())
	}
	if m := recvMsg(t, c); m.Kind() != KindRaw || !bytes.Equal(m.Bytes(), []byte{0, 1, 2}) {
		t.Fatalf("raw: %v", m.Bytes())
	}
	if m := recvMsg(t, c); m.Kind() != KindNone {
		t.Fatalf("empty: %v", m.Kind())
	}
	// A typed payload decodes only into its own type.
	p.message(&cordpb.Message{Payload: &cordpb.Message_Typed{Typed: &cordpb.Typed{Type: "other.Type", Value: value}}})
	if err := recvMsg(t, c).Unmarshal(&s); err == nil {
		t.Fatal("a payload of another type decoded")
	}
}

func TestSendEveryPayloadKind(t *testing.T) {
	p, c := open(t, Config{})
	typed, err := Typed(wrapperspb.Int64(42))
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range []Payload{typed, JSON(`[1,"x"]`), Raw([]byte("raw")), {}} {
		if err := c.Send(pl); err != nil {
			t.Fatal(err)
		}
	}
	if m := p.recv().GetMessage(); m.GetTyped().GetType() != "google.protobuf.Int64Value" || m.Id != 0 {
		t.Errorf("typed: %v", m)
	}
	if m := p.recv().GetMessage(); m.GetJson() != `[1,"x"]` {
		t.Errorf("json: %v", m)
	}
	if m := p.recv().GetMessage(); string(m.GetRaw()) != "raw" {
		t.Errorf("raw: %v", m)
	}
	if m := p.recv().GetMessage(); m == nil || m.Payload != nil {
		t.Errorf("empty: %v", m)
	}
}

// Text that is not JSON never goes out (MSG-3); a frame over the parent's
// max_frame is refused whole (FRAME-2); SendAll sends all or nothing.
func TestSenderRefusals(t *testing.T) {
	p, c := open(t, Config{})
	if err := c.Send(JSON(`{"a":`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad JSON: %v", err)
	}
	if err := c.Send(TypedBytes(".lead.Dot", nil)); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad type name: %v", err)
	}
	big := Raw(make([]byte, 1<<20))
	if err := c.Send(big); !errors.Is(err, ErrTooBig) {
		t.Errorf("big: %v", err)
	}
	if err := c.SendAll(Raw([]byte("a")), big); !errors.Is(err, ErrTooBig) {
		t.Errorf("SendAll: %v", err)
	}
	// The refusals sent nothing: the next frame the parent sees is this one.
	if err := c.SendAll(Raw([]byte("1")), Raw([]byte("2"))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1", "2"} {
		if m := p.recv().GetMessage(); string(m.GetRaw()) != want {
			t.Fatalf("got %v, want raw %q", m, want)
		}
	}
}

// MSG-5: a message with both ids, or a status without reply_to, is fatal.
func TestMalformedMessagesAreFatal(t *testing.T) {
	for _, m := range []*cordpb.Message{{Id: 5, ReplyTo: 5}, {Status: 3}} {
		p, c := open(t, Config{})
		p.message(m)
		p.expectFatal(Protocol)
		if _, err := c.Recv(bg()); !errors.Is(err, ErrProtocol) {
			t.Fatalf("Recv: %v", err)
		}
		if err := c.Close(); ExitCode(err) != ExitProtocol {
			t.Fatalf("Close: %v", err)
		}
	}
}

// FRAME-8: frames with no known member are skipped; FRAME-9: unknown
// fields are ignored.
func TestUnknownMembersAndFields(t *testing.T) {
	p, c := open(t, Config{})
	p.write([]byte{0, 0, 0, 0})               // an empty body
	p.write([]byte{0, 0, 0, 3, 0x7a, 1, 'x'}) // member 15, unknown
	// A Message with an unknown field 99 (varint 7) beside raw "ok".
	body := append(encode(t, &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte("ok")}}}})[4:])
	inner := append(append([]byte{}, body[2:]...), 0x98, 0x06, 7)
	frame := append([]byte{0x12, byte(len(inner))}, inner...)
	p.write(append([]byte{0, 0, 0, byte(len(frame))}, frame...))
	if m := recvMsg(t, c); string(m.Bytes()) != "ok" {
		t.Fatalf("got %q", m.Bytes())
	}
}
