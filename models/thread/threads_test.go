package thread

import (
	"errors"
	"io"
	"log"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"c10k/models/modeltest"
)

// TestThreadPerConnection checks the model's defining cost: one OS thread
// per open connection, given back when the connection closes.
func TestThreadPerConnection(t *testing.T) {
	const step = 50
	_, addr := startServer(t)
	before := threads(t)
	var cs []*modeltest.Client
	open := func() int {
		for range step {
			c := modeltest.Dial(t, addr)
			if err := c.RoundTrip(); err != nil {
				t.Fatalf("connection %d: %v", len(cs)+1, err)
			}
			cs = append(cs, c)
		}
		return threads(t)
	}
	first := open()
	second := open()
	t.Logf("threads: %d before, %d with %d connections, %d with %d", before, first, step, second, 2*step)
	// The first connections may take over threads the runtime had started
	// and left idle, so they are held only to the total; from then on each
	// connection needs a new thread, bar the few spares the scheduler keeps.
	if first < step+2 {
		t.Fatalf("%d threads with %d connections: fewer than one per connection plus acceptor and sysmon", first, step)
	}
	if second-first < step-spareThreads {
		t.Fatalf("threads grew by %d from %d to %d connections, want at least %d", second-first, step, 2*step, step-spareThreads)
	}
	for _, c := range cs {
		c.Close()
	}
	// Idle spare threads stay (the runtime never ends those), so the count
	// falls back near, not to, where it was.
	deadline := time.Now().Add(5 * time.Second)
	for threads(t) > before+step/2 {
		if time.Now().After(deadline) {
			t.Fatalf("threads still %d 5 s after closing %d connections (%d before): threads outlive connections",
				threads(t), len(cs), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// spareThreads allows for idle threads the scheduler starts when a P is
// handed off from a thread blocked in a system call: at most about one per
// P, and the model grows GOMAXPROCS up to maxProcsFromEnv.
var spareThreads = 2 + max(runtime.GOMAXPROCS(0), maxProcsFromEnv())

// TestRefuseOverThreadLimit lowers the connection limit and checks that a
// connection over it is closed, logged, and that the server goes on.
func TestRefuseOverThreadLimit(t *testing.T) {
	var logBuf modeltest.SyncBuffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logBuf)

	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s.limits.MaxConns = 3
	addr := modeltest.Serve(t, s)
	// Serve's readiness probe was a connection too: its thread must be
	// gone before the three are counted.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still held 5 s after the readiness probe", n)
		}
	}
	held := make([]*modeltest.Client, 0, 3)
	for range 3 {
		c := modeltest.Dial(t, addr)
		if err := c.RoundTrip(); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	over := modeltest.Dial(t, addr)
	err = over.RoundTrip()
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("connection over the limit: %v, want it closed", err)
	}
	// The server logs after closing, so the client may see the close first.
	logDeadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logBuf.String(), "refusing connection") {
		if time.Now().After(logDeadline) {
			t.Fatalf("no log line for the refused connection; log: %q", logBuf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := modeltest.Dial(t, addr)
		err := c.RoundTrip()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one was freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeTwice(t *testing.T) {
	s, _ := startServer(t)
	if err := s.Serve(); !errors.Is(err, ErrServing) {
		t.Fatalf("second Serve = %v, want ErrServing", err)
	}
}
