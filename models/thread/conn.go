package thread

import (
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/server"
	"c10k/models/wire"
)

// Buffer sizes. Each connection owns a 1 KiB read buffer for its whole life
// (nginx's client_header_buffer_size, and the goroutine model's size), as a
// thread-per-connection server written in C would: that cost is part of
// what the model measures. The buffer grows only while a request larger
// than it is being framed, up to the largest request the wire accepts, and
// shrinks back after.
const (
	readBufSize = 1 << 10
	// flushSize bounds the output buffer: a deep pipeline of large
	// responses is written in pieces instead of all at once.
	flushSize = 64 << 10
)

// conn is one connection's state, owned by its thread.
type conn struct {
	fd  int
	s   *Server
	in  server.InBuf
	out []byte // responses of the current batch, reused
	req wire.Request
}

// serve reads, answers every complete request in what it read with one
// write, and repeats until the client closes, asks to close, or sends
// something that cannot be framed.
func (c *conn) serve() {
	// Small answers must leave at once, not wait for the ACK of the last
	// one (Nagle); Go's net package sets the same for every TCP connection.
	unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c.in = server.NewInBuf(readBufSize)
	for {
		space := c.in.Space()
		if space == nil {
			c.out = wire.AppendError(c.out[:0], wire.ErrHeaderTooLarge)
			c.write()
			return
		}
		r, err := readFD(c.s.mech, c.fd, space)
		if err != nil || r == 0 {
			return
		}
		c.in.Filled(r)
		if !c.answer() {
			return
		}
	}
}

// answer answers every complete request in the buffer and keeps the partial
// one. It reports whether the connection stays open.
func (c *conn) answer() bool {
	c.out = c.out[:0]
	off := 0
	keep := true
	for keep {
		k, err := wire.Parse(c.in.Bytes()[off:], &c.req)
		if err != nil {
			c.out = wire.AppendError(c.out, err)
			keep = false
			break
		}
		if k == 0 {
			break
		}
		off += k
		// Answers already made leave before a wait, not after it: a
		// server blocked on a backend does not hold finished responses.
		if (c.s.cfg.Wait > 0 || c.s.ups != nil) && !c.write() {
			return false
		}
		status := c.proxy()
		c.work()
		if status == 200 {
			c.out = c.s.resp.Append(c.out, &c.req)
		} else {
			c.out = wire.AppendGatewayError(c.out, status, &c.req)
		}
		keep = c.req.KeepAlive
		if len(c.out) >= flushSize && !c.write() {
			return false
		}
	}
	if !c.write() || !keep {
		return false
	}
	c.in.Consume(off)
	return true
}

// work is the per-request cost of server.Config, spent on this thread: the
// sleep blocks the thread as a backend call would, the burn occupies it.
func (c *conn) work() {
	if c.s.cfg.Wait > 0 {
		time.Sleep(c.s.cfg.Wait)
	}
	server.Burn(c.s.cfg.Work)
}

// write sends the batch and empties it; false means the connection is gone.
func (c *conn) write() bool {
	err := writeFD(c.fd, c.out)
	c.out = c.out[:0]
	return err == nil
}

// readFD is read(2) on a blocking socket, retried on EINTR.
func readFD(m Mechanism, fd int, p []byte) (int, error) {
	for {
		var n int
		var err error
		if m.handsOff() {
			n, err = readHandoff(fd, p)
		} else {
			n, err = unix.Read(fd, p)
		}
		if err != unix.EINTR {
			return n, err
		}
	}
}

// writeFD writes all of p to a blocking socket. It keeps the ordinary
// system call under every mechanism: a write to a socket rarely blocks,
// and handing the P off on each one would wake another thread for nothing.
func writeFD(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}
