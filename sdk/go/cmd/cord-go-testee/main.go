// Command cord-go-testee is the Go child SDK's conformance testee: a child that follows the testee contract of conformance/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"cord.dev/go/cord"
)

// commandType is the type name of a command (contract: Commands).
const commandType = "cord.conformance.Command"

func main() {
	ch, err := cord.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cord-go-testee:", err)
		os.Exit(cord.ExitCode(err))
	}
	if ch.Binding() == cord.BindingNodeJSON {
		err = serveNode(ch)
	} else {
		err = serve(ch)
	}
	os.Exit(cord.ExitCode(err))
}

// waiting counts the `request` and `ping` commands still waiting for their
// answer: when the parent's direction ends the SDK fails them CLOSED (spec
// REQ-9, PING-7), and they answer so (T-5) before Close answers whatever is
// left CANCELLED.
var waiting sync.WaitGroup

// serve runs the contract on a Cord channel until the parent's direction
// ends, then closes the channel (T-5) and returns what ended it.
func serve(ch *cord.Channel) error {
	ctx := context.Background()
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			waiting.Wait()
			if cerr := ch.Close(); cerr != nil || err == io.EOF {
				return cerr
			}
			return err
		}
		if m.IsRequest() && m.Kind() == cord.KindTyped && m.TypeName() == commandType {
			if done := command(ch, m); done {
				return ch.Close()
			}
			continue
		}
		echo(ch, m)
	}
}

// echo answers data as T-1 and T-2 say: the payload, and the descriptors
// that came with it.
func echo(ch *cord.Channel, m *cord.Message) {
	defer closeAll(m.Files)
	if !m.IsRequest() {
		report(ch.Send(m.Payload, m.Files...))
		return
	}
	err := m.Reply(m.Payload, m.Files...)
	if errors.Is(err, cord.ErrTooBig) {
		err = m.Fail(cord.Failed, cord.Payload{})
	}
	report(err)
}

// command carries out one command (T-3); it returns true for goodbye.
func command(ch *cord.Channel, m *cord.Message) bool {
	word, arg, _ := strings.Cut(string(m.Bytes()), " ")
	switch word {
	case "send":
		n, kind, _ := strings.Cut(arg, " ")
		count, err := strconv.Atoi(n)
		if err != nil || count < 0 {
			report(m.Fail(cord.Unsupported, cord.Payload{}))
			return false
		}
		ps := make([]cord.Payload, count)
		for i := range ps {
			ps[i] = numbered(kind, i+1)
		}
		report(ch.SendAll(ps...))
		report(m.Reply(cord.Payload{}))
	case "request":
		waiting.Add(1)
		go func() {
			defer waiting.Done()
			r, err := ch.Request(context.Background(), cord.Raw([]byte("q")))
			var e *cord.Error
			switch {
			case err == nil:
				closeAll(r.Files)
				report(m.Reply(r.Payload))
			case errors.As(err, &e) && e.Remote:
				closeAll(e.Reply.Files)
				if err := m.Fail(e.Code, e.Reply.Payload); errors.Is(err, cord.ErrInvalid) {
					// A status this side may not send (ERR-2) comes back as FAILED (T-3).
					report(m.Fail(cord.Failed, cord.Payload{}))
				} else {
					report(err)
				}
			default:
				report(m.Fail(cord.Closed, cord.Payload{}))
			}
		}()
	case "hold":
		go func() {
			<-m.Context().Done()
			// Fails harmlessly when the channel ended instead of a Cancel.
			_ = m.Fail(cord.Cancelled, cord.Payload{})
		}()
	case "fail":
		code, err := strconv.ParseUint(arg, 10, 32)
		if err != nil {
			report(m.Fail(cord.Unsupported, cord.Payload{}))
			return false
		}
		if err := m.Fail(cord.Code(code), cord.Payload{}); errors.Is(err, cord.ErrInvalid) {
			// A code the spec forbids on the wire (ERR-2).
			report(m.Fail(cord.Failed, cord.Payload{}))
		}
	case "ping":
		waiting.Add(1)
		go func() {
			defer waiting.Done()
			if err := ch.Ping(context.Background()); err != nil {
				report(m.Fail(cord.Closed, cord.Payload{}))
				return
			}
			report(m.Reply(cord.Payload{}))
		}()
	case "fds":
		report(m.Reply(cord.Payload{}, m.Files...))
		closeAll(m.Files)
	case "env":
		report(m.Reply(envReport(ch)))
	case "goodbye":
		report(m.Reply(cord.Payload{}))
		return true
	case "exit":
		code, err := strconv.Atoi(arg)
		if err != nil {
			report(m.Fail(cord.Unsupported, cord.Payload{}))
			return false
		}
		report(m.Reply(cord.Payload{}))
		os.Exit(code) // every write is done when Reply returns (END-7)
	default:
		report(m.Fail(cord.Unsupported, cord.Payload{}))
	}
	return false
}

// numbered is the i-th message of "send N KIND".
func numbered(kind string, i int) cord.Payload {
	switch kind {
	case "raw":
		return cord.Raw([]byte(strconv.Itoa(i)))
	case "typed":
		return cord.TypedBytes("cord.conformance.Seq", []byte(strconv.Itoa(i)))
	}
	return cord.JSON(fmt.Sprintf(`{"i":%d}`, i))
}

// envReport is the answer to "env".
func envReport(ch *cord.Channel) cord.Payload {
	left := false
	for _, v := range os.Environ() {
		if strings.HasPrefix(v, "CORD_CHANNEL_FD=") || strings.HasPrefix(v, "NODE_CHANNEL_") {
			left = true
		}
	}
	cloexec := false
	if rc, err := ch.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFD, 0)
			cloexec = e == 0 && flags&syscall.FD_CLOEXEC != 0
		})
	}
	p, _ := cord.MarshalJSON(map[string]bool{"channel_env": left, "cloexec": cloexec})
	return p
}

// serveNode runs the contract's Node.js binding part.
func serveNode(ch *cord.Channel) error {
	ctx := context.Background()
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			ch.Close()
			return err
		}
		var cmd struct {
			Conformance *string `json:"conformance"`
		}
		if json.Unmarshal(m.Bytes(), &cmd) != nil || cmd.Conformance == nil {
			report(ch.Send(m.Payload))
			continue
		}
		word, arg, _ := strings.Cut(*cmd.Conformance, " ")
		switch word {
		case "send":
			n, _, _ := strings.Cut(arg, " ") // "send N" or "send N json"
			count, _ := strconv.Atoi(n)
			for i := 1; i <= count; i++ {
				report(ch.Send(numbered("json", i)))
			}
		case "env":
			report(ch.Send(envReport(ch)))
		}
		report(ch.Send(cord.JSON(fmt.Sprintf(`{"done":%q}`, word))))
		if word == "exit" {
			code, _ := strconv.Atoi(arg)
			os.Exit(code)
		}
	}
}

// report writes a failed send to standard error; the channel reports its
// own end through Recv.
func report(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "cord-go-testee:", err)
	}
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
