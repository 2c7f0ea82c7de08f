// message.go: a received message, and answering the parent's requests (spec sections 5 and 6).

package cord

import (
	"context"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"cord.dev/go/internal/cordpb"
)

// Message is a message received from the parent: a one-way message, a
// request (IsRequest) or, from Request, a reply.
type Message struct {
	// Payload is what the message carries.
	Payload
	// Files are the descriptors passed with the message, in the order the
	// parent attached them (FD-6). They belong to the caller, who closes
	// them.
	Files []*os.File

	ch     *Channel // set on requests only
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
}

// IsRequest reports whether the parent waits for an answer: exactly one
// call of Reply or Fail (REQ-2).
func (m *Message) IsRequest() bool { return m.id != 0 }

// ID returns a request's id (0 for other messages), for diagnostics.
func (m *Message) ID() uint64 { return m.id }

// Context returns a context that ends when the parent cancels this request
// (spec REQ-6, REQ-7), when it is answered, or when the channel ends before
// that. Work for a request should watch it and then answer with
// Fail(cord.Cancelled, ...). For a message that is not a request it is
// context.Background().
func (m *Message) Context() context.Context {
	if m.ctx == nil {
		return context.Background()
	}
	return m.ctx
}

// Reply answers a request with status 0, a payload and files passed as
// descriptors. Errors: STATE when m is not a request or is already
// answered; otherwise as Channel.Send, and after a refusal (TOO_BIG,
// ErrInvalid) the request is still unanswered, so another answer can
// follow.
func (m *Message) Reply(p Payload, files ...*os.File) error {
	return m.answer(0, p, files)
}

// Fail answers a request with a non-zero status: a protocol code such as
// Cancelled, Unsupported or Failed, or an application code (10000 and
// above), with an optional payload describing the failure for a person
// (ERR-4). Codes that never go on the wire (ERR-2) are refused with an
// error wrapping ErrInvalid. Other errors as Reply.
func (m *Message) Fail(code Code, p Payload) error {
	if !code.sendable() {
		return fmt.Errorf("%w: status %d may not be sent (ERR-2)", ErrInvalid, uint32(code))
	}
	return m.answer(code, p, nil)
}

func (m *Message) answer(status Code, p Payload, files []*os.File) error {
	c := m.ch
	if c == nil {
		return errorf(State, "not a request")
	}
	frame := replyFrame(m.id, status, files)
	if err := p.put(frame.GetMessage()); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	pending := c.requests[m.id] == m
	c.mu.Unlock()
	if !pending {
		if c.wclosed != nil {
			return c.wclosed
		}
		return errorf(State, "request %d is already answered", m.id)
	}
	err := c.sendLocked(frame, files)
	if isRefusal(err) {
		return err
	}
	c.mu.Lock()
	delete(c.requests, m.id)
	c.mu.Unlock()
	m.cancel()
	return err
}

// isRefusal reports whether a send error left nothing sent and the channel
// as it was, so that the caller can try again differently.
func isRefusal(err error) bool {
	e, ok := err.(*Error)
	return err != nil && (!ok || e.Code == TooBig)
}

// closeFiles closes the message's descriptors, for a message nobody takes.
func (m *Message) closeFiles() {
	for _, f := range m.Files {
		f.Close()
	}
	m.Files = nil
}

// describeFailure is the Detail of the error for a failed reply: its text
// payload, escaped and bounded (ERR-4, SEC-7).
func (m *Message) describeFailure() string {
	if (m.kind == KindJSON || m.kind == KindRaw) && utf8.Valid(m.data) {
		return peerText(string(m.data), 256)
	}
	return ""
}

// payloadOf takes the payload of a received Message.
func payloadOf(m *cordpb.Message) Payload {
	switch p := m.Payload.(type) {
	case *cordpb.Message_Typed:
		return TypedBytes(p.Typed.GetType(), p.Typed.GetValue())
	case *cordpb.Message_Json:
		return JSON(p.Json)
	case *cordpb.Message_Raw:
		return Raw(p.Raw)
	}
	return Payload{}
}

// put sets a Message's payload, refusing JSON that is not a JSON text
// (MSG-3) and a type name that is not a fully qualified name.
func (p Payload) put(m *cordpb.Message) error {
	switch p.kind {
	case KindTyped:
		if p.typeName == "" || strings.HasPrefix(p.typeName, ".") || !utf8.ValidString(p.typeName) {
			return fmt.Errorf("%w: typed payload name %q is not a fully qualified name (MSG-3)", ErrInvalid, p.typeName)
		}
		m.Payload = &cordpb.Message_Typed{Typed: &cordpb.Typed{Type: p.typeName, Value: p.data}}
	case KindJSON:
		if !validJSON(p.data) {
			return fmt.Errorf("%w: json payload is not one JSON text in UTF-8 (MSG-3)", ErrInvalid)
		}
		m.Payload = &cordpb.Message_Json{Json: string(p.data)}
	case KindRaw:
		m.Payload = &cordpb.Message_Raw{Raw: p.data}
	}
	return nil
}

// files makes received descriptors into files.
func files(fds []int) []*os.File {
	if len(fds) == 0 {
		return nil
	}
	fs := make([]*os.File, len(fds))
	for i, fd := range fds {
		fs[i] = os.NewFile(uintptr(fd), fmt.Sprintf("cord-fd-%d", fd))
	}
	return fs
}

// replyFrame makes the frame of a reply without its payload.
func replyFrame(id uint64, status Code, files []*os.File) *cordpb.Frame {
	return &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{
		ReplyTo: id, Status: uint32(status), Fds: uint32(len(files))}}}
}

// errorFrame makes an Error frame.
func errorFrame(code Code, detail string) *cordpb.Frame {
	return &cordpb.Frame{Body: &cordpb.Frame_Error{Error: &cordpb.Error{Code: uint32(code), Detail: truncateUTF8(detail, 256)}}}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
