package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	"c10k/internal/eventloop"
)

// deadPoll is how often the coordinator looks for a dead server.
const deadPoll = 50 * time.Millisecond

// phaseSlack bounds how long past its planned end a phase may run before
// the coordinator stops it anyway: every run stops by itself.
const phaseSlack = 5 * time.Second

// coordinator runs the phases from its own goroutine: it starts the
// loops, posts each phase to them, waits for their done signals, watches
// for a dead server, and merges the recorders once the loops have stopped.
type coordinator struct {
	p       *plan
	o       *Options
	res     *Result
	workers []*worker
	wg      sync.WaitGroup
	exited  chan error // a loop whose Run failed
	aborted string     // why the run stopped early, "" if it did not
	window  [2]int64   // the measured window, ns since base
	ended   int64      // when the load phase ended, ns since base
}

func (c *coordinator) start() error {
	c.p.base = time.Now()
	c.exited = make(chan error, c.p.loops)
	for i := range c.p.loops {
		loop, err := eventloop.New()
		if err != nil {
			c.closeLoops()
			return fmt.Errorf("loadgen: event loop: %w", err)
		}
		w := newWorker(i, c.p, loop, share(c.p.conns, c.p.loops, i), share(c.p.idle, c.p.loops, i))
		c.workers = append(c.workers, w)
		if c.p.openLoop {
			if w.ticker, err = newTicker(loop, w.tickFn); err != nil {
				c.closeLoops()
				return fmt.Errorf("loadgen: open-loop timer: %w", err)
			}
		}
	}
	for _, w := range c.workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := w.loop.Run(); err != nil {
				c.exited <- err
			}
		}()
	}
	return nil
}

// closeLoops releases loops that were created but never run.
func (c *coordinator) closeLoops() {
	for _, w := range c.workers {
		w.teardown()
	}
	c.workers = nil
}

// share is the i-th of k near-equal parts of n.
func share(n, k, i int) int {
	s := n / k
	if i < n%k {
		s++
	}
	return s
}

func (c *coordinator) run(ctx context.Context) {
	if c.p.idle > 0 {
		c.idlePhase(ctx)
	}
	if c.aborted == "" && c.p.conns > 0 {
		c.connectPhase(ctx)
	}
	if c.aborted == "" && c.o.Gate != nil {
		if err := c.o.Gate(ctx); err != nil {
			c.abort(fmt.Sprintf("stopped before the load: %v", err))
		}
	}
	if c.aborted == "" {
		c.loadPhase(ctx)
	}
	c.stopLoops()
	c.collect()
}

func (c *coordinator) idlePhase(ctx context.Context) {
	done := make(chan int, len(c.workers))
	begin := time.Now()
	for _, w := range c.workers {
		w.loop.Post(func() { w.startIdle(done) })
	}
	// The idle window lets a slow server stretch the opening past what the
	// connect rate alone would take: allow it eight times that (the
	// caller bounds the whole run anyway).
	limit := 8*time.Duration(float64(c.p.idle)/c.p.connectRate*float64(time.Second)) + time.Duration(c.p.timeout) + phaseSlack
	c.wait(ctx, done, limit, false)
	c.res.IdleOpenS = time.Since(begin).Seconds()
}

// connectPhase opens the active connections before the clock starts; it
// lasts until each has connected or failed once, at most one timeout.
func (c *coordinator) connectPhase(ctx context.Context) {
	done := make(chan int, len(c.workers))
	for _, w := range c.workers {
		w.loop.Post(func() { w.startConnect(done) })
	}
	c.wait(ctx, done, time.Duration(c.p.timeout)+phaseSlack, false)
}

func (c *coordinator) loadPhase(ctx context.Context) {
	done := make(chan int, len(c.workers))
	start := int64(time.Since(c.p.base))
	from := start + int64(c.o.Warmup)
	to := from + int64(c.o.Duration)
	c.window = [2]int64{from, to}
	if c.o.Started != nil {
		c.o.Started()
	}
	for _, w := range c.workers {
		// Before the post, so the dead-server watch never sees a stale time
		// if a loop is slow to pick the start up.
		w.progress.Store(start)
		w.loop.Post(func() { w.startLoad(start, from, to, done) })
	}
	limit := c.o.Warmup + c.o.Duration + time.Duration(c.p.timeout) + phaseSlack
	c.wait(ctx, done, limit, c.p.conns > 0)
	c.ended = int64(time.Since(c.p.base))
}

