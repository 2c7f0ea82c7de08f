// env_test.go: finding the channel in the environment (CHAN-6 to CHAN-9, NODE-2, NODE-3).

package cord

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// openFails checks that Open fails with NO_CHANNEL, a message containing
// want, and the exit status 64.
func openFails(t *testing.T, want string) {
	t.Helper()
	c, err := Open()
	if err == nil {
		c.Close()
		t.Fatal("Open succeeded")
	}
	if !errors.Is(err, ErrNoChannel) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open: %v, want NO_CHANNEL with %q", err, want)
	}
	if ExitCode(err) != ExitUsage {
		t.Fatalf("ExitCode = %d, want 64", ExitCode(err))
	}
}

func TestNoVariable(t *testing.T) {
	_, child := pair(t, envCord)
	defer syscall.Close(child)
	os.Unsetenv(envCord)
	openFails(t, "must be started by a Cord parent")
}

func TestNotANumber(t *testing.T) {
	_, child := pair(t, envCord)
	defer syscall.Close(child)
	for _, v := range []string{"03x", "", "+3", " 3", "-1", "0" + itoa(child)} {
		t.Setenv(envCord, v)
		openFails(t, "CORD_CHANNEL_FD=")
	}
}

func TestNotAnOpenDescriptor(t *testing.T) {
	_, child := pair(t, envCord)
	defer syscall.Close(child)
	t.Setenv(envCord, "999999")
	openFails(t, "not an open descriptor")
}

func TestPipeIsNotAChannel(t *testing.T) {
	_, child := pair(t, envCord)
	defer syscall.Close(child)
	r, _ := mustPipe(t)
	t.Setenv(envCord, itoa(r))
	openFails(t, "not a socket")
}

func TestDatagramSocketIsNotAChannel(t *testing.T) {
	_, child := pair(t, envCord)
	defer syscall.Close(child)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFDs(fds[:])
	t.Setenv(envCord, itoa(fds[1]))
	openFails(t, "not a SOCK_STREAM socket")
}

func TestAdvancedSerializationRefused(t *testing.T) {
	_, child := pair(t, envNode)
	defer syscall.Close(child)
	t.Setenv(envNodeMode, "advanced")
	openFails(t, "only the json serialization")
}

// The variables go and the descriptor closes on exec (CHAN-6); with both
// variables set, Cord's wins and both go (CHAN-9).
func TestVariablesRemovedAndCloseOnExec(t *testing.T) {
	p, child := pair(t, envCord)
	t.Setenv(envNode, itoa(child))
	t.Setenv(envNodeMode, "json")
	// The parent's end is close-on-exec; the child's is made inheritable,
	// as a parent leaves it, so that Open has something to change.
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(child), syscall.F_SETFD, 0); e != 0 {
		t.Fatal(e)
	}
	p.send(helloFrame(parentHello()))
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer shut(p, c)
	if c.Binding() != BindingCord {
		t.Fatalf("binding %v, want cord", c.Binding())
	}
	for _, v := range os.Environ() {
		if strings.HasPrefix(v, "CORD_CHANNEL_FD=") || strings.HasPrefix(v, "NODE_CHANNEL_") {
			t.Errorf("still in the environment: %s", v)
		}
	}
	flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(child), syscall.F_GETFD, 0)
	if e != 0 || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("the channel is not close-on-exec (flags %d, %v)", flags, e)
	}
}

func TestBadConfigRefused(t *testing.T) {
	for _, cfg := range []Config{{MaxFrame: 255}, {MaxFDs: 65}, {Inbox: -1}, {MaxLine: -1}} {
		if _, err := cfg.Open(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: Open gave %v, want ErrInvalid", cfg, err)
		}
	}
}
