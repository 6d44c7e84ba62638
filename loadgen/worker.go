package loadgen

import (
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"c10k/internal/eventloop"
	"c10k/models/wire"
)

// connectBackoff is how long a connection waits before retrying after a
// failed connect: enough to keep a refusing server from turning the
// generator into a connect(2) spinner, short enough to notice it is back.
const connectBackoff = 10 * time.Millisecond

// plan is the run's configuration as every worker sees it; fixed before
// the loops start.
type plan struct {
	tgt         target
	method      string
	headOnly    bool      // HEAD: the answers have no body
	base        time.Time // every worker's clock counts ns from here
	loops       int
	firstSource int // offset of the first source from 127.0.0.1
	sources     int
	conns, idle int // after the file-limit cap
	pipeline    int
	openLoop    bool
	pacer       Pacer
	think       int64 // ns
	timeout     int64 // ns
	connectRate float64
	spin        int64 // ns: open loop polls for a request due this soon
	intervals   bool  // keep full-precision histograms per second (Options.IntervalLog)
}

// worker drives a share of the connections from one event loop. Everything
// in it belongs to its loop's goroutine except the atomics the coordinator
// reads; the coordinator reaches the rest through loop.Post.
type worker struct {
	id   int
	p    *plan
	loop *eventloop.Loop
	rec  *recorder
	dial *dialer
	reqs []byte // pipeline copies of the request, built once
	rlen int

	active []*conn
	idle   []*idleConn

	phase     phase      // the life cycle: see phase.go for its steps and moves
	done      chan<- int // the current phase's done signal; nil once sent
	connTried int        // active connections whose first connect has resolved
	sweepFn   func()

	// Open loop: this loop's share of the schedule.
	sched    stride
	start    int64 // ns: the schedule's time zero
	next     uint64
	total    uint64
	pending  ring[int64] // intended times due but not yet sent
	ready    ring[*conn] // connections with a free pipeline slot
	inflight int         // sent and unanswered, over all connections
	ticker   *ticker     // nil in closed loop
	tickFn   func()
	spinFn   func()
	// spinning: a spinTick is armed. Not a phase: it latches one timer of
	// the schedule, armed and fired within phaseLoad, and a drain or an
	// abort leaves it to fire harmlessly rather than cancel it.
	spinning bool
	endFn    func()
	windowFn func()
	drainFn  func()

	// Idle pool.
	idleSched    stride
	idleStart    int64
	idleStarted  int
	idleResolved int
	idleBlocked  bool // the idle window is full: the next resolve starts more
	idleOpened   int
	idleAlive    int
	idleErrs     [numKinds]int64
	idleFirst    [numKinds]string // the first message of each kind
	idleTickFn   func()

	// Read by the coordinator to tell a dead server from a slow one.
	established  atomic.Int64 // active connections currently open
	progress     atomic.Int64 // ns of the last connect or response
	lastProgress int64        // loop-local copy, to store the atomic rarely
	lastErr      atomic.Value // string: the last connect error
	portsOut     atomic.Bool  // a connect failed for want of a local port
}

func newWorker(id int, p *plan, loop *eventloop.Loop, conns, idle int) *worker {
	method := p.method
	if method == "" {
		method = "GET"
	}
	req := wire.AppendRequestMethod(nil, method, p.tgt.host, p.tgt.path)
	w := &worker{
		id:      id,
		p:       p,
		loop:    loop,
		dial:    newDialer(p.tgt.addr, p.firstSource, p.sources, id),
		rlen:    len(req),
		pending: newRing[int64](64),
		ready:   newRing[*conn](max(conns, 1)),
	}
	for range p.pipeline {
		w.reqs = append(w.reqs, req...)
	}
	w.sweepFn = w.sweep
	w.tickFn = w.onTick
	w.spinFn = w.spinTick
	w.windowFn = w.onWindow
	w.endFn = w.onEnd
	w.drainFn = w.onDrainDeadline
	w.idleTickFn = w.onIdleTick
	w.active = make([]*conn, conns)
	for i := range w.active {
		w.active[i] = newConn(w)
	}
	w.idle = make([]*idleConn, idle)
	for i := range w.idle {
		w.idle[i] = newIdleConn(w)
	}
	return w
}

// clock reads the time in ns since the run's base. It is read at every
// send and every read, not taken from the loop's per-iteration cache: a
// busy iteration handles hundreds of connections, and the cached time
// would be off by the whole iteration for the last of them.
func (w *worker) clock() int64 { return int64(time.Since(w.p.base)) }

// at arms f to run when the clock reaches t. The delay is counted from
// the loop's cached time, which the loop's deadline is based on, so the
// timer never fires before t on the worker's own clock.
func (w *worker) at(t int64, f func()) eventloop.TimerID {
	now := int64(w.loop.Now().Sub(w.p.base))
	return w.loop.AfterFunc(time.Duration(t-now), f)
}

