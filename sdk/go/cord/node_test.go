// node_test.go: the Node.js binding (spec section 13): lines, internal messages, handles, and what cannot be sent.

package cord

import (
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
)

// openNode starts a channel on the Node.js binding.
func openNode(t *testing.T, cfg Config) (*parent, *Channel) {
	t.Helper()
	p, _ := pair(t, envNode)
	t.Setenv(envNodeMode, "json")
	c, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	if c.Binding() != BindingNodeJSON {
		t.Fatalf("binding %v", c.Binding())
	}
	t.Cleanup(func() { shut(p, c) })
	return p, c
}

// readLine reads the child's next line (without its newline).
func (p *parent) readLine() string {
	p.t.Helper()
	for {
		if i := strings.IndexByte(string(p.buf), '\n'); i >= 0 {
			line := string(p.buf[:i])
			p.buf = p.buf[i+1:]
			return line
		}
		if !p.fill(len(p.buf) + 1) {
			p.t.Fatalf("end of file after %q", p.buf)
		}
	}
}

// NODE-5: lines split on 0a only, across writes, U+2028 kept, 0d kept.
func TestNodeLines(t *testing.T) {
	p, c := openNode(t, Config{})
	p.write([]byte("{\"s\":\"a\u2028b\"}\n[1,"))
	p.write([]byte("\"caf\xc3"))
	p.write([]byte("\xa9\"]\r\n42\n"))
	for _, want := range []string{"{\"s\":\"a\u2028b\"}", "[1,\"caf\u00e9\"]\r", "42"} {
		if m := recvMsg(t, c); m.Text() != want {
			t.Fatalf("got %q, want %q", m.Text(), want)
		}
	}
	if err := c.Send(JSON(`{"x":"` + "\u2028" + `"}`)); err != nil {
		t.Fatal(err)
	}
	if got := p.readLine(); got != `{"x":"`+"\u2028"+`"}` {
		t.Fatalf("line %q", got)
	}
}

// A line that is not JSON is reported and skipped.
func TestNodeLineNotJSON(t *testing.T) {
	var reported []error
	p, c := openNode(t, Config{OnError: func(err error) { reported = append(reported, err) }})
	p.write([]byte("not json\n1\n"))
	if m := recvMsg(t, c); m.Text() != "1" || len(reported) != 1 || !errors.Is(reported[0], ErrProtocol) {
		t.Fatalf("got %q, reported %v", m.Text(), reported)
	}
}

// NODE-6: a line over MaxLine is dropped and reported as FRAME_TOO_LARGE;
// the channel goes on with the next line.
func TestNodeLineTooLong(t *testing.T) {
	var reported []error
	p, c := openNode(t, Config{MaxLine: 1000, OnError: func(err error) { reported = append(reported, err) }})
	long := `"` + strings.Repeat("L", 5000) + `"`
	go func() {
		p.write([]byte(long[:2500]))
		p.write([]byte(long[2500:] + "\n" + `{"probe":1}` + "\n"))
	}()
	if m := recvMsg(t, c); m.Text() != `{"probe":1}` {
		t.Fatalf("got %q", m.Text())
	}
	if len(reported) != 1 || !errors.Is(reported[0], ErrFrameTooLarge) {
		t.Fatalf("reported %v", reported)
	}
}

// NODE-7: internal messages are not delivered. NODE-8: a handle is
// answered with NACK and its descriptor closed.
func TestNodeInternalMessagesAndHandles(t *testing.T) {
	p, c := openNode(t, Config{})
	r, w := mustPipe(t)
	p.write([]byte(`{"cmd":"NODE_SOMETHING","x":1}`+"\n"), w)
	p.write([]byte(`{"cmd":"NODE_HANDLE","type":"net.Native","msg":{}}`+"\n"), w)
	p.write([]byte(`{"cmd":"NODE_"}` + "\n" + `{"probe":2}` + "\n"))
	if got := p.readLine(); got != `{"cmd":"NODE_HANDLE_NACK"}` {
		t.Fatalf("line %q", got)
	}
	if m := recvMsg(t, c); m.Text() != `{"cmd":"NODE_"}` {
		t.Fatalf("got %q (a cmd of exactly NODE_ is not internal)", m.Text())
	}
	if m := recvMsg(t, c); m.Text() != `{"probe":2}` {
		t.Fatalf("got %q", m.Text())
	}
	syscall.Close(w)
	if got := readAll(t, r); got != "" {
		t.Fatalf("read %q", got)
	}
}

// NODE-4, NODE-7, NODE-9: what Node.js cannot take is refused, nothing sent.
func TestNodeRefusals(t *testing.T) {
	p, c := openNode(t, Config{})
	for name, err := range map[string]error{
		"empty":    c.Send(JSON("")),
		"newline":  c.Send(JSON("[1,\n2]")),
		"not JSON": c.Send(JSON("{")),
		"internal": c.Send(JSON(`{"cmd":"NODE_HANDLE_ACK"}`)),
		"raw":      c.Send(Raw([]byte("x"))),
		"ping":     c.Ping(bg()),
	} {
		if !errors.Is(err, ErrNodeUnrepresentable) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Request(bg(), JSON("1")); !errors.Is(err, ErrNodeUnrepresentable) {
		t.Errorf("request: %v", err)
	}
	c.Send(JSON(`"only this"`))
	if got := p.readLine(); got != `"only this"` {
		t.Fatalf("line %q", got)
	}
}

// NODE-10: end of file is the end; a partial line at end of file is
// TRUNCATED, a fatal error.
func TestNodeEnd(t *testing.T) {
	p, c := openNode(t, Config{})
	p.conn.CloseWrite()
	if _, err := c.Recv(bg()); err != io.EOF {
		t.Fatalf("Recv: %v", err)
	}
	p2, c2 := openNode(t, Config{})
	p2.write([]byte(`{"partial":`))
	p2.conn.CloseWrite()
	_, err := c2.Recv(bg())
	if !errors.Is(err, ErrTruncated) || ExitCode(err) != ExitProtocol {
		t.Fatalf("Recv: %v", err)
	}
}
