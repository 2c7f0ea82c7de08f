// errors.go: the error table of spec section 11, as Go values.

package cord

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Code is a number from the spec's error table (spec section 11): a
// protocol code (1000-1999), an SDK code (2000-2999, never on the wire) or
// an application code (10000 and above). On the wire it is Error.code or a
// reply's Message.status.
type Code uint32

// The codes of the table. The first block travels on the wire; the second
// is local to an SDK and never sent (ERR-2).
const (
	Protocol        Code = 1000 // a frame is malformed or breaks a rule of the spec
	FrameTooLarge   Code = 1001 // a frame's length exceeds the receiver's max_frame
	Truncated       Code = 1002 // the stream ended in the middle of a frame
	NotCord         Code = 1003 // the peer's first bytes are not a Cord Hello
	VersionMismatch Code = 1004 // the two version ranges have no version in common
	UnexpectedFrame Code = 1005 // a frame came when the protocol allows none of its kind
	FDMismatch      Code = 1006 // passed descriptors do not match the frames that announce them
	UnknownRequest  Code = 1007 // a reply names no outstanding request
	Timeout         Code = 1008 // the peer did not answer in time
	Cancelled       Code = 1009 // the request was cancelled before it completed
	Unsupported     Code = 1010 // the receiver does not handle this payload, type or frame
	Closed          Code = 1011 // the channel, or this side's direction, has ended
	Failed          Code = 1012 // the receiver failed to handle the request

	NoChannel           Code = 2000 // the process was started without a usable channel
	NodeUnrepresentable Code = 2001 // this cannot be sent on a Node.js json channel
	IPCCount            Code = 2002 // the stdio option needs exactly one ipc entry (parents only)
	State               Code = 2003 // the call is not valid in the channel's current state
	TooBig              Code = 2004 // the message exceeds the peer's max_frame or max_fds, or a local limit
	BuildMismatch       Code = 2005 // the program and the SDK's library were compiled with different options (C SDKs only)
)

// codeInfo is one row of the error table.
type codeInfo struct {
	name  string
	fatal bool
}

// table holds every code of the spec's table; a test compares it with the
// table in spec/cord-v1.md, so the two cannot drift apart.
var table = map[Code]codeInfo{
	Protocol:            {"PROTOCOL", true},
	FrameTooLarge:       {"FRAME_TOO_LARGE", true},
	Truncated:           {"TRUNCATED", true},
	NotCord:             {"NOT_CORD", true},
	VersionMismatch:     {"VERSION_MISMATCH", true},
	UnexpectedFrame:     {"UNEXPECTED_FRAME", true},
	FDMismatch:          {"FD_MISMATCH", true},
	UnknownRequest:      {"UNKNOWN_REQUEST", false},
	Timeout:             {"TIMEOUT", true},
	Cancelled:           {"CANCELLED", false},
	Unsupported:         {"UNSUPPORTED", false},
	Closed:              {"CLOSED", false},
	Failed:              {"FAILED", false},
	NoChannel:           {"NO_CHANNEL", false},
	NodeUnrepresentable: {"NODE_UNREPRESENTABLE", false},
	IPCCount:            {"IPC_COUNT", false},
	State:               {"STATE", false},
	TooBig:              {"TOO_BIG", false},
	BuildMismatch:       {"BUILD_MISMATCH", false},
}

// String returns the code's name from the table ("CLOSED"), or its range
// and number for a code the table does not name ("application code 10042").
func (c Code) String() string {
	if info, ok := table[c]; ok {
		return info.name
	}
	switch {
	case c == 0:
		return "OK"
	case c < 1000:
		return fmt.Sprintf("errno %d", uint32(c))
	case c < 2000:
		return fmt.Sprintf("protocol code %d", uint32(c))
	case c < 3000:
		return fmt.Sprintf("SDK code %d", uint32(c))
	case c < 10000:
		return fmt.Sprintf("reserved code %d", uint32(c))
	case c > maxCode:
		return fmt.Sprintf("code %d, past every range", uint32(c))
	}
	return fmt.Sprintf("application code %d", uint32(c))
}

