package eventloop

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Protocol is what a connection's bytes are handed to: the loop reads, the
// protocol parses and answers through the Conn (asyncio's protocol, with
// the Conn as its transport). Its methods run on the loop.
type Protocol interface {
	// OnData gets everything received and not yet consumed, and returns how
	// many bytes it consumed. The unconsumed tail is kept by the Conn and
	// handed back, with whatever arrives next, on the next call. in is valid
	// only during the call: it usually aliases the loop's read buffer.
	OnData(c *Conn, in []byte) (consumed int)
	// OnClose is called once, when the connection is closed: err is nil
	// after the peer's orderly close, after Close or once CloseAfterFlush
	// has flushed, ErrClosed when the loop is closed, otherwise the read or
	// write error. The fd is already closed. It is never called from
	// within OnData: a close requested there happens when OnData returns.
	OnClose(c *Conn, err error)
}

// maxReadsPerEvent bounds how much one connection may read in one readiness
// event (16 x 64 KiB = 1 MiB). Without it a peer streaming faster than its
// protocol consumes would keep the loop on its fd and starve every other
// connection and the timers; level-triggered epoll reports the rest on the
// next wait, after the others had their turn.
const maxReadsPerEvent = 16

// maxPendingOutput is the backpressure mark: a connection with this much
// output the peer has not taken stops being read until it drains. Without
// it, a client that pipelines requests and never reads the answers would
// make the server buffer responses without bound (a blocking server gets
// this for free: its write blocks).
const maxPendingOutput = 256 << 10

type connFlags uint32

const (
	flagClosed   connFlags = 1 << iota
	flagBusy               // inside OnData: closing is deferred until it returns
	flagClosing            // close requested while busy, with err
	flagDraining           // CloseAfterFlush: no more input or writes, close once flushed
	flagPaused             // not reading and not delivering input (Pause, ResumeAfter)
	flagQueued             // in the loop's resume queue
)

// Conn is a connected, non-blocking socket attached to a loop. An idle Conn
// holds no buffer: input is kept only while the protocol leaves part of it
// unconsumed, output only while the socket would not take it all, and both
// are released as soon as they are empty. Its methods must be called on
// the loop.
type Conn struct {
	// Context is free for the protocol's per-connection state. Storing a
	// pointer (or a small integer) in it does not allocate.
	Context any

	loop  *Loop
	proto Protocol
	in    []byte // unconsumed input, nil when none
	out   []byte // output the socket has not taken yet, nil when none
	err   error  // the error a deferred close reports
	timer TimerID
	fd    int32
	flags connFlags
}

// Attach makes the loop own fd, a connected non-blocking socket: it is
// watched for Readable and its input is handed to p. On error the fd is
// left open and the caller still owns it. An fd registered with Watch may
// be attached directly (a socket whose connect just completed): the Conn
// takes the slot over.
func (l *Loop) Attach(fd int, p Protocol) (*Conn, error) {
	if fd < 0 || p == nil {
		return nil, fmt.Errorf("eventloop: attach fd %d: %w", fd, unix.EINVAL)
	}
	l.grow(fd)
	if l.slots[fd].conn != nil {
		return nil, fmt.Errorf("eventloop: attach fd %d: %w", fd, ErrFdInUse)
	}
	if err := l.setMask(fd, Readable); err != nil {
		return nil, fmt.Errorf("eventloop: attach fd %d: %w", fd, err)
	}
	c := &Conn{loop: l, proto: p, fd: int32(fd)}
	l.slots[fd] = slot{mask: Readable, conn: c}
	return c, nil
}

// Fd returns the connection's file descriptor (-1 once closed).
func (c *Conn) Fd() int {
	if c.flags&flagClosed != 0 {
		return -1
	}
	return int(c.fd)
}

// Loop returns the loop the connection is attached to.
func (c *Conn) Loop() *Loop { return c.loop }

// Buffered returns how many bytes of output wait for the socket.
func (c *Conn) Buffered() int { return len(c.out) }

// Closed reports whether the connection is closed.
func (c *Conn) Closed() bool { return c.flags&flagClosed != 0 }

