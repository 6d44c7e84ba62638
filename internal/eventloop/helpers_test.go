package eventloop

import (
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// running starts l.Run on its own goroutine and returns a function that runs
// f on the loop (through Post) and waits for it. The test stops and closes
// the loop at cleanup.
func running(t testing.TB, l *Loop) (onLoop func(f func())) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	t.Cleanup(func() {
		l.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after Stop")
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return func(f func()) {
		t.Helper()
		ran := make(chan struct{})
		l.Post(func() { f(); close(ran) })
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatal("loop did not run the call")
		}
	}
}

// newLoop creates a loop; running (or the test) must close it.
func newLoop(t testing.TB) *Loop {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// socketPair returns a non-blocking fd for the loop and the other end as a
// net.Conn for the test, closed at cleanup.
func socketPair(t testing.TB) (fd int, peer net.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[1]), "peer")
	peer, err = net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return fds[0], peer
}

// recorder is a protocol that records what it sees and consumes according
// to its consume function (everything by default).
type recorder struct {
	consume func(c *Conn, in []byte) int
	data    []byte
	calls   int
	closes  chan error
}

func newRecorder() *recorder { return &recorder{closes: make(chan error, 4)} }

func (r *recorder) OnData(c *Conn, in []byte) int {
	r.calls++
	r.data = append(r.data, in...)
	if r.consume != nil {
		return r.consume(c, in)
	}
	return len(in)
}

func (r *recorder) OnClose(c *Conn, err error) { r.closes <- err }

// echo writes back everything it gets.
type echo struct{ closes chan error }

func (e *echo) OnData(c *Conn, in []byte) int {
	if err := c.Write(in); err != nil {
		return 0
	}
	return len(in)
}

func (e *echo) OnClose(c *Conn, err error) {
	if e.closes != nil {
		e.closes <- err
	}
}

func waitClose(t testing.TB, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
		return nil
	}
}