// wait collects one done signal per worker. Meanwhile it watches the
// context, the loops, the phase's time limit and, during the load, the
// server: when no active connection is open and none has been made and no
// answer received for DeadAfter, the server is gone and the run stops.
func (c *coordinator) wait(ctx context.Context, done <-chan int, limit time.Duration, watchDead bool) {
	tick := time.NewTicker(deadPoll)
	defer tick.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	pending := len(c.workers)
	for pending > 0 {
		select {
		case <-done:
			pending--
		case err := <-c.exited:
			c.abort(fmt.Sprintf("an event loop failed: %v", err))
			return // the others got abort; stopLoops waits for them
		case <-ctx.Done():
			c.abort(fmt.Sprintf("stopped early: %v", context.Cause(ctx)))
			pending = c.drainDone(done, pending)
		case <-deadline.C:
			c.abort(fmt.Sprintf("stopped early: the phase overran its %v limit", limit.Round(time.Millisecond)))
			pending = c.drainDone(done, pending)
		case <-tick.C:
			if watchDead {
				if msg := c.deadServer(); msg != "" {
					c.abort(msg)
					pending = c.drainDone(done, pending)
				}
			}
		}
	}
}

// drainDone waits briefly for the signals that abort provokes.
func (c *coordinator) drainDone(done <-chan int, pending int) int {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for pending > 0 {
		select {
		case <-done:
			pending--
		case <-t.C:
			return 0
		}
	}
	return 0
}

func (c *coordinator) deadServer() string {
	var open, last int64
	lastErr, portsOut := "", false
	for _, w := range c.workers {
		open += w.established.Load()
		last = max(last, w.progress.Load())
		if s, ok := w.lastErr.Load().(string); ok {
			lastErr = s
		}
		portsOut = portsOut || w.portsOut.Load()
	}
	idle := time.Duration(int64(time.Since(c.p.base)) - last)
	if open > 0 || idle < c.o.deadAfter() {
		return ""
	}
	if lastErr == "" {
		lastErr = "no answer"
	}
	if portsOut {
		// The server may be fine: this side ran out of (address, port) pairs.
		return fmt.Sprintf("out of local ports: no connection to %s could be opened for %v (last error: %s); "+
			"spread connections over more source addresses (-sources) or widen net.ipv4.ip_local_port_range; results are partial",
			c.p.tgt.addr, idle.Round(time.Millisecond), lastErr)
	}
	return fmt.Sprintf("server at %s gone: no connection open and no answer for %v (last error: %s); results are partial",
		c.p.tgt.addr, idle.Round(time.Millisecond), lastErr)
}

func (c *coordinator) abort(msg string) {
	if c.aborted != "" {
		return
	}
	c.aborted = msg
	for _, w := range c.workers {
		w.loop.Post(w.abort)
	}
}

// stopLoops counts the idle pool on each loop, stops the loops, waits for
// them and releases their descriptors.
func (c *coordinator) stopLoops() {
	for _, w := range c.workers {
		w.loop.Post(w.finish)
	}
	c.wg.Wait()
	for _, w := range c.workers {
		w.teardown()
	}
}

// collect merges the workers' figures into the result. The loops have
// returned, so their state is safe to read.
func (c *coordinator) collect() {
	r := c.res
	var recs []*recorder
	var idleErrs [numKinds]int64
	var idleFirst [numKinds]string
	for _, w := range c.workers {
		if w.rec != nil {
			recs = append(recs, w.rec)
		}
		r.IdleOpened += w.idleOpened
		r.IdleAlive += w.idleAlive
		for k, n := range w.idleErrs {
			idleErrs[k] += n
			if idleFirst[k] == "" {
				idleFirst[k] = w.idleFirst[k]
			}
		}
	}
	r.IdleErrors = kindMap(&idleErrs)
	r.IdleFirstErrors = firstMap(&idleFirst, &idleErrs)
	window := time.Duration(0)
	if c.ended > c.window[0] {
		window = time.Duration(min(c.ended, c.window[1]) - c.window[0])
	}
	r.merge(recs, window)
	if c.p.intervals {
		start := c.p.base
		if c.window[0] > 0 {
			start = start.Add(time.Duration(c.window[0]))
		}
		r.log = newIntervalLog(recs, start, window, c.p.openLoop)
	}
	if c.aborted != "" {
		r.Complete = false
		r.Message = joinMessages(r.Message, c.aborted)
	}
}

func joinMessages(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
