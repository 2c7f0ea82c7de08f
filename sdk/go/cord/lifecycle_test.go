// lifecycle_test.go: Ping and Pong (section 9) and the end of a channel (section 10).

package cord

import (
	"errors"
	"io"
	"testing"

	"cord.dev/go/internal/cordpb"
)

// PING-2: Pings are answered in order; PING-3: an unknown Pong is ignored;
// Ping waits for its own Pong.
func TestPingPong(t *testing.T) {
	p, c := open(t, Config{})
	for _, n := range []uint64{7, 3} {
		p.send(&cordpb.Frame{Body: &cordpb.Frame_Ping{Ping: &cordpb.Ping{Nonce: n}}})
	}
	for _, n := range []uint64{7, 3} {
		if got := p.recv().GetPong(); got.GetNonce() != n {
			t.Fatalf("expected Pong %d, got %v", n, got)
		}
	}
	done := make(chan error, 1)
	go func() { done <- c.Ping(bg()) }()
	nonce := p.recv().GetPing().GetNonce()
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Pong{Pong: &cordpb.Pong{Nonce: nonce + 100}}})
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Pong{Pong: &cordpb.Pong{Nonce: nonce}}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// END-8: after the parent's Goodbye, Recv returns what came before it, then
// io.EOF; Close sends Goodbye and ends with the channel closed (END-1,
// END-5). Messages may still be sent after the parent's Goodbye (END-3).
func TestParentGoodbye(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte("last")}})
	p.goodbye()
	if m := recvMsg(t, c); string(m.Bytes()) != "last" {
		t.Fatalf("got %q", m.Bytes())
	}
	if _, err := c.Recv(bg()); err != io.EOF {
		t.Fatalf("Recv: %v, want io.EOF", err)
	}
	if err := c.Send(Raw([]byte("after"))); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil || ExitCode(err) != 0 {
		t.Fatalf("Close: %v", err)
	}
	if m := p.recv().GetMessage(); string(m.GetRaw()) != "after" {
		t.Fatalf("got %v", m)
	}
	if p.recv().GetGoodbye() == nil {
		t.Fatal("no Goodbye")
	}
	p.expectEOF()
	if err := c.Send(Raw(nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
}

// END-4: end of file without a Goodbye is a disconnect, not an error.
func TestEndOfFileIsADisconnect(t *testing.T) {
	p, c := open(t, Config{})
	p.conn.CloseWrite()
	if _, err := c.Recv(bg()); err != io.EOF {
		t.Fatalf("Recv: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if p.recv().GetGoodbye() == nil {
		t.Fatal("no Goodbye")
	}
	p.expectEOF()
}

// Close started by the child: Goodbye first, then it waits for the
// parent's end, still reading (END-1).
func TestChildGoodbye(t *testing.T) {
	p, c := open(t, Config{})
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	if p.recv().GetGoodbye() == nil {
		t.Fatal("no Goodbye")
	}
	p.expectEOF() // the child shut its writing direction
	select {
	case err := <-closed:
		t.Fatalf("Close returned before the parent's end: %v", err)
	default:
	}
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Goodbye{Goodbye: &cordpb.Goodbye{}}})
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// END-2: a frame after the parent's Goodbye is fatal.
func TestFrameAfterGoodbye(t *testing.T) {
	p, c := open(t, Config{})
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Goodbye{Goodbye: &cordpb.Goodbye{}}})
	p.message(&cordpb.Message{})
	if _, err := c.Recv(bg()); err != io.EOF {
		t.Fatalf("Recv: %v", err)
	}
	p.expectFatal(UnexpectedFrame)
	if err := c.Close(); !errors.Is(err, ErrUnexpectedFrame) || ExitCode(err) != ExitProtocol {
		t.Fatalf("Close: %v", err)
	}
}

// END-11: an Error frame with a fatal code ends the channel; ERR-2: other
// codes, known or not, do not.
func TestErrorFrames(t *testing.T) {
	var reported []error
	p, c := open(t, Config{OnError: func(err error) { reported = append(reported, err) }})
	for _, code := range []uint32{1999, 10042, 1010, 7, 2003} {
		p.send(&cordpb.Frame{Body: &cordpb.Frame_Error{Error: &cordpb.Error{Code: code, Detail: "\x1bnote"}}})
	}
	p.message(&cordpb.Message{})
	recvMsg(t, c)
	if len(reported) != 5 || !errors.Is(reported[2], ErrUnsupported) {
		t.Fatalf("reported %v", reported)
	}
	if e := reported[0].(*Error); !e.Remote || e.Detail != `\u001bnote` {
		t.Fatalf("reported %+v", e)
	}
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Error{Error: &cordpb.Error{Code: uint32(Timeout), Detail: "too slow"}}})
	_, err := c.Recv(bg())
	var e *Error
	if !errors.As(err, &e) || e.Code != Timeout || !e.Remote {
		t.Fatalf("Recv: %v", err)
	}
	p.expectEOF() // no Error frame answers the parent's
}

// END-6: a parent that has gone makes sends fail with CLOSED, never kill
// the child with SIGPIPE.
func TestWriteToAClosedParent(t *testing.T) {
	p, c := open(t, Config{})
	p.conn.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = c.Send(Raw(make([]byte, 4096)))
	}
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Send: %v", err)
	}
}
