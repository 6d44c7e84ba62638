package epoll_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/epoll"
	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/wire"
)

// start runs an epoll server for cfg (on 127.0.0.1:0) until the test ends.
func start(t testing.TB, cfg server.Config) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.BodySize == 0 {
		cfg.BodySize = len(wire.DefaultBody)
	}
	s, err := epoll.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tt, ok := t.(*testing.T)
	if ok {
		return modeltest.Serve(tt, s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Addr().String()
}

// rawConn is a blocking client socket driven with raw syscalls, so that a
// benchmark's allocation count is the server's alone.
type rawConn struct {
	fd  int
	buf []byte
	n   int // bytes in buf not yet framed
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	ap, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(10 * time.Second))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	c := &rawConn{fd: fd, buf: make([]byte, 256<<10)}
	t.Cleanup(func() { unix.Close(fd) })
	return c
}

func (c *rawConn) send(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readResponses reads until n responses are framed and returns their heads'
// statuses summed with their body lengths in bodies (no allocation).
func (c *rawConn) readResponses(n int, bodies []int) error {
	var head wire.ResponseHead
	for got := 0; got < n; {
		k, err := wire.ParseResponse(c.buf[:c.n], &head)
		if err != nil {
			return err
		}
		if k > 0 {
			if head.Status != 200 {
				return fmt.Errorf("status %d", head.Status)
			}
			if bodies != nil {
				bodies[got] = head.ContentLength
			}
			copy(c.buf, c.buf[k:c.n])
			c.n -= k
			got++
			continue
		}
		m, err := unix.Read(c.fd, c.buf[c.n:])
		if err != nil {
			return err
		}
		if m == 0 {
			return fmt.Errorf("closed after %d responses", got)
		}
		c.n += m
	}
	return nil
}
