// node.go: the Node.js binding (spec section 13): newline-delimited JSON on Node's own channel.

package cord

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// nackLine is the answer to a handle this side does not accept (NODE-8).
var nackLine = []byte(`{"cmd":"NODE_HANDLE_NACK"}`)

// nodeLoop reads lines until the parent's direction ends.
func (c *Channel) nodeLoop() {
	defer close(c.readDone)
	for {
		line, err := c.rd.line(c.cfg.MaxLine)
		// No handle is accepted on the binding (NODE-8): every descriptor
		// that arrives is closed as soon as it has been read.
		c.rd.closeQueued()
		var tooLong errLineTooLong
		switch {
		case errors.As(err, &tooLong):
			c.report(errorf(FrameTooLarge, "a Node.js line was discarded: %v (NODE-6)", err))
			continue
		case err != nil:
			c.failed(err) // end of file, TRUNCATED (NODE-10), or a local close
			return
		}
		if !validJSON(line) {
			c.report(errorf(Protocol, "a Node.js line that is not JSON was discarded: %q", preview(line)))
			continue
		}
		if cmd, internal := internalCommand(line); internal {
			// NODE-7: never delivered. Node.js withholds every later
			// message until a handle is answered (NODE-8).
			if cmd == "NODE_HANDLE" {
				c.wmu.Lock()
				if c.wclosed == nil {
					_ = c.writeLine(nackLine)
				}
				c.wmu.Unlock()
			}
			continue
		}
		c.deliver(&Message{Payload: JSON(string(line))})
	}
}

// internalCommand reports whether a JSON text is an internal message of
// Node.js: an object whose "cmd" is a string longer than 5 characters
// starting with NODE_ (NODE-7), and returns that command.
func internalCommand(text []byte) (string, bool) {
	if t := bytes.TrimLeft(text, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return "", false
	}
	var obj struct {
		Cmd json.RawMessage `json:"cmd"`
	}
	if json.Unmarshal(text, &obj) != nil || len(obj.Cmd) == 0 {
		return "", false
	}
	var cmd string
	if json.Unmarshal(obj.Cmd, &cmd) != nil {
		return "", false
	}
	return cmd, len(cmd) > 5 && strings.HasPrefix(cmd, "NODE_")
}

// sendLine sends one JSON text as a Node.js line, refusing what Node.js
// would end the process for: an empty text, a raw newline, text that is
// not JSON (NODE-4), and internal commands (NODE-7).
func (c *Channel) sendLine(text []byte) error {
	switch {
	case len(text) == 0:
		return errorf(NodeUnrepresentable, "an empty line cannot go on a Node.js channel (NODE-4)")
	case bytes.IndexByte(text, '\n') >= 0:
		return errorf(NodeUnrepresentable, "a JSON text with a raw newline cannot go on a Node.js channel (NODE-4)")
	case !validJSON(text):
		return errorf(NodeUnrepresentable, "the text is not JSON (NODE-4)")
	}
	if _, internal := internalCommand(text); internal {
		return errorf(NodeUnrepresentable, "a cmd starting with NODE_ is internal to Node.js (NODE-7)")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed != nil {
		return c.wclosed
	}
	return c.writeLine(text)
}

// writeLine writes text and a newline in one write; wmu is held.
func (c *Channel) writeLine(text []byte) error {
	buf := append(append(c.wbuf[:0], text...), '\n')
	if cap(buf) <= 4*readChunk {
		c.wbuf = buf
	}
	return c.write(buf, nil)
}
