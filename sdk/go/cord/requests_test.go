// requests_test.go: requests both ways, replies, cancellation and CLOSED (spec section 6).

package cord

import (
	"context"
	"errors"
	"testing"
	"time"

	"cord.dev/go/internal/cordpb"
)

// request runs c.Request in a goroutine and returns where its outcome lands.
func request(c *Channel, ctx context.Context, p Payload) chan callResult {
	out := make(chan callResult, 1)
	go func() {
		m, err := c.Request(ctx, p)
		out <- callResult{m, err}
	}()
	return out
}

func outcome(t *testing.T, ch chan callResult) callResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(limit):
		t.Fatal("the request has no outcome")
	}
	return callResult{}
}

func TestRequestReplyAndStatus(t *testing.T) {
	p, c := open(t, Config{})
	first := request(c, bg(), Raw([]byte("q1")))
	m := p.recv().GetMessage()
	if m.Id != 1 || string(m.GetRaw()) != "q1" {
		t.Fatalf("request %v", m)
	}
	second := request(c, bg(), JSON(`2`))
	m2 := p.recv().GetMessage()
	if m2.Id != 2 {
		t.Fatalf("second request id %d, want 2 (REQ-1)", m2.Id)
	}
	// Replies in the other order (REQ-3), the second with a status.
	p.message(&cordpb.Message{ReplyTo: 2, Status: 10042, Payload: &cordpb.Message_Json{Json: `"no"`}})
	p.message(&cordpb.Message{ReplyTo: 1, Payload: &cordpb.Message_Raw{Raw: []byte("a1")}})
	var e *Error
	if r := outcome(t, second); !errors.As(r.err, &e) || e.Code != 10042 || !e.Remote || e.Reply.Text() != `"no"` {
		t.Fatalf("second: %+v", r)
	}
	if r := outcome(t, first); r.err != nil || string(r.msg.Bytes()) != "a1" {
		t.Fatalf("first: %+v", r)
	}
}

// A request whose context ends is cancelled on the wire (REQ-6); its late
// reply is discarded quietly, since it was still outstanding.
func TestContextCancelsRequest(t *testing.T) {
	p, c := open(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	out := request(c, ctx, Raw([]byte("slow")))
	id := p.recv().GetMessage().Id
	cancel()
	if got := p.recv().GetCancel(); got.GetId() != id {
		t.Fatalf("expected Cancel %d, got %v", id, got)
	}
	if r := outcome(t, out); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("outcome %+v", r)
	}
	p.message(&cordpb.Message{ReplyTo: id, Status: uint32(Cancelled)})
	// No UNKNOWN_REQUEST for it: the next frame is the answer to a ping.
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Ping{Ping: &cordpb.Ping{Nonce: 9}}})
	if f := p.recv(); f.GetPong().GetNonce() != 9 {
		t.Fatalf("expected Pong 9, got %v", f)
	}
}

// REQ-5: a reply to nothing is discarded with an UNKNOWN_REQUEST Error,
// and the channel goes on.
func TestReplyToUnknownRequest(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{ReplyTo: 999, Payload: &cordpb.Message_Json{Json: `"stale"`}})
	if e := p.recv().GetError(); Code(e.GetCode()) != UnknownRequest {
		t.Fatalf("expected UNKNOWN_REQUEST, got %v", e)
	}
	p.message(&cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte("alive")}})
	if m := recvMsg(t, c); string(m.Bytes()) != "alive" {
		t.Fatal("the channel did not go on")
	}
}

