// Command worker is the Go example worker: typed jobs, JSON requests and descriptors, forked by the C parent in the tests.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"cord.dev/go/cord"
	"cord.dev/go/examples/worker/jobpb"
)

func main() {
	ch, err := cord.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(cord.ExitCode(err))
	}
	err = serve(ch)
	if cerr := ch.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
	}
	os.Exit(cord.ExitCode(err))
}

// serve answers the parent until its direction ends.
func serve(ch *cord.Channel) error {
	seen := 0
	for {
		m, err := ch.Recv(context.Background())
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !m.IsRequest() {
			// One-way messages are counted, and the count goes back.
			seen++
			if err := ch.Send(cord.JSON(fmt.Sprintf(`{"seen":%d}`, seen))); err != nil {
				return err
			}
			continue
		}
		if err := answer(m); err != nil {
			return err
		}
	}
}

// answer replies to one request according to its payload.
func answer(m *cord.Message) error {
	defer closeAll(m.Files) // descriptors passed with a request are this process's to close
	switch {
	case m.Kind() == cord.KindTyped:
		var job jobpb.Job
		if err := m.Unmarshal(&job); err != nil {
			return m.Fail(cord.Unsupported, cord.JSON(fmt.Sprintf("%q", err.Error())))
		}
		res := &jobpb.Result{Name: job.Name}
		for _, n := range job.Numbers {
			res.Sum += n
		}
		p, err := cord.Typed(res)
		if err != nil {
			return err
		}
		return m.Reply(p)
	case m.Kind() == cord.KindJSON:
		var req struct{ Upper string }
		if err := m.DecodeJSON(&req); err != nil {
			return m.Fail(cord.Failed, cord.JSON(`"not a request this worker knows"`))
		}
		p, err := cord.MarshalJSON(map[string]string{"upper": strings.ToUpper(req.Upper)})
		if err != nil {
			return err
		}
		return m.Reply(p)
	case string(m.Bytes()) == "write" && len(m.Files) == 1:
		// The parent passed a descriptor: write into it.
		if _, err := io.WriteString(m.Files[0], "written by the Go worker\n"); err != nil {
			return m.Fail(cord.Failed, cord.Raw([]byte(err.Error())))
		}
		return m.Reply(cord.Raw([]byte("written")))
	case string(m.Bytes()) == "pipe":
		// A descriptor the other way: the read end of a pipe that already
		// holds a line. The parent gets its own copy; this one is closed.
		r, w, err := os.Pipe()
		if err != nil {
			return m.Fail(cord.Failed, cord.Raw([]byte(err.Error())))
		}
		io.WriteString(w, "read from the Go worker's pipe\n")
		w.Close()
		defer r.Close()
		return m.Reply(cord.Raw([]byte("pipe")), r)
	}
	return m.Fail(cord.Unsupported, cord.Payload{})
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