// maxCode is the highest code of any range (ERR-1). Error.code and
// Message.status are uint32 on the wire and can hold more; a code above
// this one is in no range, and so a code no side knows (ERR-5).
const maxCode Code = 2147483647

// Fatal reports whether the code ends the channel (the table's "fatal"
// column). Codes the table does not name, those past every range among
// them, are not fatal (ERR-2, ERR-5).
func (c Code) Fatal() bool { return table[c].fatal }

// sendable reports whether the code may go on the wire as an Error code or
// a reply status: only the protocol and application ranges (ERR-1, ERR-2),
// never a code past them (ERR-5).
func (c Code) sendable() bool {
	return (c >= 1000 && c < 2000) || (c >= 10000 && c <= maxCode)
}

// Error is every error this package returns that has a code of the table.
// Compare with errors.Is and the Err* values, which match on Code alone:
//
//	if errors.Is(err, cord.ErrClosed) { ... }
type Error struct {
	// Code is the row of the error table.
	Code Code
	// Detail says what happened, for a person. For an error the peer
	// reported, it is the peer's text, escaped and bounded (SEC-7).
	Detail string
	// Remote is true when the peer reported the error: an Error frame it
	// sent, or a reply with a non-zero status.
	Remote bool
	// Reply is, for a request answered with a non-zero status, that reply:
	// its payload describes the failure (ERR-4). Nil otherwise.
	Reply *Message
}

// Error returns "cord: NAME: detail".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cord: ")
	b.WriteString(e.Code.String())
	if e.Remote {
		b.WriteString(" (from the peer)")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is makes errors.Is(err, cord.ErrX) true for every *Error with X's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Fatal reports whether this error ended the channel.
func (e *Error) Fatal() bool { return e.Code.Fatal() }

// Values to compare errors with, by code (errors.Is).
var (
	ErrProtocol            = &Error{Code: Protocol}
	ErrFrameTooLarge       = &Error{Code: FrameTooLarge}
	ErrTruncated           = &Error{Code: Truncated}
	ErrNotCord             = &Error{Code: NotCord}
	ErrVersionMismatch     = &Error{Code: VersionMismatch}
	ErrUnexpectedFrame     = &Error{Code: UnexpectedFrame}
	ErrFDMismatch          = &Error{Code: FDMismatch}
	ErrUnknownRequest      = &Error{Code: UnknownRequest}
	ErrTimeout             = &Error{Code: Timeout}
	ErrCancelled           = &Error{Code: Cancelled}
	ErrUnsupported         = &Error{Code: Unsupported}
	ErrClosed              = &Error{Code: Closed}
	ErrFailed              = &Error{Code: Failed}
	ErrNoChannel           = &Error{Code: NoChannel}
	ErrNodeUnrepresentable = &Error{Code: NodeUnrepresentable}
	ErrState               = &Error{Code: State}
	ErrTooBig              = &Error{Code: TooBig}
)

// errorf makes a local *Error.
func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Exit statuses of spec CHAN-7/CHAN-8 and END-8.
const (
	ExitOK       = 0  // the channel ended without a fatal error
	ExitUsage    = 64 // started without a usable channel
	ExitProtocol = 76 // the channel ended with a fatal protocol error
)

// ExitCode maps the error that ended a child's channel (what Recv, Close or
// Open returned) to the exit status spec END-8 and CHAN-7 ask for: 0 for
// nil, io.EOF or a non-fatal *Error, 64 when there was no usable channel,
// 76 after a fatal protocol error, and 1 for any other error.
func ExitCode(err error) int {
	var e *Error
	switch {
	case err == nil || err == io.EOF:
		return ExitOK
	case !errors.As(err, &e):
		return 1
	case e.Code == NoChannel:
		return ExitUsage
	case e.Fatal():
		return ExitProtocol
	}
	return ExitOK
}

// peerText makes a string the peer chose safe to show to a person (SEC-7):
// at most limit bytes, invalid UTF-8 and control characters escaped.
func peerText(s string, limit int) string {
	if len(s) > limit {
		s = s[:limit]
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
