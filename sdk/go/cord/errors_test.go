// errors_test.go: the error table agrees with the spec's (section 11), and errors map to exit statuses (END-8, CHAN-7).

package cord

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// Every row of the spec's table is in the package's table with the same
// name and fatality, and the package has no row the spec lacks.
func TestErrorTableMatchesSpec(t *testing.T) {
	spec, err := os.ReadFile("../../../spec/cord-v1.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \| ([A-Z_]+) \| CORD_E[A-Z]+ \| (yes|no) \|`).FindAllSubmatch(spec, -1)
	if len(rows) < 18 {
		t.Fatalf("found %d rows of the error table in the spec", len(rows))
	}
	for _, r := range rows {
		n, _ := strconv.Atoi(string(r[1]))
		code := Code(n)
		info, ok := table[code]
		if !ok || info.name != string(r[2]) || info.fatal != (string(r[3]) == "yes") {
			t.Errorf("spec row %s %s fatal=%s; package has %+v", r[1], r[2], r[3], info)
		}
	}
	if len(table) != len(rows) {
		t.Errorf("the package has %d codes, the spec %d", len(table), len(rows))
	}
}

func TestErrorsCompareByCode(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &Error{Code: Closed, Detail: "gone"})
	if !errors.Is(err, ErrClosed) || errors.Is(err, ErrFailed) {
		t.Fatal("errors.Is does not compare codes")
	}
	if got := (&Error{Code: 10042, Remote: true, Detail: "x"}).Error(); got != "cord: application code 10042 (from the peer): x" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0}, {io.EOF, 0}, {ErrClosed, 0}, {ErrNoChannel, 64},
		{&Error{Code: Protocol}, 76}, {fmt.Errorf("x: %w", &Error{Code: Truncated}), 76},
		{&Error{Code: Timeout, Remote: true}, 76}, {errors.New("other"), 1},
	} {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
