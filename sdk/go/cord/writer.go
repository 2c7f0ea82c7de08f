// writer.go: the sending half of a channel: whole frames, descriptors beside their first byte (FD-3), one writer at a time (FRAME-10).

package cord

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"cord.dev/go/internal/cordpb"
)

// send writes one frame, with files passed beside its first byte.
func (c *Channel) send(f *cordpb.Frame, files []*os.File) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.sendLocked(f, files)
}

// sendLocked is send with wmu held. A frame larger than the parent
// accepts, or more descriptors than it accepts, is refused with TOO_BIG
// and nothing of it is written (FRAME-2, FD-1).
func (c *Channel) sendLocked(f *cordpb.Frame, files []*os.File) error {
	if c.wclosed != nil {
		return c.wclosed
	}
	if len(files) > 0 && uint32(len(files)) > c.peer.MaxFDs {
		return errorf(TooBig, "%d descriptors exceed the parent's max_fds %d (FD-1)", len(files), c.peer.MaxFDs)
	}
	buf, err := c.appendFrame(c.wbuf[:0], f)
	if err != nil {
		return err
	}
	if cap(buf) <= 4*readChunk {
		c.wbuf = buf // a large frame's buffer is not kept
	}
	if len(files) == 0 {
		return c.write(buf, nil)
	}
	fds := make([]int, len(files))
	for i, file := range files {
		// SyscallConn, unlike Fd, leaves the file's blocking mode alone.
		rc, err := file.SyscallConn()
		if err != nil {
			return fmt.Errorf("%w: file %d cannot be passed: %v", ErrInvalid, i, err)
		}
		if err := rc.Control(func(fd uintptr) { fds[i] = int(fd) }); err != nil {
			return fmt.Errorf("%w: file %d cannot be passed: %v", ErrInvalid, i, err)
		}
	}
	err = c.write(buf, syscall.UnixRights(fds...))
	runtime.KeepAlive(files) // the descriptors stay open until sendmsg has taken them
	return err
}

// appendFrame appends f's prefix and body to buf, refusing a body larger
// than the parent's max_frame (FRAME-2).
func (c *Channel) appendFrame(buf []byte, f *cordpb.Frame) ([]byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	n := len(buf) - start - 4
	if uint64(n) > uint64(c.peer.MaxFrame) {
		return nil, errorf(TooBig, "a frame of %d bytes exceeds the parent's max_frame %d (FRAME-2)", n, c.peer.MaxFrame)
	}
	binary.BigEndian.PutUint32(buf[start:], uint32(n))
	return buf, nil
}

// write writes b whole, with oob (the SCM_RIGHTS control message, if any)
// attached to the call that carries b's first byte and to no other
// (FD-3). It blocks while the socket is full; a child may (FLOW-2). A
// closed peer (EPIPE, ECONNRESET) ends this side's direction (END-6); the
// Go runtime turns SIGPIPE into EPIPE for every descriptor but 1 and 2,
// and MSG_NOSIGNAL makes sure of it.
func (c *Channel) write(b, oob []byte) error {
	sent := 0
	var werr error
	err := c.conn.Write(func(fd uintptr) bool {
		for sent < len(b) {
			var n int
			var e error
			if sent == 0 && oob != nil {
				n, e = syscall.SendmsgN(int(fd), b, oob, nil, syscall.MSG_NOSIGNAL)
			} else {
				n, e = syscall.SendmsgN(int(fd), b[sent:], nil, nil, syscall.MSG_NOSIGNAL)
			}
			switch e {
			case nil:
				sent += n
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				werr = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		return nil
	}
	// The direction is over: nothing more can be written after a part of a
	// frame, and a closed peer reads nothing more.
	c.wclosed = errorf(Closed, "writing the channel failed: %v", err)
	return c.wclosed
}

// unmarshal decodes a frame body that has the one reading of spec FRAME-14
// and FRAME-15 (reading.go); any other is not a Frame (FRAME-6).
func unmarshal(body []byte, f *cordpb.Frame) error {
	if bad := checkReading(body); bad != "" {
		return errors.New(bad)
	}
	return proto.Unmarshal(body, f)
}

// validJSON reports whether b is one JSON text in valid UTF-8.
func validJSON(b []byte) bool { return utf8.Valid(b) && json.Valid(b) }
