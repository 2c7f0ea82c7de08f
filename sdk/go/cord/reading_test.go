// reading_test.go: the one reading of a frame body (spec FRAME-14, FRAME-15): each body it refuses, with its detail and its code, and the bodies with unknown fields it still accepts (FRAME-8, FRAME-9).

package cord

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"cord.dev/go/internal/cordpb"
)

// refusedBodies are bodies with no one reading: a name, the body's hex and
// what the detail must say. There is one for each bullet of FRAME-14 (and
// each case of the bullet), and the wrong wire types of FRAME-15 in Frame,
// Message and Hello.
var refusedBodies = []struct{ name, hex, detail string }{
	{"two body members", "22 02 08 07 12 00", "frame.body: message after ping"},
	{"same body member twice", "12 02 08 36 12 02 10 01", "frame.body: message after message"},
	{"two payloads", "12 06 3a 01 61 32 01 31", "frame.message.payload: json after raw"},
	{"same payload twice", "12 06 3a 01 61 3a 01 62", "frame.message.payload: raw after raw"},
	{"tag past 32 bits", "80 80 80 80 10 00", "frame: tag 4294967296 is past 32 bits"},
	{"tag naming field 0", "00 00", "frame: a tag names field 0"},
	{"varint of 11 bytes", "78 ff ff ff ff ff ff ff ff ff ff 01", "frame: a varint"},
	{"varint past 64 bits", "78 ff ff ff ff ff ff ff ff ff 02", "frame: a varint"},
	{"varint past 64 bits in a message", "12 0b 78 ff ff ff ff ff ff ff ff ff 02", "frame.message: a varint"},
	{"uint32 past 32 bits", "12 06 18 80 80 80 80 10", "frame.message.status holds 4294967296, past uint32"},
	{"uint32 past 32 bits in Hello", "0a 06 20 80 80 80 80 10", "frame.hello.max_frame holds 4294967296, past uint32"},
	{"enum past int32", "32 06 08 80 80 80 80 08", "frame.goodbye.reason holds 2147483648, past int32"},
	{"unknown group start", "7b", "frame: field 15 has wire type 3"},
	{"unknown group end", "7c", "frame: field 15 has wire type 4"},
	{"wire type 6", "7e 00", "frame: field 15 has wire type 6"},
	{"wire type 7", "7f 00", "frame: field 15 has wire type 7"},
	{"known field as a group", "12 01 0b", "frame.message: field 1 has wire type 3"},
	{"known member as a varint", "10 01", "frame.message has wire type 0"},
	{"known field of Message, wrong wire type", "12 02 30 01", "frame.message.json has wire type 0"},
	{"known field of Hello, wrong wire type", "0a 02 08 01", "frame.hello.magic has wire type 0"},
	{"known field of Typed, wrong wire type", "12 04 2a 02 08 01", "frame.message.typed.type has wire type 0"},
}

// acceptedBodies have one reading: unknown fields of every wire type the
// schema could use, in Frame and in a message, are skipped (FRAME-9), a
// negative enum comes as a sign-extended 10-byte varint, and a field that
// is no oneof member keeps its last value.
var acceptedBodies = []struct{ name, hex string }{
	{"unknown fields of each wire type in Message", "12 18 08 05 78 01 81 01 01 02 03 04 05 06 07 08 8a 01 01 61 95 01 01 02 03 04"},
	{"unknown member of Frame", "7a 00"},
	{"unknown fixed32 member of Frame", "7d 01 02 03 04"},
	{"negative enum", "32 0b 08 ff ff ff ff ff ff ff ff ff 01"},
	{"a plain field twice", "12 04 08 01 08 02"},
	{"uint32 at its top", "12 06 18 ff ff ff ff 0f"},
	{"empty body", ""},
}

func TestReadingRefuses(t *testing.T) {
	for _, c := range refusedBodies {
		got := checkReading(parseHex(t, c.hex))
		if got == "" || !strings.HasPrefix(got, c.detail) {
			t.Errorf("%s: detail %q, want %q", c.name, got, c.detail)
		}
	}
}

func TestReadingAccepts(t *testing.T) {
	for _, c := range acceptedBodies {
		body := parseHex(t, c.hex)
		if got := checkReading(body); got != "" {
			t.Errorf("%s: refused: %s", c.name, got)
		}
		var f cordpb.Frame
		if err := unmarshal(body, &f); err != nil {
			t.Errorf("%s: unmarshal: %v", c.name, err)
		}
	}
}

