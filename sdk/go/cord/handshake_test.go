// handshake_test.go: the Hellos (spec section 4) and the failures of a handshake.

package cord

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"cord.dev/go/internal/cordpb"
)

func helloFrame(h *cordpb.Hello) *cordpb.Frame {
	return &cordpb.Frame{Body: &cordpb.Frame_Hello{Hello: h}}
}

// Our Hello says what HELLO-2 asks, and the parent's is kept as Peer.
func TestHelloFields(t *testing.T) {
	p, child := pair(t, envCord)
	_ = child
	p.send(helloFrame(parentHello()))
	c, err := Config{MaxFrame: 4096, MaxFDs: 3}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer shut(p, c)
	raw := p.recvRaw()
	if len(raw) > helloLimit {
		t.Errorf("Hello of %d bytes breaks FRAME-4", len(raw))
	}
	h := decodeFrame(t, raw).GetHello()
	if h.Magic != magic || h.MinVersion != 1 || h.MaxVersion != 1 || h.MaxFrame != 4096 || h.MaxFds != 3 ||
		h.Capabilities != 1 || h.Pid != uint32(os.Getpid()) || h.ImplName != "cord-go" {
		t.Errorf("Hello %v", h)
	}
	if peer := c.Peer(); peer.Version != 1 || peer.MaxFrame != 1<<20 || peer.MaxFDs != 8 || peer.ImplName != "test-parent" {
		t.Errorf("Peer %+v", peer)
	}
}

// handshakeFails opens after the parent wrote first, and checks the error
// Open returns and the Error frame the parent gets before end of file.
func handshakeFails(t *testing.T, first []byte, code Code, detail string) {
	t.Helper()
	p, _ := pair(t, envCord)
	p.write(first)
	c, err := Open()
	if err == nil {
		c.Close()
		t.Fatal("Open succeeded")
	}
	if !errors.Is(err, &Error{Code: code}) || !strings.Contains(err.Error(), detail) {
		t.Fatalf("Open: %v, want %v with %q", err, code, detail)
	}
	if ExitCode(err) != ExitProtocol {
		t.Errorf("ExitCode %d, want 76", ExitCode(err))
	}
	if p.recv().GetHello() == nil {
		t.Fatal("no Hello first")
	}
	raw := p.recvRaw()
	if len(raw) > helloLimit {
		t.Errorf("Error frame of %d bytes before the handshake breaks FRAME-4", len(raw))
	}
	e := decodeFrame(t, raw).GetError()
	if e == nil || Code(e.Code) != code || !strings.Contains(e.Detail, detail) {
		t.Fatalf("Error frame %v, want %v with %q", e, code, detail)
	}
	p.expectEOF()
}

// The preview of HELLO-7 is the spec's own example.
func TestNotCordPreview(t *testing.T) {
	spec, err := os.ReadFile("../../../spec/cord-v1.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^```preview\nbytes: (.*)\nshown: (.*)\n```").FindSubmatch(spec)
	if m == nil {
		t.Fatal("no preview block in the spec")
	}
	bytes := parseHex(t, string(m[1]))
	if got := preview(bytes); got != string(m[2]) {
		t.Fatalf("preview %q, spec shows %q", got, m[2])
	}
	handshakeFails(t, bytes, NotCord, string(m[2]))
}

func TestWrongMagic(t *testing.T) {
	h := parentHello()
	h.Magic = 0x11111111
	handshakeFails(t, encode(t, helloFrame(h)), NotCord, "0a ")
}

func TestVersionMismatchNamesBothRanges(t *testing.T) {
	h := parentHello()
	h.MinVersion, h.MaxVersion = 2, 3
	handshakeFails(t, encode(t, helloFrame(h)), VersionMismatch, "no common version: we speak 1..1, peer speaks 2..3")
}

func TestInvertedRange(t *testing.T) {
	h := parentHello()
	h.MinVersion, h.MaxVersion = 3, 1
	handshakeFails(t, encode(t, helloFrame(h)), Protocol, "3..1")
}

func TestMaxFrameOutOfRange(t *testing.T) {
	h := parentHello()
	h.MaxFrame = 255
	handshakeFails(t, encode(t, helloFrame(h)), Protocol, "max_frame 255")
}

func TestMessageBeforeHello(t *testing.T) {
	f := &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Id: 7}}}
	handshakeFails(t, encode(t, f), UnexpectedFrame, "HELLO-6")
}

func TestEmptyFrameBeforeHello(t *testing.T) {
	handshakeFails(t, []byte{0, 0, 0, 0}, UnexpectedFrame, "HELLO-6")
}

func TestFirstPrefixOver256IsNotCord(t *testing.T) {
	handshakeFails(t, []byte{0, 0, 1, 1, 'x'}, NotCord, "00 00 01 01 78 |....x|")
}

// A parent that closes before its Hello ends the channel without a
// protocol error.
func TestEndOfFileBeforeHello(t *testing.T) {
	p, _ := pair(t, envCord)
	p.conn.CloseWrite()
	_, err := Open()
	if !errors.Is(err, ErrClosed) || ExitCode(err) != ExitOK {
		t.Fatalf("Open: %v (exit %d), want CLOSED and 0", err, ExitCode(err))
	}
}

// A second Hello is fatal (HELLO-10).
func TestSecondHello(t *testing.T) {
	p, c := open(t, Config{})
	p.send(helloFrame(parentHello()))
	p.expectFatal(UnexpectedFrame)
	if _, err := c.Recv(bg()); !errors.Is(err, ErrUnexpectedFrame) {
		t.Fatalf("Recv: %v", err)
	}
}

// Capability bits this side does not know are ignored (HELLO-11), and the
// peer's texts are escaped (SEC-7).
func TestUnknownCapabilitiesAndHostileNames(t *testing.T) {
	p, _ := pair(t, envCord)
	h := parentHello()
	h.Capabilities = 1<<40 - 2
	h.ImplName = "\x01\x1b[31mred\x7f"
	p.send(helloFrame(h))
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer shut(p, c)
	if got := c.Peer().ImplName; got != `\u0001\u001b[31mred\u007f` {
		t.Fatalf("ImplName %q", got)
	}
}
