package goroutine

import (
	"fmt"
	"net"
	"testing"
	"time"

	"c10k/models/modeltest"
	"c10k/models/wire"
)

// keepAliveConn is a client that sends one GET and reads one response
// without allocating.
type keepAliveConn struct {
	net.Conn
	req []byte
	buf []byte
}

func dialKeepAlive(tb testing.TB, addr string) *keepAliveConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &keepAliveConn{Conn: c, req: wire.AppendRequest(nil, "test", "/"), buf: make([]byte, 4096)}
}

func (c *keepAliveConn) roundTrip() error {
	if _, err := c.Write(c.req); err != nil {
		return err
	}
	n := 0
	for {
		r, err := c.Read(c.buf[n:])
		if err != nil {
			return err
		}
		n += r
		var h wire.ResponseHead
		k, err := wire.ParseResponse(c.buf[:n], &h)
		if err != nil {
			return err
		}
		if k > 0 {
			if k != n || h.Status != 200 {
				return fmt.Errorf("status %d, %d bytes for a %d-byte response", h.Status, n, k)
			}
			return nil
		}
	}
}

// TestNoAllocPerRequest counts allocations, process-wide, over keep-alive
// round trips: neither the model nor the test client may allocate per request.
func TestNoAllocPerRequest(t *testing.T) {
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr := modeltest.Serve(t, s)
	c := dialKeepAlive(t, addr)
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.roundTrip(); err != nil { // connection set up, buffers made
		t.Fatal(err)
	}
	var rtErr error
	allocs := testing.AllocsPerRun(200, func() {
		if err := c.roundTrip(); err != nil {
			rtErr = err
		}
	})
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	if allocs >= 1 {
		t.Fatalf("%.1f allocations per request, want 0", allocs)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	b.Cleanup(func() {
		s.Close()
		<-done
	})
	c := dialKeepAlive(b, s.Addr().String())
	b.ReportAllocs()
	for b.Loop() {
		if err := c.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
}
