package thread

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/wire"
)

// startServer runs a thread server for the test and returns it and its address.
func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s, modeltest.Serve(t, s)
}

// testConn is a keep-alive client connection.
type testConn struct {
	net.Conn
	req []byte
	buf []byte
}

func dialTest(t testing.TB, addr string) *testConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return &testConn{Conn: c, req: wire.AppendRequest(nil, "test", "/"), buf: make([]byte, 4096)}
}

// roundTrip sends one GET and reads its response without allocating.
func (c *testConn) roundTrip() error {
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

// threads reads the Threads: line of /proc/self/status.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(b, []byte("\nThreads:"))
	if !ok {
		t.Fatal("no Threads: line in /proc/self/status")
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var _ server.Server = (*Server)(nil)
