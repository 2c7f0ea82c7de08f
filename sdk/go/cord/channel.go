// channel.go: a child's end of a Cord channel: Open, Recv, Send, Request, Reply, Ping and Close.

package cord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"syscall"

	"cord.dev/go/internal/cordpb"
)

// Defaults of Config's zero fields.
const (
	DefaultMaxFrame = 16 << 20  // largest frame body accepted
	DefaultMaxFDs   = 16        // most descriptors accepted with one frame
	DefaultInbox    = 64        // messages waiting for Recv
	DefaultMaxLine  = 256 << 20 // longest Node.js line accepted (NODE-6 asks for 256 MiB)
)

// Protocol constants of spec section 4.
const (
	magic        = 0x44524F43
	version      = 1
	helloLimit   = 256 // FRAME-4: no frame over 256 bytes before the peer's Hello
	maxFrameWire = 1<<31 - 1
	implName     = "cord-go"
	implVersion  = "1.0.0"
)

// Config holds a child's options. The zero Config is the default; each
// zero field means its default.
type Config struct {
	// MaxFrame is the largest frame body this child accepts, declared in
	// its Hello (FRAME-2): a longer frame fails the channel with
	// FRAME_TOO_LARGE before its body is read (FRAME-5). 0 means
	// DefaultMaxFrame; otherwise 256 to 2147483647 (FRAME-3).
	MaxFrame uint32
	// MaxFDs is the most descriptors this child accepts with one frame,
	// declared in its Hello (FD-1). 0 means DefaultMaxFDs, a negative
	// value means none at all; at most 64.
	MaxFDs int
	// Inbox is how many received messages wait for Recv. When it is full
	// the channel stops reading until Recv takes one, so a parent that
	// sends faster than the child works is held back by the socket
	// rather than by this child's memory. 0 means DefaultInbox.
	Inbox int
	// MaxLine is the longest line accepted on the Node.js binding; a longer
	// one is discarded and reported to OnError (NODE-6). 0 means
	// DefaultMaxLine.
	MaxLine int
	// OnError, if set, receives every problem that does not end the
	// channel: an Error frame from the parent with a non-fatal code, a
	// Node.js line too long, a Node.js line that is not JSON. It is called
	// from the channel's reading goroutine and must not block for long.
	OnError func(error)

	// inboxFull, for tests, is called when the reader waits for room in
	// the inbox.
	inboxFull func()
}

// ErrInvalid is wrapped by the errors of calls refused because of what
// they were given: a bad Config, text that is not JSON (MSG-3), a type
// name that is not fully qualified, a status code that may not go on the
// wire (ERR-2), a file that cannot be passed.
var ErrInvalid = errors.New("cord: invalid argument")

// Peer describes the parent, from its Hello.
type Peer struct {
	Version      uint32 // the version of the channel (HELLO-8)
	MaxFrame     uint32 // the largest frame body the parent accepts
	MaxFDs       uint32 // the most descriptors it accepts with one frame
	Capabilities uint64 // its capability bits
	PID          uint32 // its process id, 0 if not said (diagnostics only)
	ImplName     string // escaped and bounded (SEC-7); diagnostics only
	ImplVersion  string // likewise
}

// Channel is a child's end of its channel. It is safe for use by several
// goroutines at once. Open makes one; Close ends it.
type Channel struct {
	cfg     Config
	binding Binding
	file    *os.File
	conn    syscall.RawConn
	rd      *reader
	peer    Peer

	// wmu serialises writes, so that frames never interleave (FRAME-10);
	// it is taken before mu when both are needed.
	wmu     sync.Mutex
	wbuf    []byte
	wclosed error // why this side's direction is closed, nil while open

	mu        sync.Mutex
	nextID    uint64
	calls     map[uint64]*call      // this side's outstanding requests
	nextNonce uint64                // last Ping nonce used
	pings     map[uint64]chan error // Pings waiting for their Pong
	requests  map[uint64]*Message   // the parent's requests not yet answered
	goodbye   bool                  // this side's Goodbye is sent (or being sent)
	peerEnded bool                  // the parent's direction has ended
	endErr    error                 // io.EOF, or the fatal *Error, once peerEnded
	fatal     *Error                // the fatal error that ended the channel

	inbox     chan *Message // received messages, closed when the parent's direction ends
	closing   chan struct{} // closed when Close starts
	peerDone  chan struct{} // closed when the parent's direction ends
	readDone  chan struct{} // closed when the reading goroutine has returned
	closeOnce sync.Once
	closeErr  error
}

