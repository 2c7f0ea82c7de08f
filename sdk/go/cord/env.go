// env.go: how a child finds its channel in its environment (spec CHAN-6 to CHAN-9, NODE-2, NODE-3).

package cord

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The environment variables a parent sets.
const (
	envCord     = "CORD_CHANNEL_FD"
	envNode     = "NODE_CHANNEL_FD"
	envNodeMode = "NODE_CHANNEL_SERIALIZATION_MODE"
)

// Binding says which wire a channel speaks.
type Binding uint8

const (
	BindingCord     Binding = iota // Cord frames (CORD_CHANNEL_FD)
	BindingNodeJSON                // Node.js's newline-delimited JSON (NODE_CHANNEL_FD, spec section 13)
)

// String returns "cord" or "node-json".
func (b Binding) String() string {
	if b == BindingNodeJSON {
		return "node-json"
	}
	return "cord"
}

// findChannel reads the channel variables, checks the descriptor they name
// (CHAN-6), removes every channel variable from the environment (CHAN-6,
// CHAN-9, NODE-2) and sets FD_CLOEXEC on the descriptor. On failure it
// returns a NO_CHANNEL error naming the variable, its value and the check
// that failed (CHAN-7, CHAN-8), and the descriptor is left untouched.
func findChannel() (int, Binding, error) {
	name, binding := envCord, BindingCord
	value, ok := os.LookupEnv(envCord)
	if !ok {
		value, ok = os.LookupEnv(envNode)
		name, binding = envNode, BindingNodeJSON
	}
	if !ok {
		return -1, 0, errorf(NoChannel, "this program is a Cord child and must be started by a Cord parent "+
			"(neither %s nor %s is set)", envCord, envNode)
	}
	if binding == BindingNodeJSON {
		if mode, set := os.LookupEnv(envNodeMode); set && mode != "json" {
			return -1, 0, errorf(NoChannel, "%s=%s: only the json serialization is supported (NODE-3)",
				envNodeMode, quoteEnv(mode))
		}
	}
	fd, why := checkChannelFD(value)
	if why != "" {
		return -1, 0, errorf(NoChannel, "%s=%s: %s", name, quoteEnv(value), why)
	}
	// Grandchildren must neither mistake the channel for theirs nor hold it
	// open: the variables go, and the descriptor closes on exec.
	for _, v := range os.Environ() {
		if k, _, _ := strings.Cut(v, "="); k == envCord || strings.HasPrefix(k, "NODE_CHANNEL_") {
			os.Unsetenv(k)
		}
	}
	syscall.CloseOnExec(fd)
	return fd, binding, nil
}

// checkChannelFD returns the descriptor a variable's value names, or why
// the value is not a usable channel (CHAN-6).
func checkChannelFD(value string) (int, string) {
	if value == "" || strings.Trim(value, "0123456789") != "" {
		return -1, "not a decimal number"
	}
	if len(value) > 1 && value[0] == '0' {
		return -1, "not a decimal number (leading zero)"
	}
	fd, err := strconv.Atoi(value)
	if err != nil || fd > 1<<30 {
		return -1, "not a descriptor number"
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return -1, "not an open descriptor (" + err.Error() + ")"
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return -1, "not a socket"
	}
	if dom, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_DOMAIN); err != nil || dom != syscall.AF_UNIX {
		return -1, "not an AF_UNIX socket"
	}
	if typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE); err != nil || typ != syscall.SOCK_STREAM {
		return -1, "not a SOCK_STREAM socket"
	}
	return fd, ""
}

// quoteEnv shows an environment value in an error message, escaped and
// bounded like any text that comes from outside.
func quoteEnv(v string) string { return strconv.Quote(peerText(v, 64)) }