// Write sends b. Like ae, it writes directly first; only what the socket
// does not take (EAGAIN or a short write) is copied to the Conn, which
// then asks for Writable and sends the rest as the socket drains, in
// order with later writes. b may be reused as soon as Write returns.
// It returns ErrClosed after Close or CloseAfterFlush, and the write error
// if the socket failed, in which case the connection is being closed.
func (c *Conn) Write(b []byte) error {
	if c.flags&(flagClosed|flagClosing|flagDraining) != 0 {
		return ErrClosed
	}
	if len(b) == 0 {
		return nil
	}
	if len(c.out) > 0 {
		c.out = append(c.out, b...)
		if len(c.out) >= maxPendingOutput {
			c.setInterest()
		}
		return nil
	}
	n, err := writeFd(int(c.fd), b)
	if err != nil {
		c.fail(err)
		return err
	}
	if n == len(b) {
		return nil
	}
	c.out = append([]byte(nil), b[n:]...)
	c.setInterest()
	return nil
}

// Close closes the connection now, dropping unsent output. It is
// idempotent; OnClose runs once, right away, or when OnData returns if
// Close is called from it.
func (c *Conn) Close() {
	c.fail(nil)
}

// CloseAfterFlush closes the connection once its pending output is sent:
// what a server does after an error response or a "Connection: close".
// From then on input is read and discarded (so that unread bytes do not
// turn the close into a reset that could destroy the response in flight)
// and Write fails.
func (c *Conn) CloseAfterFlush() {
	if c.flags&(flagClosed|flagClosing) != 0 {
		return
	}
	if len(c.out) == 0 {
		c.fail(nil)
		return
	}
	c.flags |= flagDraining
	c.flags &^= flagPaused
	c.in = nil
	c.setInterest() // a paused or backed-up conn was not reading: discard from now on
}

// Pause stops reading from the connection and delivering input to OnData
// until Resume. Output still drains. Pausing is the back-pressure valve:
// input is bounded by what the kernel buffers, not by what the Conn holds.
func (c *Conn) Pause() {
	if c.flags&(flagClosed|flagPaused) != 0 {
		return
	}
	c.flags |= flagPaused
	c.setInterest()
}

// Resume undoes Pause (and cancels a pending ResumeAfter) and has the loop
// call OnData again with the retained input, even if there is none, after
// the current handler: a protocol that stopped in the middle of its input
// picks up where it left off. Input that arrived meanwhile is read later.
func (c *Conn) Resume() {
	if c.flags&flagClosed != 0 {
		return
	}
	if c.timer != 0 {
		c.loop.timers.cancel(c.timer)
		c.timer = 0
	}
	if c.flags&flagPaused != 0 {
		c.flags &^= flagPaused
		c.setInterest()
	}
	if c.flags&flagQueued == 0 {
		c.flags |= flagQueued
		c.loop.resumeq = append(c.loop.resumeq, c)
	}
}

// ResumeAfter pauses the connection and resumes it after d: a request that
// waits on simulated backend I/O keeps its place in the pipeline without
// blocking the loop. Unlike AfterFunc with a closure, it allocates nothing.
// A second call replaces the first.
func (c *Conn) ResumeAfter(d time.Duration) {
	if c.flags&flagClosed != 0 {
		return
	}
	c.Pause()
	if c.timer != 0 {
		c.loop.timers.cancel(c.timer)
	}
	c.timer = c.loop.timers.arm(c.loop.now+int64(max(d, 0)), nil, c)
}

// ready handles one readiness event. Reading comes before writing, as in ae:
// answers produced by OnData join the pending output and leave in the same
// turn.
func (c *Conn) ready(fired Mask) {
	switch {
	case fired&Readable != 0 && c.flags&flagPaused != 0:
		c.updateInterest(true)
	case fired&Readable != 0:
		c.readInput()
	}
	if fired&Writable != 0 && c.flags&flagClosed == 0 {
		c.flush()
	}
}

func (c *Conn) readInput() {
	l := c.loop
	for i := 0; i < maxReadsPerEvent; i++ {
		if c.flags&(flagClosed|flagPaused) != 0 || c.backedUp() {
			return
		}
		n, err := rawRead(int(c.fd), l.rbuf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil:
			c.closeNow(os.NewSyscallError("read", err))
			return
		case n == 0:
			c.closeNow(nil)
			return
		}
		if c.flags&flagDraining == 0 {
			if len(c.in) > 0 {
				c.in = append(c.in, l.rbuf[:n]...)
				c.deliver(c.in, true)
			} else {
				c.deliver(l.rbuf[:n], false)
			}
		}
		// A short read drained the socket: skip the read that would only
		// say EAGAIN. If more arrived meanwhile, the next wait says so.
		if n < len(l.rbuf) {
			return
		}
	}
}

