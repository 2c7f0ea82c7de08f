// Command bench-child is the Go SDK's bench child: it counts one-way messages, answers `count` and `send N SIZE`, and echoes every other request.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"cord.dev/go/cord"
)

// batch is how many one-way messages `send` hands to one SendAll.
const batch = 256

func main() {
	ch, err := cord.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-child:", err)
		os.Exit(cord.ExitCode(err))
	}
	err = serve(ch)
	if cerr := ch.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-child:", err)
	}
	os.Exit(cord.ExitCode(err))
}

func serve(ch *cord.Channel) error {
	ctx := context.Background()
	count := 0
	for {
		m, err := ch.Recv(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !m.IsRequest() {
			count++
			continue
		}
		text := ""
		if m.Kind() == cord.KindRaw {
			text = string(m.Bytes())
		}
		switch {
		case text == "count":
			err = m.Reply(cord.Raw(strconv.AppendInt(nil, int64(count), 10)))
			count = 0
		case strings.HasPrefix(text, "send "):
			err = send(ch, m, text)
		default:
			err = m.Reply(m.Payload)
		}
		if err != nil {
			return err
		}
	}
}

// send answers `send N SIZE`: N one-way raw messages of SIZE bytes, written
// in batches, then the reply.
func send(ch *cord.Channel, m *cord.Message, text string) error {
	var n, size int
	if _, err := fmt.Sscanf(text, "send %d %d", &n, &size); err != nil || n < 0 || size < 0 {
		return m.Fail(cord.Unsupported, cord.Payload{})
	}
	payload := cord.Raw(make([]byte, size))
	ps := make([]cord.Payload, batch)
	for i := range ps {
		ps[i] = payload
	}
	for n > 0 {
		k := n
		if k > batch {
			k = batch
		}
		if err := ch.SendAll(ps[:k]...); err != nil {
			return err
		}
		n -= k
	}
	return m.Reply(cord.Payload{})
}
