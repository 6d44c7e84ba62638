package goroutine

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"c10k/models/modeltest"
)

// TestListenerReuseAddr checks what New's comment relies on: Go's
// net.Listen sets SO_REUSEADDR on Linux.
func TestListenerReuseAddr(t *testing.T) {
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rc, err := s.ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	if v == 0 {
		t.Fatal("SO_REUSEADDR is not set on the listener")
	}
}

func TestServeTwice(t *testing.T) {
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Serve(t, s)
	if err := s.Serve(); !errors.Is(err, ErrServing) {
		t.Fatalf("second Serve = %v, want ErrServing", err)
	}
}

func TestIsResourceError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "happy emfile", err: &net.OpError{Op: "accept", Err: syscall.EMFILE}, want: true},
		{name: "happy enfile", err: syscall.ENFILE, want: true},
		{name: "sad closed", err: net.ErrClosed, want: false},
		{name: "sad other", err: syscall.EINVAL, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isResourceError(tt.err); got != tt.want {
				t.Fatalf("isResourceError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
