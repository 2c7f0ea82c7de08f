// fds_test.go: descriptor passing (spec section 8): order, close-on-exec, stray and missing descriptors, and no leak.

package cord

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"cord.dev/go/internal/cordpb"
)

// Two descriptors arrive with their message in order, close-on-exec (FD-4,
// FD-6), and go back with a reply beside its first byte (FD-3); the sender's
// copies stay open (FD-10).
func TestDescriptorsBothWays(t *testing.T) {
	p, c := open(t, Config{})
	r1, w1 := mustPipe(t)
	r2, w2 := mustPipe(t)
	p.message(&cordpb.Message{Id: 1, Fds: 2}, w1, w2)
	m := recvMsg(t, c)
	if len(m.Files) != 2 {
		t.Fatalf("%d files", len(m.Files))
	}
	for i, f := range m.Files {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFD, 0)
		if e != 0 || flags&syscall.FD_CLOEXEC == 0 {
			t.Errorf("file %d is not close-on-exec", i)
		}
	}
	m.Files[0].WriteString("one")
	m.Files[1].WriteString("two")
	if err := m.Reply(Raw([]byte("back")), m.Files[1], m.Files[0]); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if _, err := f.Stat(); err != nil {
			t.Errorf("the sender's copy was closed: %v", err)
		}
		f.Close()
	}
	r := p.recv().GetMessage()
	if r.ReplyTo != 1 || r.Fds != 2 || len(p.fds) != 2 {
		t.Fatalf("reply %v with %d descriptors", r, len(p.fds))
	}
	// They came back in the order given: the second pipe first.
	back := p.fds
	p.fds = nil
	syscall.Close(w1)
	syscall.Close(w2)
	syscall.Write(back[0], []byte("!"))
	closeFDs(back)
	if got := readAll(t, r2); got != "two!" {
		t.Errorf("second pipe held %q", got)
	}
	if got := readAll(t, r1); got != "one" {
		t.Errorf("first pipe held %q", got)
	}
}

func readAll(t *testing.T, fd int) string {
	t.Helper()
	dup, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "pipe")
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FD-1: more descriptors than the parent accepts are refused locally.
func TestTooManyDescriptorsToSend(t *testing.T) {
	_, c := open(t, Config{})
	files := make([]*os.File, 9)
	for i := range files {
		files[i] = os.Stdin
	}
	if err := c.Send(Raw(nil), files...); !errors.Is(err, ErrTooBig) {
		t.Fatalf("Send: %v", err)
	}
}

// fdFailure sends what a test gives and checks that the channel fails with
// FD_MISMATCH and that no received descriptor stays open (FD-9).
func fdFailure(t *testing.T, cfg Config, send func(p *parent, w int)) {
	t.Helper()
	before := openFDs(t)
	p, c := open(t, cfg)
	_, w := mustPipe(t)
	send(p, w)
	p.expectFatal(FDMismatch)
	for {
		m, err := c.Recv(bg())
		if err != nil {
			if !errors.Is(err, ErrFDMismatch) {
				t.Fatalf("Recv: %v", err)
			}
			break
		}
		m.closeFiles()
	}
	shut(p, c)
	// The pipe, the pair's two ends: all this test opened. Anything more is
	// a received descriptor that was not closed.
	if after := openFDs(t); after > before+2 {
		t.Fatalf("%d descriptors open after, %d before: a received descriptor leaked", after, before)
	}
}

// FD-7: a message announcing more descriptors than arrived.
func TestAnnouncedDescriptorMissing(t *testing.T) {
	fdFailure(t, Config{}, func(p *parent, w int) {
		p.message(&cordpb.Message{Fds: 1, Payload: &cordpb.Message_Json{Json: "1"}})
	})
}

// FD-8: a descriptor with a message that announces none, then a frame.
func TestStrayDescriptor(t *testing.T) {
	fdFailure(t, Config{}, func(p *parent, w int) {
		// Both frames in one write: a second write could meet the end of a
		// child that has already failed on the first (EPIPE).
		first := encode(p.t, &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Payload: &cordpb.Message_Json{Json: `"stray"`}}}})
		second := encode(p.t, &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Payload: &cordpb.Message_Json{Json: "2"}}}})
		p.write(append(first, second...), w)
	})
}

// FD-7: a message announcing more than this side's max_fds.
func TestMoreThanMaxFDsAnnounced(t *testing.T) {
	fdFailure(t, Config{MaxFDs: 1}, func(p *parent, w int) {
		p.message(&cordpb.Message{Fds: 2}, w, w)
	})
}

// FD-7: more descriptors in one write than the control buffer holds
// (MSG_CTRUNC); those that did arrive are closed.
func TestControlDataTruncated(t *testing.T) {
	fdFailure(t, Config{MaxFDs: 1}, func(p *parent, w int) {
		fds := make([]int, 8)
		for i := range fds {
			fds[i] = w
		}
		p.message(&cordpb.Message{Fds: 8}, fds...)
	})
}

// Descriptors of a discarded reply are closed (FD-9).
func TestDescriptorsOfDiscardedReplyClosed(t *testing.T) {
	p, c := open(t, Config{})
	r, w := mustPipe(t)
	p.message(&cordpb.Message{ReplyTo: 5, Fds: 1}, w)
	if e := p.recv().GetError(); Code(e.GetCode()) != UnknownRequest {
		t.Fatalf("expected UNKNOWN_REQUEST, got %v", e)
	}
	syscall.Close(w)
	// The pipe ends only if the child closed its copy of the write end.
	if got := readAll(t, r); got != "" {
		t.Fatalf("read %q", got)
	}
	_ = c
}
