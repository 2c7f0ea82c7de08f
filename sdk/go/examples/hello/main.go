// Command hello is the smallest useful Cord child in Go: it answers every request with its own payload.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"cord.dev/go/cord"
)

func main() {
	ch, err := cord.Open() // finds the channel and exchanges Hellos
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(cord.ExitCode(err)) // 64 when started without a channel
	}
	for {
		m, err := ch.Recv(context.Background())
		if err != nil { // io.EOF: the parent is done; otherwise a fatal error
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "hello:", err)
			}
			break
		}
		if m.IsRequest() {
			if err := m.Reply(m.Payload); err != nil {
				fmt.Fprintln(os.Stderr, "hello:", err)
			}
		}
	}
	// Close says Goodbye and waits for the parent's end; its error (nil
	// after a clean end) gives the exit status the spec asks for.
	os.Exit(cord.ExitCode(ch.Close()))
}
