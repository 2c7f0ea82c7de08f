// codes_past_ranges_test.go: codes above 2147483647 (spec ERR-5): in an Error frame or a reply's status they are unknown, non-fatal codes, and this side never sends one.

package cord

import (
	"errors"
	"strings"
	"testing"

	"cord.dev/go/internal/cordpb"
)

// An Error frame with a code past every range is reported and changes
// nothing; the channel still answers.
func TestErrorCodePastEveryRangeIsNotFatal(t *testing.T) {
	// OnError runs on the channel's reading goroutine.
	reported := make(chan error, 8)
	cfg := Config{OnError: func(err error) { reported <- err }}
	p, c := open(t, cfg)
	for _, code := range []uint32{4294967295, 2147483648} {
		p.send(&cordpb.Frame{Body: &cordpb.Frame_Error{Error: &cordpb.Error{Code: code, Detail: "past"}}})
	}
	p.message(&cordpb.Message{Id: 7, Payload: &cordpb.Message_Raw{Raw: []byte("alive?")}})
	m := recvMsg(t, c)
	if err := m.Reply(m.Payload); err != nil {
		t.Fatalf("Reply: %v", err)
	}
	if r := p.recv().GetMessage(); r == nil || r.ReplyTo != 7 {
		t.Fatalf("no reply: %v", r)
	}
	// Both Error frames came before the message, on the same goroutine.
	for _, want := range []string{"code 4294967295, past every range", "code 2147483648, past every range"} {
		select {
		case err := <-reported:
			if !strings.Contains(err.Error(), want) || ExitCode(err) != ExitOK {
				t.Errorf("reported %v, want a non-fatal %q", err, want)
			}
		default:
			t.Fatalf("%q was not reported", want)
		}
	}
}

// A reply whose status is past every range fails the request with that
// code, not fatally, and the code cannot be passed on (ERR-2, ERR-5).
func TestStatusPastEveryRange(t *testing.T) {
	p, c := open(t, Config{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(bg(), Raw([]byte("q")))
		done <- err
	}()
	req := p.recv().GetMessage()
	p.message(&cordpb.Message{ReplyTo: req.Id, Status: 4294967295})
	err := <-done
	var e *Error
	if !errors.As(err, &e) || uint32(e.Code) != 4294967295 || e.Fatal() || ExitCode(err) != ExitOK {
		t.Fatalf("Request: %v", err)
	}
	p.message(&cordpb.Message{Id: 8})
	m := recvMsg(t, c)
	if err := m.Fail(e.Code, Payload{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Fail with %d: %v", uint32(e.Code), err)
	}
	if err := m.Fail(maxCode, Payload{}); err != nil {
		t.Fatalf("Fail with the highest application code: %v", err)
	}
	if r := p.recv().GetMessage(); r == nil || r.Status != uint32(maxCode) {
		t.Fatalf("reply %v", r)
	}
}