// deliver calls OnData and keeps the unconsumed tail. retained says in is
// c.in itself rather than the loop's read buffer.
func (c *Conn) deliver(in []byte, retained bool) {
	c.flags |= flagBusy
	k := c.proto.OnData(c, in)
	c.flags &^= flagBusy
	if c.flags&flagClosing != 0 {
		c.closeNow(c.err)
		return
	}
	if c.flags&(flagClosed|flagDraining) != 0 {
		c.in = nil
		return
	}
	k = min(max(k, 0), len(in))
	rest := len(in) - k
	switch {
	case rest == 0:
		c.in = nil
	case retained:
		c.in = c.in[:copy(c.in, in[k:])]
	default:
		c.in = append(make([]byte, 0, rest), in[k:]...)
	}
}

// resumeNow runs OnData on the retained input, for Resume.
func (c *Conn) resumeNow() {
	if c.flags&(flagClosed|flagPaused|flagDraining) != 0 {
		return
	}
	c.deliver(c.in, true)
}

// flush sends pending output on Writable; once it is all gone the buffer
// is released and Writable dropped, so an idle connection is not woken by
// a socket that is (nearly always) writable.
func (c *Conn) flush() {
	if len(c.out) > 0 {
		n, err := writeFd(int(c.fd), c.out)
		if err != nil {
			c.closeNow(err)
			return
		}
		wasBackedUp := c.backedUp()
		c.out = c.out[n:]
		if len(c.out) > 0 {
			if wasBackedUp && !c.backedUp() {
				c.setInterest() // below the mark again: read again
			}
			return
		}
	}
	c.out = nil
	if c.flags&flagDraining != 0 {
		c.closeNow(nil)
		return
	}
	c.setInterest()
}

// setInterest registers what the connection needs now: Readable unless
// paused (draining keeps reading, to discard), Writable while output is
// pending.
func (c *Conn) setInterest() { c.updateInterest(false) }

// updateInterest sets the connection's interest mask. A paused connection
// keeps its read interest until input actually arrives (dropPausedRead,
// from ready): a client waiting for its answer sends nothing, so a pause
// and its resume, once per proxied or waiting request, cost no epoll_ctl.
// Input that does arrive while paused fires once, and the interest goes
// then: level-triggered, a readable socket would wake every wait.
func (c *Conn) updateInterest(dropPausedRead bool) {
	var m Mask
	switch {
	case c.backedUp():
	case c.flags&flagPaused == 0:
		m |= Readable
	case !dropPausedRead && c.loop.slots[c.fd].mask&Readable != 0:
		m |= Readable
	}
	if len(c.out) > 0 {
		m |= Writable
	}
	if err := c.loop.setMask(int(c.fd), m); err != nil {
		c.fail(err)
	}
}

// backedUp reports whether output has piled up past maxPendingOutput, so
// the connection must not read (and so produce) more until it drains. A
// draining connection only discards input, so it is never backed up.
func (c *Conn) backedUp() bool {
	return len(c.out) >= maxPendingOutput && c.flags&flagDraining == 0
}

// fail closes the connection with err now, or when OnData returns.
func (c *Conn) fail(err error) {
	if c.flags&(flagClosed|flagClosing) != 0 {
		return
	}
	if c.flags&flagBusy != 0 {
		c.flags |= flagClosing
		c.err = err
		return
	}
	c.closeNow(err)
}

func (c *Conn) closeNow(err error) {
	if c.flags&flagClosed != 0 {
		return
	}
	c.flags = c.flags&^(flagClosing|flagDraining|flagPaused) | flagClosed
	l := c.loop
	fd := int(c.fd)
	if l.slots[fd].mask != 0 {
		_ = l.poller.del(fd) // close(2) would drop it too; del keeps the table honest
	}
	l.slots[fd] = slot{}
	_ = unix.Close(fd) // the fd is gone even when close reports an error
	if c.timer != 0 {
		l.timers.cancel(c.timer)
		c.timer = 0
	}
	c.in, c.out, c.err = nil, nil, nil
	c.proto.OnClose(c, err)
}

// writeFd writes as much of b as the socket takes now: n < len(b) with a
// nil error means the socket is full.
func writeFd(fd int, b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, err := rawWrite(fd, b[written:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return written, nil
		case err != nil:
			return written, os.NewSyscallError("write", err)
		}
		written += n
	}
	return written, nil
}