// call is one outstanding request of this side.
type call struct {
	done      chan callResult // buffered: the reader never waits for the requester
	abandoned bool            // its context ended; the reply is discarded when it comes
}

type callResult struct {
	msg *Message
	err error
}

// Open finds this process's channel (spec CHAN-6), exchanges Hellos with the
// parent and returns the channel, with the default Config. See Config.Open.
//
//	ch, err := cord.Open()
//	if err != nil {
//		fmt.Fprintln(os.Stderr, err)
//		os.Exit(cord.ExitCode(err))
//	}
func Open() (*Channel, error) { return Config{}.Open() }

// Open finds this process's channel in the environment, removes the
// channel variables and makes the descriptor close-on-exec (CHAN-6, CHAN-9).
// On a Cord channel it sends its Hello and waits for the parent's; on a
// Node.js channel (NODE_CHANNEL_FD without CORD_CHANNEL_FD, spec section 13)
// it returns at once.
//
// Errors: NO_CHANNEL when the process has no usable channel (the message
// says which variable and check failed; exit with ExitCode(err), 64); a
// fatal *Error when the handshake fails (NOT_CORD, VERSION_MISMATCH,
// PROTOCOL, UNEXPECTED_FRAME, ...), after an Error frame to the parent and
// the closing of the channel; CLOSED when the parent closed the channel
// before its Hello; a plain error wrapping ErrInvalid for a bad Config.
// Open needs no timer: a parent that never says Hello is the parent's to
// stop (HELLO-12).
func (cfg Config) Open() (*Channel, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	fd, binding, err := findChannel()
	if err != nil {
		return nil, err
	}
	// The netpoller needs a non-blocking descriptor; the parent left the
	// choice to the child (CHAN-5).
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, errorf(NoChannel, "cannot use descriptor %d: %v", fd, err)
	}
	c, err := newChannel(cfg, os.NewFile(uintptr(fd), "cord-channel"), binding)
	if err != nil {
		return nil, err
	}
	if binding == BindingNodeJSON {
		c.rd.lines = true
		go c.nodeLoop()
		return c, nil
	}
	if err := c.handshake(); err != nil {
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

// normalise applies the defaults and checks every field.
func (cfg *Config) normalise() error {
	switch {
	case cfg.MaxFrame == 0:
		cfg.MaxFrame = DefaultMaxFrame
	case cfg.MaxFrame < helloLimit || cfg.MaxFrame > maxFrameWire:
		return fmt.Errorf("%w: Config.MaxFrame %d is outside 256..2147483647 (FRAME-3)", ErrInvalid, cfg.MaxFrame)
	}
	switch {
	case cfg.MaxFDs == 0:
		cfg.MaxFDs = DefaultMaxFDs
	case cfg.MaxFDs < 0:
		cfg.MaxFDs = 0
	case cfg.MaxFDs > 64:
		return fmt.Errorf("%w: Config.MaxFDs %d is over 64 (FD-1)", ErrInvalid, cfg.MaxFDs)
	}
	switch {
	case cfg.Inbox == 0:
		cfg.Inbox = DefaultInbox
	case cfg.Inbox < 0:
		return fmt.Errorf("%w: Config.Inbox %d is negative", ErrInvalid, cfg.Inbox)
	}
	switch {
	case cfg.MaxLine == 0:
		cfg.MaxLine = DefaultMaxLine
	case cfg.MaxLine < 0:
		return fmt.Errorf("%w: Config.MaxLine %d is negative", ErrInvalid, cfg.MaxLine)
	}
	return nil
}

func newChannel(cfg Config, f *os.File, binding Binding) (*Channel, error) {
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, errorf(NoChannel, "cannot use the channel: %v", err)
	}
	return &Channel{
		cfg:      cfg,
		binding:  binding,
		file:     f,
		conn:     conn,
		rd:       newReader(conn, cfg.MaxFDs),
		peer:     Peer{MaxFrame: helloLimit},
		calls:    map[uint64]*call{},
		pings:    map[uint64]chan error{},
		requests: map[uint64]*Message{},
		inbox:    make(chan *Message, cfg.Inbox),
		closing:  make(chan struct{}),
		peerDone: make(chan struct{}),
		readDone: make(chan struct{}),
	}, nil
}

