package modeltest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"c10k/models/server"
	"c10k/models/wire"
)

// Client is a keep-alive connection that sends one GET and reads one
// response without allocating, so allocation counts and benchmarks over it
// measure the server alone.
type Client struct {
	net.Conn
	req []byte
	buf []byte
}

// Dial connects a Client to addr; the connection is closed at the end of
// the test and every operation has a 10 s deadline.
func Dial(tb testing.TB, addr string) *Client {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	return &Client{Conn: c, req: wire.AppendRequest(nil, "test", "/"), buf: make([]byte, 4096)}
}

// RoundTrip sends one GET and reads its 200 response.
func (c *Client) RoundTrip() error {
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

// NoAllocPerRequest fails t if keep-alive round trips to a server made by
// newServer allocate, counted process-wide: neither the model nor the
// client may allocate per request.
func NoAllocPerRequest(t *testing.T, newServer func(server.Config) (server.Server, error)) {
	noAllocs(t, newServer, DefaultConfig())
}

func noAllocs(t *testing.T, newServer func(server.Config) (server.Server, error), cfg server.Config) {
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := Dial(t, Serve(t, s))
	if err := c.RoundTrip(); err != nil { // connection set up, buffers made
		t.Fatal(err)
	}
	var rtErr error
	allocs := testing.AllocsPerRun(200, func() {
		if err := c.RoundTrip(); err != nil {
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

// BenchRoundTrip measures one keep-alive request and response to a server
// made by newServer, client in the same process.
func BenchRoundTrip(b *testing.B, newServer func(server.Config) (server.Server, error)) {
	benchRoundTrip(b, newServer, DefaultConfig())
}

func benchRoundTrip(b *testing.B, newServer func(server.Config) (server.Server, error), cfg server.Config) {
	s, err := newServer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	b.Cleanup(func() {
		s.Close()
		<-done
	})
	c := Dial(b, s.Addr().String())
	b.ReportAllocs()
	for b.Loop() {
		if err := c.RoundTrip(); err != nil {
			b.Fatal(err)
		}
	}
}