// dialWatched starts a non-blocking connect. Unless it completed at once
// (connected), the socket is watched until it is writable, when
// onWritable must check how the connect went; on error no fd is left open.
func (w *worker) dialWatched(onWritable func(fd int, fired eventloop.Mask)) (fd int, connected bool, err error) {
	fd, connected, err = w.dial.dial()
	if err != nil || connected {
		return fd, connected, err
	}
	if err := w.loop.Watch(fd, eventloop.Writable, onWritable); err != nil {
		_ = unix.Close(fd)
		return -1, false, err
	}
	return fd, false, nil
}

// connectError records a failed connect for the coordinator's verdict.
func (w *worker) connectError(err error) {
	w.lastErr.Store(err.Error())
	if errors.Is(err, unix.EADDRNOTAVAIL) {
		w.portsOut.Store(true)
	}
}

// noteErr keeps the first message of kind k seen during the load, for
// Result.FirstErrors; at is the input where a parse failed (nil
// otherwise). Only the first of each kind is formatted: every later one
// costs a comparison, so a server failing every request does not make the
// generator allocate per failure.
func (w *worker) noteErr(k ErrorKind, cause error, at []byte) {
	if w.rec == nil || w.rec.first[k] != "" || !w.phase.loading() {
		return
	}
	w.rec.first[k] = describeErr(cause, at, time.Duration(w.p.timeout))
}

// noteIdleErr is noteErr for the idle pool.
func (w *worker) noteIdleErr(k ErrorKind, cause error, at []byte) {
	if w.idleFirst[k] == "" {
		w.idleFirst[k] = describeErr(cause, at, time.Duration(w.p.timeout))
	}
}

func (w *worker) madeProgress(now int64) {
	if now-w.lastProgress > int64(10*time.Millisecond) {
		w.lastProgress = now
		w.progress.Store(now)
	}
}

// startConnect opens the active connections before the clock starts, so
// the first requests are not charged for the handshake and the open-loop
// schedule does not begin with a queue. Each connection gets one try
// here; those that fail are retried, and counted, once the load starts.
func (w *worker) startConnect(done chan<- int) {
	w.begin(phaseConnect, done)
	for _, c := range w.active {
		c.connect()
	}
	w.checkConnected()
}

func (w *worker) checkConnected() {
	if w.phase == phaseConnect && w.connTried == len(w.active) {
		w.signalDone()
	}
}

// startLoad begins the load phase: the window is [from, to), the
// schedule (open loop) counts from start.
func (w *worker) startLoad(start, from, to int64, done chan<- int) {
	w.begin(phaseLoad, done)
	w.rec = newRecorder(from, to, w.p.openLoop)
	w.rec.intervals = w.p.intervals
	w.start = start
	w.lastProgress = start
	if w.p.openLoop {
		w.loop.SetSpin(time.Duration(w.p.spin))
		w.sched = stride{p: w.p.pacer, step: uint64(w.p.loops), phase: uint64(w.id)}
		w.total = w.sched.count(time.Duration(to - start))
	}
	w.at(from, w.windowFn)
	w.at(to, w.endFn)
	now := w.clock()
	for _, c := range w.active {
		switch c.state {
		case stateDown:
			c.connect()
		case stateUp:
			c.start(now)
		}
	}
	if w.p.openLoop {
		w.onTick()
	}
}

// abort stops the load where it is, for a dead server or a cancelled run.
func (w *worker) abort() {
	w.stop()
	w.signalDone()
}

// rearmSweep schedules the periodic timeout check (begin starts it). A
// sweep over all connections every quarter timeout costs nothing at these
// counts and keeps the hot path free of per-request timers.
func (w *worker) rearmSweep() {
	period := min(max(time.Duration(w.p.timeout)/4, 10*time.Millisecond), 250*time.Millisecond)
	w.loop.AfterFunc(period, w.sweepFn)
}

func (w *worker) sweep() {
	if w.phase == phaseShutdown {
		return
	}
	now := w.clock()
	for _, c := range w.active {
		c.checkTimeout(now)
	}
	for _, c := range w.idle {
		c.checkTimeout(now)
	}
	w.rearmSweep()
}

// finish counts the idle connections still open and stops the loop. It
// runs on the loop after the load, posted by the coordinator.
func (w *worker) finish() {
	w.stop()
	for _, c := range w.idle {
		if c.alive() {
			w.idleAlive++
		}
	}
	w.loop.Stop()
}

// teardown releases everything once the loop has returned: attached
// connections are closed by the loop, raw fds still connecting by us.
func (w *worker) teardown() {
	w.enter(phaseShutdown)
	_ = w.loop.Close()
	for _, c := range w.active {
		c.closeConnecting()
	}
	for _, c := range w.idle {
		c.closeConnecting()
	}
	if w.ticker != nil {
		w.ticker.close()
	}
}