// Binding returns which wire the channel speaks.
func (c *Channel) Binding() Binding { return c.binding }

// Peer returns what the parent's Hello said (zero on the Node.js binding).
func (c *Channel) Peer() Peer { return c.peer }

// SyscallConn gives access to the channel's descriptor, for inspection
// (such as checking that it is close-on-exec). Reading or writing it
// directly breaks the channel.
func (c *Channel) SyscallConn() (syscall.RawConn, error) { return c.conn, nil }

// handshake sends this side's Hello and checks the parent's (section 4).
func (c *Channel) handshake() error {
	hello := &cordpb.Hello{
		Magic:        magic,
		MinVersion:   version,
		MaxVersion:   version,
		MaxFrame:     c.cfg.MaxFrame,
		MaxFds:       uint32(c.cfg.MaxFDs),
		Capabilities: uint64(cordpb.Capability_CAPABILITY_CANCEL),
		Pid:          uint32(os.Getpid()),
		ImplName:     implName,
		ImplVersion:  implVersion,
	}
	// A write that fails here is seen again as end of file or a reset
	// when reading the parent's Hello, which reports it better.
	_ = c.send(&cordpb.Frame{Body: &cordpb.Frame_Hello{Hello: hello}}, nil)
	body, err := c.rd.next(frameLimit{max: helloLimit, first: true})
	if err == io.EOF {
		c.peerEnd(io.EOF)
		c.file.Close()
		return errorf(Closed, "the parent closed the channel before its Hello")
	}
	if err != nil {
		return c.failed(err)
	}
	var f cordpb.Frame
	if err := unmarshal(body, &f); err != nil {
		return c.fail(notCord(c.rd.head), true)
	}
	h := f.GetHello()
	switch {
	case h == nil:
		return c.fail(errorf(UnexpectedFrame, "the first frame is not a Hello (HELLO-6)"), true)
	case h.Magic != magic:
		return c.fail(notCord(c.rd.head), true)
	case h.MinVersion > h.MaxVersion:
		return c.fail(errorf(Protocol, "the parent's Hello has the inverted version range %d..%d (HELLO-9)",
			h.MinVersion, h.MaxVersion), true)
	case h.MaxFrame < helloLimit || h.MaxFrame > maxFrameWire:
		return c.fail(errorf(Protocol, "the parent's Hello has max_frame %d, outside 256..2147483647 (HELLO-9)",
			h.MaxFrame), true)
	}
	v := min32(version, h.MaxVersion)
	if v < max32(version, h.MinVersion) {
		return c.fail(errorf(VersionMismatch, "no common version: we speak %d..%d, peer speaks %d..%d",
			version, version, h.MinVersion, h.MaxVersion), true)
	}
	c.wmu.Lock()
	c.peer = Peer{
		Version:      v,
		MaxFrame:     h.MaxFrame,
		MaxFDs:       h.MaxFds,
		Capabilities: h.Capabilities,
		PID:          h.Pid,
		ImplName:     peerText(h.ImplName, 64),
		ImplVersion:  peerText(h.ImplVersion, 32),
	}
	c.wmu.Unlock()
	return nil
}

