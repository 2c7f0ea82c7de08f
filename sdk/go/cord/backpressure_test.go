// backpressure_test.go: a child that does not take its messages holds a bounded number of them, and the socket holds back the parent (FLOW-2, SEC-2).

package cord

import (
	"errors"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"cord.dev/go/internal/cordpb"
)

// With Recv not called, the channel stops reading once Inbox messages
// wait: what it took from the socket is then bounded by the inbox and one
// read, whatever the parent wrote. Taking the messages lets the rest in.
func TestInboxBoundsWhatIsRead(t *testing.T) {
	full := make(chan struct{}, 1)
	p, c := open(t, Config{Inbox: 4, inboxFull: func() {
		select {
		case full <- struct{}{}:
		default:
		}
	}})
	child := childFD(t, c)
	frame := encode(t, &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Payload: &cordpb.Message_Raw{Raw: make([]byte, 1000)}}}})
	raw, err := p.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	// Write without blocking until the socket refuses more.
	sent := 0
	for {
		var werr error
		raw.Write(func(fd uintptr) bool {
			_, werr = syscall.Write(int(fd), frame)
			return true
		})
		if errors.Is(werr, syscall.EAGAIN) {
			break
		}
		if werr != nil {
			t.Fatal(werr)
		}
		sent += len(frame)
		if sent > 64<<20 {
			t.Fatalf("the parent wrote %d bytes without being held back", sent)
		}
	}
	select {
	case <-full:
	case <-time.After(limit):
		t.Fatal("the reader never waited for room in the inbox")
	}
	// The reader waits now: what it consumed is what was sent less what the
	// socket still holds.
	var unread int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(child), fionread, uintptr(unsafe.Pointer(&unread))); e != 0 {
		t.Fatal(e)
	}
	consumed := sent - int(unread)
	if bound := 5*len(frame) + readChunk; consumed > bound {
		t.Fatalf("the reader consumed %d bytes with the inbox full (bound %d)", consumed, bound)
	}
	for n := 0; n < sent/len(frame); n++ {
		recvMsg(t, c)
	}
}

// fionread is Linux's ioctl for the bytes waiting in a socket (SIOCINQ).
const fionread = 0x541B

// childFD returns the channel's descriptor number.
func childFD(t *testing.T, c *Channel) int {
	fd := -1
	rc, _ := c.SyscallConn()
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}
