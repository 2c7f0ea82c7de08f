// reader.go: the receiving half of a channel: bounded framing (spec section 3), Node.js lines (NODE-5, NODE-6) and the descriptor queue (FD-4 to FD-9).

package cord

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// readChunk is the reader's starting buffer: one read takes at most this
// much unless a frame or line in progress needs more.
const readChunk = 64 << 10

// noted is a received descriptor and the stream position just after the
// data of the read that brought it (FD-5).
type noted struct {
	fd  int
	pos uint64
}

// reader reads one channel. Its buffer never holds more than one frame (or
// line) in progress plus what one read brought after it: a frame's body is
// read only once its prefix has been checked against the limit (FRAME-5),
// and the buffer grows with the data that arrives, never with what a
// prefix claims.
type reader struct {
	conn    syscall.RawConn
	buf     []byte
	r, w    int    // buf[r:w] is read and not yet consumed
	pos     uint64 // stream position of buf[r]
	oob     []byte // room for max_fds descriptors on every read (FD-4)
	fds     []noted
	eof     bool
	head    []byte // the first bytes of the stream, for a NOT_CORD preview
	scanned int    // lines: buf[r:r+scanned] holds no newline
	skip    bool   // lines: discarding the rest of a line that was too long
	lines   bool   // the stream is Node.js lines, not frames
}

// errFileClosed is what a read returns once Close has closed the channel.
var errFileClosed = errors.New("cord: channel closed locally")

func newReader(conn syscall.RawConn, maxFDs int) *reader {
	n := maxFDs
	if n < 1 {
		// A receiver that declares 0 still reads with room for one, so a
		// descriptor sent against the rules is received and closed rather
		// than lost with MSG_CTRUNC.
		n = 1
	}
	return &reader{conn: conn, buf: make([]byte, readChunk), oob: make([]byte, syscall.CmsgSpace(4*n))}
}

// read does one recvmsg into the free end of the buffer, notes the
// descriptors it brought, and sets eof at end of file.
func (rd *reader) read() error {
	var n, oobn, flags int
	var rerr error
	err := rd.conn.Read(func(fd uintptr) bool {
		for {
			// MSG_CMSG_CLOEXEC: descriptors are close-on-exec from their
			// first instant (FD-4, SEC-3).
			n, oobn, flags, _, rerr = syscall.Recvmsg(int(fd), rd.buf[rd.w:], rd.oob, syscall.MSG_CMSG_CLOEXEC)
			if rerr != syscall.EINTR {
				return rerr != syscall.EAGAIN
			}
		}
	})
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return errFileClosed
		}
		return err
	}
	if oobn > 0 {
		end := rd.pos + uint64(rd.w-rd.r) + uint64(max(n, 0))
		if err := rd.note(rd.oob[:oobn], end); err != nil {
			return err
		}
	}
	if flags&syscall.MSG_CTRUNC != 0 {
		return errorf(FDMismatch, "descriptors were lost: the control data was truncated (MSG_CTRUNC)")
	}
	if rerr == syscall.ECONNRESET {
		// The peer closed with data unread: end of file (END-6).
		rd.eof = true
		return nil
	}
	if rerr != nil {
		return rerr
	}
	if n == 0 {
		rd.eof = true
	}
	if len(rd.head) < 32 {
		rd.head = append(rd.head, rd.buf[rd.w:rd.w+min(n, 32-len(rd.head))]...)
	}
	rd.w += n
	return nil
}

// note queues the descriptors of one read's control data.
func (rd *reader) note(oob []byte, end uint64) error {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return errorf(FDMismatch, "unreadable control data: %v", err)
	}
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue // not SCM_RIGHTS: nothing to keep
		}
		for _, fd := range fds {
			rd.fds = append(rd.fds, noted{fd, end})
		}
	}
	return nil
}

// fill reads until at least n bytes are buffered, or end of file. The
// buffer grows by doubling with the data that arrives, up to n.
func (rd *reader) fill(n int) error {
	for rd.w-rd.r < n {
		if rd.eof {
			return io.EOF
		}
		if rd.w == len(rd.buf) {
			rd.makeRoom(n)
		}
		if err := rd.read(); err != nil {
			return err
		}
	}
	return nil
}

// makeRoom frees space at the end of a full buffer: it moves the unread
// bytes to the front, or else doubles the buffer (never beyond need).
func (rd *reader) makeRoom(need int) {
	if rd.r > 0 {
		rd.w = copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r = 0
		return
	}
	size := min(2*len(rd.buf), max(need, len(rd.buf)+1))
	grown := make([]byte, size)
	copy(grown, rd.buf[:rd.w])
	rd.buf = grown
}

// consume drops n bytes and, once the buffer is empty, gives back memory a
// large frame or line made it take.
func (rd *reader) consume(n int) {
	rd.r += n
	rd.pos += uint64(n)
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
		if len(rd.buf) > 4*readChunk {
			rd.buf = make([]byte, readChunk)
		}
	}
}

