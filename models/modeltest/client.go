package modeltest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"c10k/models/wire"
)

// errClosed marks a connection the server closed (FIN or RST).
var errClosed = errors.New("connection closed by server")

// client is a raw TCP client that frames responses itself with
// wire.ParseResponse, so every byte the server sends is accounted for.
type client struct {
	conn net.Conn
	buf  []byte // received and not yet framed
	tmp  []byte // read buffer
}

// response is one framed response.
type response struct {
	wire.ResponseHead
	raw  []byte // the whole response, head and body
	body []byte
}

func dial(addr string) (*client, error) {
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if err := conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	return &client{conn: conn, tmp: make([]byte, 16<<10)}, nil
}

func (c *client) close() { c.conn.Close() }

func (c *client) send(s string) error {
	if _, err := io.WriteString(c.conn, s); err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	return nil
}

// roundTrip sends req and reads one response.
func (c *client) roundTrip(req string) (response, error) {
	if err := c.send(req); err != nil {
		return response{}, err
	}
	return c.read()
}

// read frames the next response, reading as much as it needs.
func (c *client) read() (response, error) {
	for {
		var h wire.ResponseHead
		n, err := wire.ParseResponse(c.buf, &h)
		if err != nil {
			return response{}, fmt.Errorf("framing response %q: %w", abbrev(c.buf), err)
		}
		if n > 0 {
			raw := bytes.Clone(c.buf[:n])
			c.buf = append(c.buf[:0], c.buf[n:]...)
			return response{ResponseHead: h, raw: raw, body: raw[n-h.ContentLength:]}, nil
		}
		if err := c.fill(); err != nil {
			return response{}, err
		}
	}
}

// readN reads n responses.
func (c *client) readN(n int) ([]response, error) {
	out := make([]response, 0, n)
	for i := 0; i < n; i++ {
		r, err := c.read()
		if err != nil {
			return out, fmt.Errorf("response %d of %d: %w", i+1, n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// readAll reads until the server closes and returns every byte it sent.
func (c *client) readAll() ([]byte, error) {
	for {
		if err := c.fill(); err != nil {
			if errors.Is(err, errClosed) {
				return c.buf, nil
			}
			return c.buf, err
		}
	}
}

func (c *client) fill() error {
	n, err := c.conn.Read(c.tmp)
	c.buf = append(c.buf, c.tmp[:n]...)
	switch {
	case n > 0:
		return nil
	case isClosed(err):
		return fmt.Errorf("after %d unframed bytes %q: %w", len(c.buf), abbrev(c.buf), errClosed)
	case isTimeout(err):
		return fmt.Errorf("no complete response within the %v deadline (have %q): %w", ioTimeout, abbrev(c.buf), err)
	default:
		return fmt.Errorf("read: %w", err)
	}
}

// expectClosed checks that the server sends nothing more and closes.
func (c *client) expectClosed() error {
	if len(c.buf) > 0 {
		return fmt.Errorf("unexpected bytes after the last response: %q", abbrev(c.buf))
	}
	if err := c.conn.SetReadDeadline(time.Now().Add(closeTimeout)); err != nil {
		return err
	}
	n, err := c.conn.Read(c.tmp)
	switch {
	case n > 0:
		return fmt.Errorf("unexpected bytes after the last response: %q", abbrev(c.tmp[:n]))
	case isClosed(err):
		return nil
	case isTimeout(err):
		return fmt.Errorf("connection still open %v after the last response: the server should have closed it", closeTimeout)
	default:
		return fmt.Errorf("read: %w", err)
	}
}

// isClosed accepts a reset as well as a FIN: a server that closes a socket
// with unread input (the rest of an oversized head) makes the kernel send
// RST, and a client reads the response before it sees ECONNRESET.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func abbrev(b []byte) []byte {
	if len(b) > 120 {
		return b[:120]
	}
	return b
}

// get is a GET for target with extra header lines (each ending in CRLF).
func get(target, extra string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: modeltest\r\n" + extra + "\r\n"
}

// expectOK checks a 200 with the configured body and the wanted disposition.
func expectOK(r response, bodySize int, keepAlive bool) error {
	if r.Status != 200 {
		return fmt.Errorf("status %d, want 200 (response %q)", r.Status, abbrev(r.raw))
	}
	if r.KeepAlive != keepAlive {
		return fmt.Errorf("keep-alive %v, want %v (response %q)", r.KeepAlive, keepAlive, abbrev(r.raw))
	}
	if len(r.body) != bodySize {
		return fmt.Errorf("body of %d bytes, want %d", len(r.body), bodySize)
	}
	if bodySize == len(wire.DefaultBody) && string(r.body) != wire.DefaultBody {
		return fmt.Errorf("body %q, want %q", r.body, wire.DefaultBody)
	}
	return nil
}

// dialAll opens n connections to addr. closeAll closes those it opened,
// also when it failed part way; call it in every case.
func dialAll(addr string, n int) (clients []*client, closeAll func(), err error) {
	clients = make([]*client, 0, n)
	closeAll = func() {
		for _, c := range clients {
			c.close()
		}
	}
	for range n {
		c, err := dial(addr)
		if err != nil {
			return clients, closeAll, err
		}
		clients = append(clients, c)
	}
	return clients, closeAll, nil
}
