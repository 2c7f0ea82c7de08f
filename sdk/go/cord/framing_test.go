// framing_test.go: frames (spec section 3): limits checked before reading, any split of the stream, truncation, and the memory a peer can make the reader hold.

package cord

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"cord.dev/go/internal/cordpb"
)

// FRAME-5: a prefix over max_frame fails the channel at once, with an
// Error whose detail gives L and the limit; the body is never awaited.
// FRAME-3: a prefix with the top bit set counts as over the limit.
func TestOversizedLength(t *testing.T) {
	for _, prefix := range [][]byte{{0x7f, 0xff, 0xff, 0xf0}, {0x80, 0, 0, 0}} {
		p, c := open(t, Config{MaxFrame: 1024})
		p.write(prefix)
		e := p.recv().GetError()
		if Code(e.GetCode()) != FrameTooLarge || !strings.Contains(e.Detail, "exceeds max_frame 1024") {
			t.Fatalf("Error %v", e)
		}
		p.expectEOF()
		if _, err := c.Recv(bg()); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("Recv: %v", err)
		}
	}
}

// FRAME-11: a stream written one byte at a time reads as the same frames.
func TestByteByByte(t *testing.T) {
	p, _ := pair(t, envCord)
	var stream []byte
	stream = append(stream, encode(t, helloFrame(parentHello()))...)
	for _, s := range []string{"one", "two"} {
		stream = append(stream, encode(t, &cordpb.Frame{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Payload: &cordpb.Message_Raw{Raw: []byte(s)}}}})...)
	}
	go func() {
		for i := range stream {
			p.conn.Write(stream[i : i+1])
		}
	}()
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer shut(p, c)
	for _, s := range []string{"one", "two"} {
		if m := recvMsg(t, c); string(m.Bytes()) != s {
			t.Fatalf("got %q, want %q", m.Bytes(), s)
		}
	}
}

// FRAME-12, fault injection: a valid stream cut after every byte count.
// End of file on a frame boundary is a clean end; anywhere else it is
// TRUNCATED (or, inside the Hello, the handshake's failure), with no Error
// frame, no hang and no leaked descriptor.
func TestStreamCutEverywhere(t *testing.T) {
	var stream []byte
	var boundaries []int
	frames := []*cordpb.Frame{
		helloFrame(parentHello()),
		{Body: &cordpb.Frame_Message{Message: &cordpb.Message{Id: 1, Payload: &cordpb.Message_Json{Json: `{"a":1}`}}}},
		{Body: &cordpb.Frame_Ping{Ping: &cordpb.Ping{Nonce: 5}}},
		{Body: &cordpb.Frame_Goodbye{Goodbye: &cordpb.Goodbye{}}},
	}
	for _, f := range frames {
		stream = append(stream, encode(t, f)...)
		boundaries = append(boundaries, len(stream))
	}
	before := openFDs(t)
	for cut := 0; cut <= len(stream); cut++ {
		p, _ := pair(t, envCord)
		p.write(stream[:cut])
		p.conn.CloseWrite()
		c, err := Open()
		atBoundary := cut == 0
		for _, b := range boundaries {
			atBoundary = atBoundary || cut == b
		}
		switch {
		case cut < boundaries[0]:
			if err == nil || (cut > 0 && ExitCode(err) != ExitProtocol) || (cut == 0 && !errors.Is(err, ErrClosed)) {
				t.Fatalf("cut %d inside the Hello: Open gave %v", cut, err)
			}
			p.conn.Close()
			continue
		case err != nil:
			t.Fatalf("cut %d: Open: %v", cut, err)
		}
		for {
			m, err := c.Recv(bg())
			if err == nil {
				m.Reply(m.Payload)
				continue
			}
			if atBoundary && err != io.EOF || !atBoundary && !errors.Is(err, ErrTruncated) {
				t.Fatalf("cut %d: Recv ended with %v", cut, err)
			}
			break
		}
		shut(p, c)
	}
	if after := openFDs(t); after != before {
		t.Fatalf("%d descriptors open after the cuts, %d before", after, before)
	}
}

// SEC-2: the reader's memory follows the bytes that arrived, not the size
// a prefix claims; after a large frame it gives the memory back.
func TestReaderMemoryBound(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.SetNonblock(fds[1], true)
	childEnd := os.NewFile(uintptr(fds[1]), "child")
	defer childEnd.Close()
	w := os.NewFile(uintptr(fds[0]), "parent")
	pc, _ := net.FileConn(w)
	w.Close()
	defer pc.Close()
	conn, _ := childEnd.SyscallConn()
	rd := newReader(conn, 1)

	// A prefix claims 64 MiB; 100 KiB of it arrive, then end of file.
	claim := []byte{0x04, 0, 0, 0}
	go func() {
		pc.Write(claim)
		pc.Write(make([]byte, 100<<10))
		pc.(*net.UnixConn).CloseWrite()
	}()
	_, err = rd.next(frameLimit{max: 1 << 30})
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("next: %v", err)
	}
	if len(rd.buf) > 2*(100<<10+4) {
		t.Fatalf("the reader holds %d bytes for 100 KiB received", len(rd.buf))
	}
}

// After a frame far larger than the read chunk, the buffer shrinks back.
func TestReaderGivesMemoryBack(t *testing.T) {
	p, c := open(t, Config{})
	p.message(&cordpb.Message{Payload: &cordpb.Message_Raw{Raw: make([]byte, 900<<10)}})
	p.message(&cordpb.Message{Id: 1})
	if m := recvMsg(t, c); len(m.Bytes()) != 900<<10 {
		t.Fatalf("%d bytes", len(m.Bytes()))
	}
	m := recvMsg(t, c)
	// The reader is waiting for the next frame now; its buffer was reset
	// when the big frame was consumed. Reply, so that the reader's state
	// is read after a synchronising exchange.
	m.Reply(Payload{})
	p.recv()
	p.send(&cordpb.Frame{Body: &cordpb.Frame_Ping{Ping: &cordpb.Ping{Nonce: 1}}})
	p.recv()
	p.goodbye()
	if _, err := c.Recv(bg()); err != io.EOF {
		t.Fatal(err)
	}
	<-c.readDone // the reader has returned: its buffer is ours to look at
	if len(c.rd.buf) > 4*readChunk {
		t.Fatalf("the reader kept %d bytes", len(c.rd.buf))
	}
}