// REQ-9: the parent's Goodbye fails outstanding requests with CLOSED;
// REQ-11: no request is sent after it.
func TestGoodbyeClosesRequests(t *testing.T) {
	p, c := open(t, Config{})
	out := request(c, bg(), Raw([]byte("q")))
	p.recv()
	p.goodbye()
	if r := outcome(t, out); !errors.Is(r.err, ErrClosed) {
		t.Fatalf("outcome %+v", r)
	}
	if _, err := c.Request(bg(), Raw([]byte("late"))); !errors.Is(err, ErrClosed) {
		t.Fatalf("request after the Goodbye: %v", err)
	}
	if err := c.Ping(bg()); !errors.Is(err, ErrClosed) {
		t.Fatalf("ping after the Goodbye: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing but this side's Goodbye followed the request.
	if f := p.recv(); f.GetGoodbye() == nil {
		t.Fatalf("expected Goodbye, got %v", f)
	}
	p.expectEOF()
}

// Answering: exactly once (REQ-2); a refused reply can be replaced; codes
// that may not go on the wire are refused (ERR-2).
func TestAnswerExactlyOnce(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{Id: 4, Payload: &cordpb.Message_Raw{Raw: []byte("x")}})
	m := recvMsg(t, c)
	if !m.IsRequest() || m.ID() != 4 {
		t.Fatalf("not a request: %+v", m)
	}
	if err := m.Fail(Code(13), Payload{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("errno code: %v", err)
	}
	if err := m.Fail(NoChannel, Payload{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("SDK code: %v", err)
	}
	if err := m.Reply(JSON("not json")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad JSON: %v", err)
	}
	if err := m.Fail(10001, JSON(`"app"`)); err != nil {
		t.Fatal(err)
	}
	if err := m.Reply(Payload{}); !errors.Is(err, ErrState) {
		t.Errorf("second answer: %v", err)
	}
	r := p.recv().GetMessage()
	if r.ReplyTo != 4 || r.Status != 10001 || r.GetJson() != `"app"` {
		t.Fatalf("reply %v", r)
	}
}

// REQ-4: a second request with the id of an unanswered one is fatal.
func TestDuplicateRequestID(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{Id: 3})
	p.message(&cordpb.Message{Id: 3})
	p.expectFatal(Protocol)
	recvMsg(t, c)
	if _, err := c.Recv(bg()); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Recv: %v", err)
	}
}

// REQ-7: a Cancel ends the request's context; the answer is still owed.
// REQ-8: a Cancel for an answered or unknown id is ignored.
func TestCancelEndsTheRequestContext(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{Id: 1})
	m := recvMsg(t, c)
	if m.Context().Err() != nil {
		t.Fatal("context ended early")
	}
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Cancel{Cancel: &cordpb.Cancel{Id: 1}}})
	select {
	case <-m.Context().Done():
	case <-time.After(limit):
		t.Fatal("Cancel did not end the context")
	}
	if err := m.Fail(Cancelled, Payload{}); err != nil {
		t.Fatal(err)
	}
	if r := p.recv().GetMessage(); r.ReplyTo != 1 || r.Status != uint32(Cancelled) {
		t.Fatalf("reply %v", r)
	}
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Cancel{Cancel: &cordpb.Cancel{Id: 1}}})
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Cancel{Cancel: &cordpb.Cancel{Id: 77}}})
	p.message(&cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte("alive")}})
	if m := recvMsg(t, c); string(m.Bytes()) != "alive" {
		t.Fatal("the channel did not go on")
	}
}

// REQ-10: Close answers every unanswered request with CANCELLED, in id
// order, before its Goodbye.
func TestCloseAnswersUnansweredRequests(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{Id: 8})
	p.message(&cordpb.Message{Id: 6})
	// Both are taken before Close, so both are unanswered when it runs
	// (the reader might otherwise still be reading the second).
	held := recvMsg(t, c)
	if second := recvMsg(t, c); second.ID() != 6 {
		t.Fatalf("second request %d", second.ID())
	}
	p.goodbye()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{6, 8} {
		if r := p.recv().GetMessage(); r.ReplyTo != id || r.Status != uint32(Cancelled) {
			t.Fatalf("expected CANCELLED for %d, got %v", id, r)
		}
	}
	if p.recv().GetGoodbye() == nil {
		t.Fatal("no Goodbye")
	}
	p.expectEOF()
	if held.Context().Err() == nil {
		t.Error("the held request's context did not end")
	}
	if err := held.Reply(Payload{}); !errors.Is(err, ErrClosed) {
		t.Errorf("reply after Close: %v", err)
	}
}
