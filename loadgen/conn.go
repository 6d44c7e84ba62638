package loadgen

import (
	"errors"

	"c10k/internal/eventloop"
	"c10k/models/wire"
	"golang.org/x/sys/unix"
)

type connState uint8

const (
	stateDown       connState = iota
	stateConnecting           // non-blocking connect in progress, fd watched for Writable
	stateUp                   // attached to the loop
	stateClosing              // Close requested from OnData; OnClose follows
)

// flight is one request on the wire: when it was meant to go (the
// schedule, open loop) and when it went.
type flight struct {
	intended int64
	sent     int64
}

// conn is one active connection, and the client protocol on it: it sends
// requests, frames the answers with a wire.ResponseReader, in whatever
// framing the server chose, and times them.
// When it fails it counts what it lost and connects again, as wrk does.
type conn struct {
	w          *worker
	ec         *eventloop.Conn
	fd         int
	state      connState
	queued     bool      // in the worker's ready queue
	tried      bool      // the first connect has resolved
	failKind   ErrorKind // what a close during the current operation means
	failCause  error     // why, when the close itself carries no error
	connectAt  int64
	fifo       ring[flight] // in flight, oldest first
	rd         wire.ResponseReader
	think      ring[int64] // closed loop: when each thinking slot may send again
	thinkTimer eventloop.TimerID

	onWritableFn func(int, eventloop.Mask)
	connectFn    func()
	thinkFn      func()
}

func newConn(w *worker) *conn {
	c := &conn{w: w, fd: -1, failKind: ErrRead, fifo: newRing[flight](w.p.pipeline)}
	c.onWritableFn = c.onWritable
	c.connectFn = c.connect
	c.thinkFn = c.onThink
	return c
}

// connect starts a new connection unless the load is over.
func (c *conn) connect() {
	w := c.w
	if w.phase.stopped() || c.state != stateDown {
		return
	}
	now := w.clock()
	fd, connected, err := w.dialWatched(c.onWritableFn)
	if err != nil {
		c.connectFailed(now, err)
		return
	}
	c.fd, c.connectAt = fd, now
	if connected {
		c.attach(now)
		return
	}
	c.state = stateConnecting
}

// onWritable ends a non-blocking connect: SO_ERROR says how it went.
func (c *conn) onWritable(fd int, _ eventloop.Mask) {
	now := c.w.clock()
	if err := connectResult(fd); err != nil {
		c.abandonConnect()
		c.connectFailed(now, err)
		return
	}
	c.attach(now)
}

func (c *conn) abandonConnect() {
	if c.state == stateConnecting {
		_ = c.w.loop.Unwatch(c.fd)
	}
	_ = unix.Close(c.fd)
	c.fd = -1
	c.state = stateDown
}

func (c *conn) connectFailed(now int64, err error) {
	w := c.w
	c.state = stateDown
	w.connectError(err)
	c.firstTry()
	if !w.phase.loading() {
		return // startLoad tries again, inside the window
	}
	w.rec.countAt(now, ErrConnect, 1)
	w.noteErr(ErrConnect, err, nil)
	w.at(now+int64(connectBackoff), c.connectFn)
}

func (c *conn) firstTry() {
	if !c.tried {
		c.tried = true
		c.w.connTried++
		c.w.checkConnected()
	}
}

// attach hands the connected socket to the loop (taking over the Watch
// slot, if any) and starts sending.
func (c *conn) attach(now int64) {
	w := c.w
	ec, err := w.loop.Attach(c.fd, c)
	if err != nil {
		c.abandonConnect()
		c.connectFailed(now, err)
		return
	}
	c.ec, c.state = ec, stateUp
	w.established.Add(1)
	w.madeProgress(now)
	c.firstTry()
	if w.phase.loading() {
		c.start(now)
	}
}

// start puts a connection to work: in open loop it joins the ready queue,
// in closed loop it fills its pipeline.
func (c *conn) start(now int64) {
	w := c.w
	if w.p.openLoop {
		w.makeReady(c)
		w.dispatch(now)
		return
	}
	c.sendClosed(w.p.pipeline, now)
}

// sendClosed sends k requests back to back, stamped now (closed loop).
func (c *conn) sendClosed(k int, now int64) {
	if k <= 0 || c.w.phase.stopped() || c.state != stateUp {
		return
	}
	for range k {
		c.fifo.push(flight{intended: now, sent: now})
	}
	c.w.inflight += k
	c.write(k)
}

// write sends k requests in one write(2). failKind is set around it
// because a failing Write may close the connection, and run OnClose,
// before it returns.
func (c *conn) write(k int) {
	c.failKind = ErrWrite
	if err := c.ec.Write(c.w.reqs[:k*c.w.rlen]); err != nil {
		// Inside OnData the close waits for it to return: keep the kind
		// for OnClose. Elsewhere OnClose has already run.
		if c.state == stateUp {
			c.state = stateClosing
		}
		return
	}
	c.failKind = ErrRead
}