// frameLimit tells next which limit applies and what exceeding it means.
type frameLimit struct {
	max   uint32
	first bool // the first frame: over 256 bytes is NOT_CORD (HELLO-7)
}

// next returns the next frame's body, valid until the next call; io.EOF at
// end of file on a frame boundary; a fatal *Error otherwise.
func (rd *reader) next(lim frameLimit) ([]byte, error) {
	// FD-8: a descriptor noted at or before the start of this frame came
	// with data that is already consumed, and no frame can claim it.
	if len(rd.fds) > 0 && rd.fds[0].pos <= rd.pos {
		return nil, errorf(FDMismatch, "%d descriptor(s) arrived with frames that did not announce them", len(rd.fds))
	}
	if err := rd.fill(4); err != nil {
		return nil, rd.endOfFile(err)
	}
	l := binary.BigEndian.Uint32(rd.buf[rd.r:])
	if l > lim.max {
		if lim.first {
			return nil, notCord(rd.head)
		}
		return nil, errorf(FrameTooLarge, "frame of %d bytes exceeds max_frame %d", l, lim.max)
	}
	if err := rd.fill(4 + int(l)); err != nil {
		return nil, rd.endOfFile(err)
	}
	body := rd.buf[rd.r+4 : rd.r+4+int(l)]
	rd.consume(4 + int(l))
	return body, nil
}

// endOfFile turns end of file into io.EOF on a boundary and TRUNCATED
// inside a frame (FRAME-12); other errors pass through.
func (rd *reader) endOfFile(err error) error {
	if err != io.EOF {
		return err
	}
	if rd.r == rd.w && !rd.skip {
		return io.EOF
	}
	what := "frame"
	if rd.lines {
		what = "line"
	}
	return errorf(Truncated, "end of file inside a %s (%d bytes of it buffered)", what, rd.w-rd.r)
}

// errLineTooLong reports a Node.js line that did not fit (NODE-6).
type errLineTooLong struct{ limit int }

func (e errLineTooLong) Error() string { return fmt.Sprintf("line longer than %d bytes", e.limit) }

// line returns the next line of the Node.js binding without its newline,
// valid until the next call; io.EOF at end of file on a line boundary;
// errLineTooLong after discarding a line longer than limit (the channel
// goes on, NODE-6); a fatal *Error otherwise. Lines split on 0a only
// (NODE-5).
func (rd *reader) line(limit int) ([]byte, error) {
	rd.lines = true
	for {
		if i := bytes.IndexByte(rd.buf[rd.r+rd.scanned:rd.w], '\n'); i >= 0 {
			end := rd.r + rd.scanned + i
			text := rd.buf[rd.r:end]
			rd.scanned = 0
			rd.consume(end + 1 - rd.r)
			if rd.skip || len(text) > limit {
				rd.skip = false
				return nil, errLineTooLong{limit}
			}
			return text, nil
		}
		rd.scanned = rd.w - rd.r
		if rd.scanned > limit {
			// Too long: drop what there is and everything up to the
			// next newline, so memory stays bounded by the limit.
			rd.skip = true
			rd.scanned = 0
			rd.consume(rd.w - rd.r)
		}
		if rd.eof {
			return nil, rd.endOfFile(io.EOF)
		}
		if rd.w == len(rd.buf) {
			rd.makeRoom(min(limit+1, rd.w-rd.r+readChunk))
		}
		if err := rd.read(); err != nil {
			return nil, err
		}
	}
}

// take removes the n oldest descriptors of the queue (FD-6).
func (rd *reader) take(n int) ([]int, error) {
	if n > len(rd.fds) {
		return nil, errorf(FDMismatch, "a message announces %d descriptor(s) and %d arrived", n, len(rd.fds))
	}
	fds := make([]int, n)
	for i := range fds {
		fds[i] = rd.fds[i].fd
	}
	rd.fds = rd.fds[n:]
	return fds, nil
}

// closeQueued closes every descriptor still queued (FD-9).
func (rd *reader) closeQueued() {
	for _, n := range rd.fds {
		syscall.Close(n.fd)
	}
	rd.fds = nil
}

// notCord is the NOT_CORD error, with the preview of HELLO-7.
func notCord(head []byte) *Error {
	return errorf(NotCord, "the peer is not speaking Cord; its first bytes: %s", preview(head))
}

// preview shows up to 32 bytes as HELLO-7 says: each as two lowercase hex
// digits and a space, then the bytes between | with 20..7e shown as
// themselves and every other byte as a dot.
func preview(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, "%02x ", c)
	}
	s.WriteByte('|')
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		s.WriteByte(c)
	}
	s.WriteByte('|')
	return s.String()
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