// readLoop handles every frame after the handshake, until the parent's
// direction ends and the reader has nothing more to learn.
func (c *Channel) readLoop() {
	defer close(c.readDone)
	goodbye := false
	for {
		body, err := c.rd.next(frameLimit{max: c.cfg.MaxFrame})
		if err != nil {
			c.failed(err)
			return
		}
		if goodbye {
			c.fail(errorf(UnexpectedFrame, "a frame after the parent's Goodbye (END-2)"), true)
			return
		}
		var f cordpb.Frame
		if err := unmarshal(body, &f); err != nil {
			c.fail(errorf(Protocol, "a frame that does not decode: %v", err), true)
			return
		}
		switch b := f.Body.(type) {
		case *cordpb.Frame_Hello:
			c.fail(errorf(UnexpectedFrame, "a second Hello (HELLO-10)"), true)
			return
		case *cordpb.Frame_Message:
			if err := c.onMessage(b.Message); err != nil {
				c.fail(err, true)
				return
			}
		case *cordpb.Frame_Cancel:
			c.mu.Lock()
			m := c.requests[b.Cancel.GetId()]
			c.mu.Unlock()
			if m != nil { // REQ-8: a Cancel for anything else is ignored
				m.cancel()
			}
		case *cordpb.Frame_Ping:
			c.wmu.Lock()
			if !c.saidGoodbye() { // PING-2: Pings are answered until this side's Goodbye
				_ = c.sendLocked(&cordpb.Frame{Body: &cordpb.Frame_Pong{Pong: &cordpb.Pong{Nonce: b.Ping.GetNonce()}}}, nil)
			}
			c.wmu.Unlock()
		case *cordpb.Frame_Pong:
			c.mu.Lock()
			done := c.pings[b.Pong.GetNonce()] // PING-3: an unknown nonce is ignored
			delete(c.pings, b.Pong.GetNonce())
			c.mu.Unlock()
			if done != nil {
				done <- nil
			}
		case *cordpb.Frame_Goodbye:
			goodbye = true
			c.peerEnd(io.EOF)
		case *cordpb.Frame_Error:
			e := &Error{Code: Code(b.Error.GetCode()), Detail: peerText(b.Error.GetDetail(), 256), Remote: true}
			if e.Fatal() { // END-11
				c.fail(e, false)
				return
			}
			c.report(e) // ERR-2, ERR-3: unknown and non-fatal codes change nothing
		default:
			// FRAME-8: a frame with no member this side knows is discarded.
		}
	}
}

// onMessage checks a Message (MSG-5, FD-7, REQ-4) and delivers it: a reply
// to its requester, anything else to the inbox. A non-nil result is fatal.
func (c *Channel) onMessage(m *cordpb.Message) *Error {
	switch {
	case m.Id != 0 && m.ReplyTo != 0:
		return errorf(Protocol, "a message with both id %d and reply_to %d (MSG-5)", m.Id, m.ReplyTo)
	case m.Status != 0 && m.ReplyTo == 0:
		return errorf(Protocol, "a message with status %d and no reply_to (MSG-5)", m.Status)
	case m.Fds > uint32(c.cfg.MaxFDs):
		return errorf(FDMismatch, "a message announces %d descriptors, more than max_fds %d", m.Fds, c.cfg.MaxFDs)
	}
	fds, err := c.rd.take(int(m.Fds))
	if err != nil {
		return err.(*Error)
	}
	msg := &Message{Payload: payloadOf(m), Files: files(fds)}
	if m.ReplyTo != 0 {
		c.onReply(m.ReplyTo, Code(m.Status), msg)
		return nil
	}
	if m.Id != 0 {
		c.mu.Lock()
		if _, dup := c.requests[m.Id]; dup {
			c.mu.Unlock()
			msg.closeFiles()
			return errorf(Protocol, "a second request with id %d while the first is unanswered (REQ-4)", m.Id)
		}
		if c.goodbye {
			// No reply can follow this side's Goodbye (END-1): nothing to
			// deliver.
			c.mu.Unlock()
			msg.closeFiles()
			return nil
		}
		msg.ch, msg.id = c, m.Id
		msg.ctx, msg.cancel = context.WithCancel(context.Background())
		c.requests[m.Id] = msg
		c.mu.Unlock()
	}
	c.deliver(msg)
	return nil
}