// After the handshake a refused body is fatal PROTOCOL, with the walk's
// detail in the Error frame (FRAME-6).
func TestReadingRefusalIsProtocol(t *testing.T) {
	for _, c := range refusedBodies {
		p, ch := open(t, Config{})
		body := parseHex(t, c.hex)
		p.write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
		e := p.recv().GetError()
		if e == nil || Code(e.Code) != Protocol || !strings.Contains(e.Detail, c.detail) {
			t.Fatalf("%s: Error frame %v, want PROTOCOL with %q", c.name, e, c.detail)
		}
		p.expectEOF()
		if _, err := ch.Recv(bg()); !errors.Is(err, ErrProtocol) {
			t.Fatalf("%s: Recv: %v", c.name, err)
		}
	}
}

// In the first frame a refused body is NOT_CORD (HELLO-7), as any body
// that is not a Frame is there.
func TestReadingRefusalInFirstFrameIsNotCord(t *testing.T) {
	for _, hex := range []string{"0a 02 08 01", "0a 06 20 80 80 80 80 10", "0a 00 0a 00"} {
		body := parseHex(t, hex)
		handshakeFails(t, append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...), NotCord, hex)
	}
}

// A body with unknown fields still reaches the application after the
// walk (FRAME-9).
func TestReadingDeliversUnknownFields(t *testing.T) {
	p, ch := open(t, Config{})
	m, _ := proto.Marshal(&cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte("kept")}})
	m = append(m, parseHex(t, "78 01 81 01 01 02 03 04 05 06 07 08 8a 01 01 61 95 01 01 02 03 04")...)
	body := append([]byte{0x12, byte(len(m))}, m...)
	p.write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	if got := recvMsg(t, ch); string(got.Bytes()) != "kept" {
		t.Fatalf("got %q", got.Bytes())
	}
}

// A repeated field's values come packed or one field each, as the sender
// chose (protobuf's rule); packed ones are checked value by value. The
// schema has no repeated field yet, so the walk is shown one of
// descriptor.proto's: SourceCodeInfo.Location.path, a packed int32.
func TestReadingPackedRepeated(t *testing.T) {
	md := (*descriptorpb.SourceCodeInfo_Location)(nil).ProtoReflect().Descriptor()
	for _, hex := range []string{"0a 02 01 02", "08 01 08 02", "0a 0b 01 ff ff ff ff ff ff ff ff ff 01"} {
		if bad := walkMessage(parseHex(t, hex), md); bad != "" {
			t.Errorf("%s refused: %s", hex, bad)
		}
	}
	for hex, want := range map[string]string{
		"0a 05 80 80 80 80 08":                   ".path holds 2147483648, past int32",
		"0a 0b 01 ff ff ff ff ff ff ff ff ff 02": ".path: a varint",
		"0a 02 01 80":                            ".path: a varint",
		"0d 01 02 03 04":                         ".path has wire type 5",
	} {
		if bad := walkMessage(parseHex(t, hex), md); !strings.HasPrefix(bad, want) {
			t.Errorf("%s: %q, want %q", hex, bad, want)
		}
	}
}

// The walk allocates nothing for a body it accepts, however many fields.
func TestReadingAllocatesNothing(t *testing.T) {
	body := parseHex(t, acceptedBodies[0].hex)
	for i := 0; i < 100; i++ {
		body = append(body, parseHex(t, "7a 02 08 01")...)
	}
	if n := testing.AllocsPerRun(100, func() { checkReading(body) }); n != 0 {
		t.Fatalf("%v allocations per walk", n)
	}
}

// benchBody is a typical request body, for the benchmarks.
func benchBody(b *testing.B) []byte {
	body, err := proto.Marshal(&cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{
		Id: 42, Payload: &cordpb.Message_Typed{Typed: &cordpb.Typed{Type: "example.v1.Job", Value: make([]byte, 64)}}}}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	return body
}

// BenchmarkCheckReading measures the walk alone, and BenchmarkDecode the
// walk and the runtime's decoding together, as a frame is read:
// `go test -bench . -benchmem` prints time and allocations of each.
func BenchmarkCheckReading(b *testing.B) {
	body := benchBody(b)
	for i := 0; i < b.N; i++ {
		if bad := checkReading(body); bad != "" {
			b.Fatal(bad)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := benchBody(b)
	for i := 0; i < b.N; i++ {
		var f cordpb.Frame
		if err := unmarshal(body, &f); err != nil {
			b.Fatal(err)
		}
	}
}
