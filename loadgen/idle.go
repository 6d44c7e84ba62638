package loadgen

import (
	"errors"
	"fmt"

	"c10k/internal/eventloop"
	"c10k/models/wire"
	"golang.org/x/sys/unix"
)

type idleState uint8

const (
	idleDown       idleState = iota // not opened yet, or failed before its answer
	idleConnecting                  // connect in progress
	idleAsking                      // connected, its one request sent
	idleHeld                        // answered: held open, idle, until the end
	idleGone                        // closed after its answer (by the server): data, not an error
)

// idleConn is one connection of the idle pool: it proves it is alive
// with one request, then sits idle. The loop keeps watching it, so a
// server that closes it is noticed (and counted, not retried).
type idleConn struct {
	w     *worker
	ec    *eventloop.Conn
	fd    int
	state idleState
	since int64 // connect start, then request send
	rd    wire.ResponseReader

	onWritableFn func(int, eventloop.Mask)
}

func newIdleConn(w *worker) *idleConn {
	c := &idleConn{w: w, fd: -1}
	c.onWritableFn = c.onWritable
	return c
}

// startIdle opens this loop's share of the idle pool at its share of the
// connect rate; done gets the worker's id once every one of them has
// been answered or has failed.
func (w *worker) startIdle(done chan<- int) {
	w.begin(phaseIdle, done)
	rate := w.p.connectRate / float64(w.p.loops)
	w.idleSched = stride{p: ConstantPacer{Rate: rate}, step: 1}
	w.idleStart = w.clock()
	w.onIdleTick()
	w.checkIdleDone()
}

func (w *worker) onIdleTick() {
	if w.phase.stopped() {
		return
	}
	now := w.clock()
	w.idleBlocked = false
	for w.idleStarted < len(w.idle) {
		if w.idleStarted-w.idleResolved >= idleWindow {
			w.idleBlocked = true // idleResolve resumes
			return
		}
		due := w.idleStart + int64(w.idleSched.offset(uint64(w.idleStarted)))
		if due > now {
			w.at(due, w.idleTickFn)
			return
		}
		c := w.idle[w.idleStarted]
		w.idleStarted++
		c.connect(now)
	}
}

// idleResolve settles one idle connection: opened, or failed with kind
// for cause.
func (w *worker) idleResolve(opened bool, kind ErrorKind, cause error) {
	w.idleResolved++
	if opened {
		w.idleOpened++
	} else {
		w.idleErrs[kind]++
		w.noteIdleErr(kind, cause, nil)
	}
	if w.idleBlocked {
		w.onIdleTick()
	}
	w.checkIdleDone()
}

// idleWindow bounds the idle connections a loop has in flight (connecting,
// or waiting for their one answer). A server that accepts more slowly than
// the connect rate then slows the opening down to its own pace; unbounded,
// the connects would overflow its accept queue, where the kernel drops
// SYNs, and each dropped one costs the client a retransmit a second later
// and, past the timeout, a failed connection that a slower start would
// have opened.
const idleWindow = 256

func (w *worker) checkIdleDone() {
	if w.phase == phaseIdle && w.idleResolved == len(w.idle) {
		w.signalDone()
	}
}

func (c *idleConn) connect(now int64) {
	w := c.w
	fd, connected, err := w.dialWatched(c.onWritableFn)
	if err != nil {
		w.connectError(err)
		w.idleResolve(false, ErrConnect, err)
		return
	}
	c.fd, c.since = fd, now
	if connected {
		c.attach(now)
		return
	}
	c.state = idleConnecting
}

func (c *idleConn) onWritable(fd int, _ eventloop.Mask) {
	if err := connectResult(fd); err != nil {
		c.w.connectError(err)
		c.fail(ErrConnect, err)
		return
	}
	c.attach(c.w.clock())
}

// fail gives up on a connection that never got its answer.
func (c *idleConn) fail(kind ErrorKind, cause error) {
	switch c.state {
	case idleConnecting:
		_ = c.w.loop.Unwatch(c.fd)
		_ = unix.Close(c.fd)
	case idleAsking:
		c.state = idleDown // OnClose must not resolve it twice
		c.ec.Close()
	}
	c.fd, c.ec, c.state = -1, nil, idleDown
	c.rd.Reset()
	c.w.idleResolve(false, kind, cause)
}

func (c *idleConn) attach(now int64) {
	w := c.w
	ec, err := w.loop.Attach(c.fd, c)
	if err != nil {
		c.state = idleConnecting
		c.fail(ErrConnect, err)
		return
	}
	c.ec, c.state, c.since = ec, idleAsking, now
	if err := ec.Write(w.reqs[:w.rlen]); err != nil && c.state == idleAsking {
		c.fail(ErrWrite, err)
	}
}

// OnData takes the one answer; anything after it is discarded.
func (c *idleConn) OnData(_ *eventloop.Conn, in []byte) int {
	if c.state != idleAsking {
		return len(in)
	}
	n, done, err := c.rd.Read(in, c.w.p.headOnly)
	switch {
	case err != nil:
		c.w.noteIdleErr(ErrParse, err, in[n:])
		c.fail(ErrParse, err)
		return len(in)
	case !done:
		return n // a body still coming, or a partial head kept for later
	}
	c.held()
	return len(in)
}

// held takes the one answer the reader completed.
func (c *idleConn) held() {
	c.state = idleHeld
	if s := c.rd.Head.Status; s < 200 || s > 399 {
		c.w.idleErrs[ErrStatus]++
		c.w.noteIdleErr(ErrStatus, fmt.Errorf("HTTP status %d", s), nil)
	}
	c.w.idleResolve(true, 0, nil)
}

// OnClose: before the answer it is a failure; after it, the server chose
// to close an idle connection, which the result reports as idle_alive.
func (c *idleConn) OnClose(_ *eventloop.Conn, err error) {
	if c.w.phase == phaseShutdown {
		return
	}
	switch c.state {
	case idleAsking:
		c.fd, c.ec = -1, nil
		if err == nil && c.rd.EOF() {
			// A close-delimited answer: the server closes every connection
			// after one answer, which idle_alive reports.
			c.held()
			c.state = idleGone
			return
		}
		c.rd.Reset()
		c.state = idleDown
		if err == nil {
			err = ErrServerClosed
		}
		c.w.idleResolve(false, ErrRead, err)
	case idleHeld:
		c.state = idleGone
		c.fd, c.ec = -1, nil
	}
}

func (c *idleConn) checkTimeout(now int64) {
	if (c.state == idleConnecting || c.state == idleAsking) && now-c.since > c.w.p.timeout {
		kind := ErrTimeout
		if c.state == idleConnecting {
			kind = ErrConnect
		}
		cause := error(ErrRequestTimeout)
		if c.state == idleConnecting {
			cause = unix.ETIMEDOUT
		}
		c.fail(kind, cause)
	}
}

// alive checks, at the end of the run, whether a held connection is still
// open: the loop may not have read a FIN that arrived a moment ago, so
// each socket is asked directly (a peek that must not block).
func (c *idleConn) alive() bool {
	if c.state != idleHeld {
		return false
	}
	var b [1]byte
	n, _, err := unix.Recvfrom(c.fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case errors.Is(err, unix.EAGAIN):
		return true
	case err != nil:
		return false
	default:
		return n > 0
	}
}

func (c *idleConn) closeConnecting() {
	if c.state == idleConnecting && c.fd >= 0 {
		_ = unix.Close(c.fd)
		c.fd, c.state = -1, idleDown
	}
}