// deliver puts a message in the inbox, waiting while it is full: the
// channel then reads nothing more, so the socket holds the parent back.
func (c *Channel) deliver(msg *Message) {
	select {
	case c.inbox <- msg:
		return
	default:
	}
	if c.cfg.inboxFull != nil {
		c.cfg.inboxFull()
	}
	select {
	case c.inbox <- msg:
	case <-c.closing:
		msg.closeFiles()
	}
}

// onReply hands a reply to the request that waits for it (REQ-5).
func (c *Channel) onReply(id uint64, status Code, msg *Message) {
	c.mu.Lock()
	cl := c.calls[id]
	delete(c.calls, id)
	abandoned := cl != nil && cl.abandoned
	c.mu.Unlock()
	switch {
	case cl == nil:
		msg.closeFiles()
		c.wmu.Lock()
		if !c.saidGoodbye() {
			_ = c.sendLocked(errorFrame(UnknownRequest, fmt.Sprintf("reply to %d, which names no outstanding request", id)), nil)
		}
		c.wmu.Unlock()
	case abandoned:
		msg.closeFiles()
	case status != 0:
		cl.done <- callResult{err: &Error{Code: status, Detail: msg.describeFailure(), Remote: true, Reply: msg}}
	default:
		cl.done <- callResult{msg: msg}
	}
}

// report passes a non-fatal problem to Config.OnError.
func (c *Channel) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
}

// failed ends the reading side on a reader error: end of file on a
// boundary ends the parent's direction (END-4), a *Error is fatal, and a
// local close ends it quietly.
func (c *Channel) failed(err error) error {
	var e *Error
	switch {
	case err == io.EOF:
		c.peerEnd(io.EOF)
		return nil
	case errors.As(err, &e):
		return c.fail(e, true)
	case err == errFileClosed:
		c.peerEnd(errorf(Closed, "the channel was closed by this side"))
		return nil
	}
	// Any other read error: the channel cannot be read; say so, as a
	// disconnect rather than a protocol error.
	c.peerEnd(errorf(Closed, "reading the channel failed: %v", err))
	c.file.Close()
	return c.endErr
}

// peerEnd records the end of the parent's direction, once: every
// outstanding request fails with CLOSED (REQ-9), waiting Pings fail, and
// Recv returns io.EOF (or the fatal error) once the inbox is empty.
func (c *Channel) peerEnd(why error) {
	c.mu.Lock()
	if c.peerEnded {
		c.mu.Unlock()
		return
	}
	c.peerEnded, c.endErr = true, why
	calls, pings := c.calls, c.pings
	c.calls, c.pings = map[uint64]*call{}, map[uint64]chan error{}
	c.mu.Unlock()
	closed := errorf(Closed, "the parent's direction ended before the answer")
	for _, cl := range calls {
		if !cl.abandoned {
			cl.done <- callResult{err: closed}
		}
	}
	for _, p := range pings {
		p <- closed
	}
	close(c.inbox)
	close(c.peerDone)
}

// fail ends the channel with a fatal error (END-11): it sends an Error frame
// when send is set and this side's direction is open, closes the channel,
// and returns e. It runs on the reading goroutine (or in Open), once.
func (c *Channel) fail(e *Error, send bool) error {
	c.mu.Lock()
	if c.fatal == nil {
		c.fatal = e
	}
	requests := c.requests
	c.requests = map[uint64]*Message{}
	c.mu.Unlock()
	for _, m := range requests { // none of them can be answered now
		m.cancel()
	}
	c.peerEnd(e)
	c.wmu.Lock()
	// TRUNCATED stays local: it is about a stream that has ended (section 11).
	if send && c.wclosed == nil && c.binding == BindingCord && e.Code != Truncated {
		detail := e.Detail
		if limit := 200; len(detail) > limit { // the frame stays under 256 bytes (FRAME-4)
			detail = truncateUTF8(detail, limit)
		}
		_ = c.sendLocked(errorFrame(e.Code, detail), nil)
	}
	if c.wclosed == nil {
		c.wclosed = e
	}
	c.wmu.Unlock()
	c.rd.closeQueued()
	c.file.Close()
	return e
}