// OnData frames every complete response in in, records each against the
// oldest request in flight, and refills the pipeline in one write.
func (c *conn) OnData(ec *eventloop.Conn, in []byte) int {
	w := c.w
	now := w.clock()
	consumed, answered := 0, 0
	for consumed < len(in) && c.state == stateUp {
		n, done, err := c.rd.Read(in[consumed:], w.p.headOnly)
		if err != nil {
			// Unframeable: the stream is lost.
			w.noteErr(ErrParse, err, in[consumed+n:])
			c.closeWith(ErrParse, err)
			return len(in)
		}
		consumed += n
		if !done {
			// All consumed (a body still coming), or the rest is part of
			// a head or chunk line that the loop keeps for the next read.
			break
		}
		if c.fifo.len() == 0 {
			c.closeWith(ErrParse, ErrUnsolicited)
			return len(in)
		}
		c.answer(now)
		answered++
		if !c.rd.Head.KeepAlive {
			// The server closes after this answer; what else is in flight
			// is lost and counted as read errors.
			c.closeWith(ErrRead, ErrClosedWithPipeline)
			break
		}
	}
	if answered == 0 {
		return consumed
	}
	w.madeProgress(now)
	switch {
	case c.state != stateUp:
	case w.p.openLoop:
		w.makeReady(c)
		w.dispatch(now)
	case w.p.think > 0:
		c.startThinking(answered, now)
	default:
		c.sendClosed(answered, now)
	}
	w.checkDrained()
	return consumed
}

// answer records the response the reader completed against the oldest
// request in flight.
func (c *conn) answer(now int64) {
	w := c.w
	f := c.fifo.pop()
	w.inflight--
	if w.phase.loading() {
		w.rec.response(f.intended, f.sent, now, int(c.rd.Bytes), c.rd.Head.Status)
	}
}

func (c *conn) closeWith(kind ErrorKind, cause error) {
	c.failKind, c.failCause = kind, cause
	c.state = stateClosing
	c.ec.Close()
}

// OnClose counts every request lost with the connection, under the kind
// that ended it, and connects again on the next loop iteration (a timer,
// not a direct call, so that a failing reconnect cannot recurse).
func (c *conn) OnClose(_ *eventloop.Conn, err error) {
	w := c.w
	if w.phase == phaseShutdown {
		return
	}
	kind, cause := c.failKind, c.failCause
	c.failKind, c.failCause = ErrRead, nil
	now := w.clock()
	// The server closed cleanly: that ends a close-delimited body (HTTP/1.0
	// or no length), which is an answer, not an error. A close of our own
	// (stateClosing) or a reset leaves its end unknown.
	closedByServer := c.state == stateUp && err == nil
	if closedByServer && c.rd.EOF() && c.fifo.len() > 0 {
		c.answer(now)
		w.madeProgress(now)
	}
	c.rd.Reset()
	c.ec, c.fd, c.state = nil, -1, stateDown
	w.established.Add(-1)
	lost := c.fifo.len()
	switch {
	case err != nil && !errors.Is(err, eventloop.ErrClosed):
		cause = err
	case cause == nil && closedByServer:
		cause = ErrServerClosed
	}
	for c.fifo.len() > 0 {
		f := c.fifo.pop()
		if w.phase.loading() {
			ref := now
			if w.p.openLoop {
				ref = f.intended
			}
			w.rec.countAt(ref, kind, 1)
		}
	}
	w.inflight -= lost
	// Nothing was lost, but something still went wrong: an answer nobody
	// asked for, or a reset between requests.
	failed := kind == ErrParse || (err != nil && !errors.Is(err, eventloop.ErrClosed))
	if lost == 0 && failed && w.phase.loading() {
		w.rec.countAt(now, kind, 1)
	}
	if lost > 0 || failed {
		w.noteErr(kind, cause, nil)
	}
	c.think.clear()
	if c.thinkTimer != 0 {
		w.loop.CancelTimer(c.thinkTimer)
		c.thinkTimer = 0
	}
	w.checkDrained()
	if !w.phase.stopped() {
		w.loop.AfterFunc(0, c.connectFn)
	}
}

// checkTimeout runs from the worker's sweep: a connect or a request older
// than the timeout ends the connection (counted) and a new one is made.
func (c *conn) checkTimeout(now int64) {
	w := c.w
	switch c.state {
	case stateConnecting:
		if now-c.connectAt > w.p.timeout {
			c.abandonConnect()
			c.connectFailed(now, unix.ETIMEDOUT)
		}
	case stateUp:
		if c.fifo.len() > 0 && now-c.fifo.peek().sent > w.p.timeout {
			c.closeWith(ErrTimeout, ErrRequestTimeout)
		}
	}
}

// startThinking delays the next request of k slots by the think time.
func (c *conn) startThinking(k int, now int64) {
	for range k {
		c.think.push(now + c.w.p.think)
	}
	if c.thinkTimer == 0 {
		c.thinkTimer = c.w.at(c.think.peek(), c.thinkFn)
	}
}

func (c *conn) onThink() {
	c.thinkTimer = 0
	now := c.w.clock()
	k := 0
	for c.think.len() > 0 && c.think.peek() <= now {
		c.think.pop()
		k++
	}
	c.sendClosed(k, now)
	if c.think.len() > 0 && c.state == stateUp {
		c.thinkTimer = c.w.at(c.think.peek(), c.thinkFn)
	}
}

// closeConnecting closes a socket left mid-connect at teardown.
func (c *conn) closeConnecting() {
	if c.state == stateConnecting && c.fd >= 0 {
		_ = unix.Close(c.fd)
		c.fd, c.state = -1, stateDown
	}
}
