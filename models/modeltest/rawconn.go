package modeltest

import (
	"fmt"
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"c10k/models/wire"
)

// RawConn is a blocking client socket driven with raw system calls, so
// that an allocation count taken around it is the server's alone, even
// with requests pipelined.
type RawConn struct {
	fd  int
	buf []byte
	n   int // bytes in buf not yet framed
}

// DialRaw connects a RawConn to addr (IPv4 HOST:PORT), with a 10 s receive
// timeout; the socket is closed when the test ends.
func DialRaw(tb testing.TB, addr string) *RawConn {
	tb.Helper()
	ap, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		tb.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		tb.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(ioTimeout))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	tb.Cleanup(func() { unix.Close(fd) })
	return &RawConn{fd: fd, buf: make([]byte, 256<<10)}
}

// Fd is the socket.
func (c *RawConn) Fd() int { return c.fd }

// Release drops the read buffer of a connection that will only be held
// open from now on, so that holding thousands costs the client little.
func (c *RawConn) Release() { c.buf, c.n = nil, 0 }

// Send writes all of b.
func (c *RawConn) Send(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// ReadResponses reads until n responses are framed, each of which must be
// a 200, and stores their body lengths in bodies when it is not nil. It
// does not allocate.
func (c *RawConn) ReadResponses(n int, bodies []int) error {
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
		if err == unix.EINTR {
			// A socket with SO_RCVTIMEO is not restarted after a signal
			// (man 7 signal), and the runtime preempts with SIGURG.
			continue
		}
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