// saidGoodbye reports whether this side's direction is closed; wmu is held.
func (c *Channel) saidGoodbye() bool { return c.wclosed != nil }

// Recv returns the next message from the parent: a one-way message, or a
// request to answer with its Reply or Fail method. It blocks until a
// message arrives, the context ends (ctx.Err(), the channel goes on) or
// the parent's direction ends: then it returns io.EOF after a Goodbye or
// end of file, or the fatal *Error that ended the channel. Messages
// received before the end are all returned first.
func (c *Channel) Recv(ctx context.Context) (*Message, error) {
	select {
	case m, ok := <-c.inbox:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return nil, c.endErr
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closing:
		return nil, errorf(Closed, "the channel is closed")
	}
}

// Send sends a one-way message, with files passed as descriptors (spec
// section 8; the caller's copies stay open, FD-10). It blocks while the
// socket is full (FLOW-2). Errors: TOO_BIG when the frame or the number of
// descriptors exceeds what the parent accepts (nothing is sent, FRAME-2,
// FD-1); ErrInvalid for a JSON payload that is not JSON; CLOSED once this
// side's direction has ended; NODE_UNREPRESENTABLE on the Node.js binding
// for anything but a JSON payload without files (NODE-9).
func (c *Channel) Send(p Payload, files ...*os.File) error {
	if c.binding == BindingNodeJSON {
		if p.kind != KindJSON || len(files) > 0 {
			return errorf(NodeUnrepresentable, "only json payloads without descriptors go on a Node.js channel (NODE-9)")
		}
		return c.sendLine(p.data)
	}
	m := &cordpb.Message{Fds: uint32(len(files))}
	if err := p.put(m); err != nil {
		return err
	}
	return c.send(&cordpb.Frame{Body: &cordpb.Frame_Message{Message: m}}, files)
}

// SendAll sends one-way messages in as few writes as the socket allows:
// the way to send many small messages fast. All are checked before any is
// written: if one is refused (see Send), none is sent.
func (c *Channel) SendAll(ps ...Payload) error {
	if c.binding == BindingNodeJSON {
		for _, p := range ps {
			if err := c.Send(p); err != nil {
				return err
			}
		}
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed != nil {
		return c.wclosed
	}
	buf := c.wbuf[:0]
	var m cordpb.Message
	f := &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &m}}
	for _, p := range ps {
		m = cordpb.Message{}
		if err := p.put(&m); err != nil {
			return err
		}
		var err error
		if buf, err = c.appendFrame(buf, f); err != nil {
			return err
		}
	}
	c.wbuf = buf
	return c.write(buf, nil)
}

// Request sends a request and waits for its reply (spec section 6). A
// reply with status 0 is returned as a *Message; a reply with another
// status as a *Error with that Code, Remote set and the reply in Reply.
// When ctx ends first, Request sends Cancel for it (REQ-6), returns
// ctx.Err() and discards the reply when it comes. CLOSED when the parent's
// direction ends first (REQ-9) or has already ended (REQ-11); other errors
// as Send.
func (c *Channel) Request(ctx context.Context, p Payload, files ...*os.File) (*Message, error) {
	if c.binding == BindingNodeJSON {
		return nil, errorf(NodeUnrepresentable, "requests cannot go on a Node.js channel (NODE-9)")
	}
	m := &cordpb.Message{Fds: uint32(len(files))}
	if err := p.put(m); err != nil {
		return nil, err
	}
	c.wmu.Lock()
	c.mu.Lock()
	if c.peerEnded {
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, errorf(Closed, "the parent's direction has ended: no reply could come (REQ-11)")
	}
	c.nextID++ // REQ-1: 1, 2, 3, never reused
	m.Id = c.nextID
	cl := &call{done: make(chan callResult, 1)}
	c.calls[m.Id] = cl
	c.mu.Unlock()
	err := c.sendLocked(&cordpb.Frame{Body: &cordpb.Frame_Message{Message: m}}, files)
	if err != nil {
		c.mu.Lock()
		delete(c.calls, m.Id)
		c.mu.Unlock()
	}
	c.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r := <-cl.done:
		return r.msg, r.err
	case <-ctx.Done():
	}
	c.wmu.Lock()
	c.mu.Lock()
	_, outstanding := c.calls[m.Id]
	cl.abandoned = outstanding
	c.mu.Unlock()
	if outstanding && !c.saidGoodbye() {
		_ = c.sendLocked(&cordpb.Frame{Body: &cordpb.Frame_Cancel{Cancel: &cordpb.Cancel{Id: m.Id}}}, nil)
	}
	c.wmu.Unlock()
	if !outstanding { // the answer came meanwhile: it is the result
		r := <-cl.done
		return r.msg, r.err
	}
	return nil, ctx.Err()
}

