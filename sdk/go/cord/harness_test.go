// harness_test.go: a scripted parent for the tests: the other end of a socket pair, speaking raw frames.

package cord

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"cord.dev/go/internal/cordpb"
)

// limit bounds every wait of a test: long enough for a loaded machine,
// short enough that a hang fails the test instead of stalling the run.
const limit = 30 * time.Second

// parent is the test's end of a channel.
type parent struct {
	t    *testing.T
	conn *net.UnixConn
	buf  []byte // bytes read and not yet consumed
	fds  []int  // descriptors received and not yet claimed
}

// pair makes a socket pair, puts the child's end in CORD_CHANNEL_FD (or
// the variable given) and returns the parent's end. Both are closed when
// the test ends.
func pair(t *testing.T, variable string) (*parent, int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "parent")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := &parent{t: t, conn: c.(*net.UnixConn)}
	t.Cleanup(func() { p.conn.Close(); closeFDs(p.fds) })
	t.Setenv(envCord, "")
	t.Setenv(envNode, "")
	t.Setenv(envNodeMode, "")
	os.Unsetenv(envCord)
	os.Unsetenv(envNode)
	os.Unsetenv(envNodeMode)
	t.Setenv(variable, itoa(fds[1]))
	// The child's end is the channel's once Open has passed the checks of
	// the environment; a test whose Open fails before that closes it.
	return p, fds[1]
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// parentHello is the Hello the test parent sends unless a test changes it.
func parentHello() *cordpb.Hello {
	return &cordpb.Hello{Magic: magic, MinVersion: 1, MaxVersion: 1, MaxFrame: 1 << 20, MaxFds: 8,
		Capabilities: 1, Pid: 1, ImplName: "test-parent", ImplVersion: "0"}
}

// open starts a channel on a fresh pair: the parent's Hello is written
// first, so that Open's handshake completes at once.
func open(t *testing.T, cfg Config) (*parent, *Channel) {
	t.Helper()
	p, _ := pair(t, envCord)
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Hello{Hello: parentHello()}})
	c, err := cfg.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if h := p.recv().GetHello(); h == nil {
		t.Fatal("the child's first frame is not a Hello")
	}
	t.Cleanup(func() { p.conn.Close(); c.Close() })
	return p, c
}

// encode returns a frame's bytes, prefix included.
func encode(t *testing.T, f *cordpb.Frame) []byte {
	body, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// send writes one frame, with descriptors beside its first byte.
func (p *parent) send(f *cordpb.Frame, fds ...int) { p.write(encode(p.t, f), fds...) }

// write writes raw bytes in one call, with descriptors.
func (p *parent) write(b []byte, fds ...int) {
	p.t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	p.conn.SetWriteDeadline(time.Now().Add(limit))
	// WriteMsgUnix makes one sendmsg call, which may take only a part of a
	// large write: the rest follows without the descriptors (FD-3).
	n, _, err := p.conn.WriteMsgUnix(b, oob, nil)
	if err == nil && n < len(b) {
		_, err = p.conn.Write(b[n:])
	}
	if err != nil {
		p.t.Fatalf("parent write: %v", err)
	}
}

// message sends a Message frame.
func (p *parent) message(m *cordpb.Message, fds ...int) {
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Message{Message: m}}, fds...)
}

// fill reads until n bytes are buffered; false at end of file.
func (p *parent) fill(n int) bool {
	p.t.Helper()
	for len(p.buf) < n {
		b := make([]byte, 64<<10)
		oob := make([]byte, syscall.CmsgSpace(4*64))
		p.conn.SetReadDeadline(time.Now().Add(limit))
		k, oobn, _, _, err := p.conn.ReadMsgUnix(b, oob)
		if oobn > 0 {
			msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
			for i := range msgs {
				fds, _ := syscall.ParseUnixRights(&msgs[i])
				p.fds = append(p.fds, fds...)
			}
		}
		// A reset is the child closing with data of ours unread: its end
		// of file (spec END-6).
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || (err == nil && k == 0) {
			return false
		}
		if err != nil {
			p.t.Fatalf("parent read: %v", err)
		}
		p.buf = append(p.buf, b[:k]...)
	}
	return true
}

