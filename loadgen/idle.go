package loadgen

import (
	"errors"

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
	resp  wire.ResponseHead

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
	for w.idleStarted < len(w.idle) {
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

func (w *worker) idleResolve(opened bool, kind ErrorKind) {
	w.idleResolved++
	if opened {
		w.idleOpened++
	} else {
		w.idleErrs[kind]++
	}
	w.checkIdleDone()
}

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
		w.idleResolve(false, ErrConnect)
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
		c.fail(ErrConnect)
		return
	}
	c.attach(c.w.clock())
}

// fail gives up on a connection that never got its answer.
func (c *idleConn) fail(kind ErrorKind) {
	switch c.state {
	case idleConnecting:
		_ = c.w.loop.Unwatch(c.fd)
		_ = unix.Close(c.fd)
	case idleAsking:
		c.state = idleDown // OnClose must not resolve it twice
		c.ec.Close()
	}
	c.fd, c.ec, c.state = -1, nil, idleDown
	c.w.idleResolve(false, kind)
}

func (c *idleConn) attach(now int64) {
	w := c.w
	ec, err := w.loop.Attach(c.fd, c)
	if err != nil {
		c.state = idleConnecting
		c.fail(ErrConnect)
		return
	}
	c.ec, c.state, c.since = ec, idleAsking, now
	if err := ec.Write(w.reqs[:w.rlen]); err != nil && c.state == idleAsking {
		c.fail(ErrWrite)
	}
}

// OnData takes the one answer; anything after it is discarded.
func (c *idleConn) OnData(_ *eventloop.Conn, in []byte) int {
	if c.state != idleAsking {
		return len(in)
	}
	n, err := wire.ParseResponse(in, &c.resp)
	switch {
	case err != nil:
		c.fail(ErrParse)
		return len(in)
	case n == 0:
		return 0
	}
	c.state = idleHeld
	if c.resp.Status < 200 || c.resp.Status > 399 {
		c.w.idleErrs[ErrStatus]++
	}
	c.w.idleResolve(true, 0)
	return len(in)
}

// OnClose: before the answer it is a failure; after it, the server chose
// to close an idle connection, which the result reports as idle_alive.
func (c *idleConn) OnClose(_ *eventloop.Conn, _ error) {
	if c.w.phase == phaseShutdown {
		return
	}
	switch c.state {
	case idleAsking:
		c.state = idleDown
		c.fd, c.ec = -1, nil
		c.w.idleResolve(false, ErrRead)
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
		c.fail(kind)
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