// Ping sends a Ping and waits for its Pong (spec section 9). CLOSED when the
// parent's direction has ended (PING-5) or ends first; ctx.Err() when the
// context ends first.
func (c *Channel) Ping(ctx context.Context) error {
	if c.binding == BindingNodeJSON {
		return errorf(NodeUnrepresentable, "Ping cannot go on a Node.js channel (NODE-9)")
	}
	c.wmu.Lock()
	c.mu.Lock()
	if c.peerEnded {
		c.mu.Unlock()
		c.wmu.Unlock()
		return errorf(Closed, "the parent's direction has ended: no Pong could come (PING-5)")
	}
	c.nextNonce++
	nonce := c.nextNonce
	done := make(chan error, 1)
	c.pings[nonce] = done
	c.mu.Unlock()
	err := c.sendLocked(&cordpb.Frame{Body: &cordpb.Frame_Ping{Ping: &cordpb.Ping{Nonce: nonce}}}, nil)
	c.wmu.Unlock()
	if err == nil {
		select {
		case err = <-done:
			return err
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	c.mu.Lock()
	delete(c.pings, nonce)
	c.mu.Unlock()
	return err
}

// Close ends the channel as spec END-8 says: it answers every request
// still unanswered with CANCELLED (REQ-10), sends Goodbye, shuts down its
// writing direction, waits until the parent's direction ends (END-1: replies
// and the parent's writes still arrive meanwhile, and messages received
// are discarded), closes the descriptor and returns. On the Node.js
// binding it just closes the descriptor (NODE-10). Every descriptor
// received and not handed out is closed (FD-9).
//
// It returns nil after a clean end and the fatal *Error that ended the
// channel otherwise; ExitCode turns that into the exit status of END-8.
// Close does not time out: the parent ends its direction after this
// side's Goodbye (END-3), or stops the child.
func (c *Channel) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Channel) close() error {
	close(c.closing)
	if c.binding == BindingCord {
		c.wmu.Lock()
		if c.wclosed == nil {
			c.mu.Lock()
			c.goodbye = true
			unanswered := make([]*Message, 0, len(c.requests))
			for _, m := range c.requests {
				unanswered = append(unanswered, m)
			}
			c.requests = map[uint64]*Message{}
			c.mu.Unlock()
			sort.Slice(unanswered, func(i, j int) bool { return unanswered[i].id < unanswered[j].id })
			for _, m := range unanswered {
				m.cancel()
				_ = c.sendLocked(replyFrame(m.id, Cancelled, nil), nil)
			}
			_ = c.sendLocked(&cordpb.Frame{Body: &cordpb.Frame_Goodbye{Goodbye: &cordpb.Goodbye{}}}, nil)
			if c.wclosed == nil {
				c.wclosed = errorf(Closed, "this side has sent its Goodbye")
			}
			_ = c.conn.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_WR) })
		}
		c.wmu.Unlock()
		<-c.peerDone
	}
	c.file.Close()
	<-c.readDone
	for m := range c.inbox {
		m.closeFiles()
	}
	c.rd.closeQueued()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fatal != nil {
		return c.fatal
	}
	return nil
}

func min32(a, b uint32) uint32 {
	if a < b {
		return a
	}
	return b
}

func max32(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}