// recvRaw returns the next frame's body; nil at end of file on a boundary.
func (p *parent) recvRaw() []byte {
	p.t.Helper()
	if !p.fill(4) {
		if len(p.buf) != 0 {
			p.t.Fatalf("end of file after %d bytes of a prefix", len(p.buf))
		}
		return nil
	}
	n := int(binary.BigEndian.Uint32(p.buf))
	if !p.fill(4 + n) {
		p.t.Fatalf("end of file inside a frame of %d bytes", n)
	}
	body := p.buf[4 : 4+n]
	p.buf = p.buf[4+n:]
	return body
}

// recv returns the next frame; it fails the test at end of file.
func (p *parent) recv() *cordpb.Frame {
	p.t.Helper()
	body := p.recvRaw()
	if body == nil {
		p.t.Fatal("end of file where a frame was expected")
	}
	var f cordpb.Frame
	if err := proto.Unmarshal(body, &f); err != nil {
		p.t.Fatalf("the child sent a frame that does not decode: %v", err)
	}
	return &f
}

// expectEOF checks that the child's direction ends next.
func (p *parent) expectEOF() {
	p.t.Helper()
	if body := p.recvRaw(); body != nil {
		var f cordpb.Frame
		proto.Unmarshal(body, &f)
		p.t.Fatalf("expected end of file, got %v", &f)
	}
}

// expectError checks that the next frame is an Error with code, then end of file.
func (p *parent) expectFatal(code Code) {
	p.t.Helper()
	e := p.recv().GetError()
	if e == nil || Code(e.Code) != code {
		p.t.Fatalf("expected Error %v, got %v", code, e)
	}
	p.expectEOF()
}

// goodbye sends the parent's Goodbye and shuts its writing direction.
func (p *parent) goodbye() {
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Goodbye{Goodbye: &cordpb.Goodbye{Reason: cordpb.Goodbye_REASON_SHUTDOWN}}})
	p.conn.CloseWrite()
}

// recvMsg waits for the child's next message.
func recvMsg(t *testing.T, c *Channel) *Message {
	t.Helper()
	ctx, cancel := contextWithLimit()
	defer cancel()
	m, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return m
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	d, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(d) - 1 // the directory's own descriptor
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// mustPipe returns a pipe's two ends. Each end still open when the test
// ends is closed then; an end the test closed itself is left alone, even
// if its number was reused meanwhile.
func mustPipe(t *testing.T) (int, int) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	for _, fd := range p {
		var st syscall.Stat_t
		syscall.Fstat(fd, &st)
		fd, ino := fd, st.Ino
		t.Cleanup(func() {
			var now syscall.Stat_t
			if syscall.Fstat(fd, &now) == nil && now.Ino == ino {
				syscall.Close(fd)
			}
		})
	}
	return p[0], p[1]
}

// shut ends a test's channel: the parent's end closes, so that Close, which
// waits for the parent's direction to end, returns.
func shut(p *parent, c *Channel) error {
	p.conn.Close()
	return c.Close()
}

// bg is a context that bounds a wait that should end on its own.
func bg() context.Context {
	ctx, cancel := contextWithLimit()
	_ = cancel // released when the limit passes; tests are short
	return ctx
}

func decodeFrame(t *testing.T, body []byte) *cordpb.Frame {
	t.Helper()
	if body == nil {
		t.Fatal("end of file where a frame was expected")
	}
	var f cordpb.Frame
	if err := proto.Unmarshal(body, &f); err != nil {
		t.Fatalf("frame does not decode: %v", err)
	}
	return &f
}

// parseHex reads "48 65 6c" into bytes.
func parseHex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for _, h := range strings.Fields(s) {
		b, err := strconv.ParseUint(h, 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, byte(b))
	}
	return out
}

// contextWithLimit is a context that bounds one wait of a test.
func contextWithLimit() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), limit)
}
