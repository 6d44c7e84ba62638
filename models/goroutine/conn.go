package goroutine

import (
	"net"
	"sync"
	"time"

	"c10k/models/server"
	"c10k/models/wire"
)

// Buffers. The read buffer is per connection: a goroutine blocked in Read
// needs somewhere to read into, so pooling it would only help with a
// readiness-only wait, which the net package does not offer idiomatically.
// It is 1 KiB, nginx's client_header_buffer_size, not net/http's 4 KiB
// bufio.Reader: nearly every request head fits, and an idle connection is
// mostly this buffer and its goroutine's stack. It grows only while a
// request larger than it is being framed, up to the largest request the
// wire accepts, and shrinks back after.
//
// The output buffer is pooled, as net/http pools its response writers: a
// connection holds one only from the first response of a batch to the end
// of its Write, so idle connections hold none.
const (
	readBufSize = 1 << 10
	outBufSize  = 4 << 10 // a pooled output buffer's starting capacity
	// flushSize bounds the output buffer: a deep pipeline of large
	// responses is written in pieces instead of all at once.
	flushSize = 64 << 10
	// maxPooled keeps buffers grown by huge bodies out of the pool.
	maxPooled = 1 << 20
)

var outPool = sync.Pool{New: func() any {
	b := make([]byte, 0, outBufSize)
	return &b
}}

// conn is one connection's state, owned by its goroutine.
type conn struct {
	c   net.Conn
	s   *Server
	in  server.InBuf
	out *[]byte // from outPool while a batch is being answered
	req wire.Request
	// gather is the fan-out state, made on the first proxied request.
	gather *gather
}

// serve reads, answers every complete request in what it read with one
// Write, and repeats until the client closes, asks to close, or sends
// something that cannot be framed.
func (c *conn) serve() {
	c.in = server.NewInBuf(readBufSize)
	for {
		space := c.in.Space()
		if space == nil {
			c.appendOut(wire.AppendError(nil, wire.ErrHeaderTooLarge))
			c.flush()
			return
		}
		r, err := c.c.Read(space)
		c.in.Filled(r)
		if r > 0 && !c.answer() {
			return
		}
		if err != nil {
			return
		}
	}
}

// answer answers every complete request in the buffer and keeps the partial
// one. It reports whether the connection stays open.
func (c *conn) answer() bool {
	off := 0
	keep := true
	for keep {
		k, err := wire.Parse(c.in.Bytes()[off:], &c.req)
		if err != nil {
			c.take()
			*c.out = wire.AppendError(*c.out, err)
			keep = false
			break
		}
		if k == 0 {
			break
		}
		off += k
		// Answers already made leave before a wait, not after it: a
		// server blocked on a backend does not hold finished responses.
		if (c.s.cfg.Wait > 0 || c.s.ups != nil) && !c.flush() {
			return false
		}
		status := c.proxy()
		c.work()
		c.take()
		if status == 200 {
			*c.out = c.s.resp.Append(*c.out, &c.req)
		} else {
			*c.out = wire.AppendGatewayError(*c.out, status, &c.req)
		}
		keep = c.req.KeepAlive
		if len(*c.out) >= flushSize && !c.flush() {
			return false
		}
	}
	if !c.flush() || !keep {
		return false
	}
	c.in.Consume(off)
	return true
}

// work is the per-request cost of server.Config: the sleep parks the
// goroutine on a timer, the burn occupies its thread.
func (c *conn) work() {
	if c.s.cfg.Wait > 0 {
		time.Sleep(c.s.cfg.Wait)
	}
	server.Burn(c.s.cfg.Work)
}

// take gets an output buffer from the pool unless the batch has one.
func (c *conn) take() {
	if c.out == nil {
		c.out = outPool.Get().(*[]byte)
	}
}

func (c *conn) appendOut(b []byte) {
	c.take()
	*c.out = append(*c.out, b...)
}

// flush writes the batch and gives the buffer back; false means the
// connection is gone.
func (c *conn) flush() bool {
	if c.out == nil {
		return true
	}
	_, err := c.c.Write(*c.out)
	if cap(*c.out) <= maxPooled {
		*c.out = (*c.out)[:0]
		outPool.Put(c.out)
	}
	c.out = nil
	return err == nil
}
