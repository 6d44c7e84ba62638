package loadgen

import "time"

// onTick moves every request that has come due into the pending queue,
// hands them to free connections, and re-arms for the next one. A server
// that falls behind leaves them queued: the schedule is kept, and each
// request's latency still counts from its intended time.
func (w *worker) onTick() {
	if w.phase != phaseLoad {
		return
	}
	now := w.clock()
	for w.next < w.total {
		due := w.start + int64(w.sched.offset(w.next))
		if due > now {
			break
		}
		w.pending.push(due)
		w.rec.scheduled(due)
		w.next++
	}
	w.dispatch(now)
	if w.next < w.total {
		due := w.start + int64(w.sched.offset(w.next))
		wait := due - w.clock()
		if wait < w.p.spin {
			w.spinUntil(due)
			return
		}
		if err := w.ticker.arm(time.Duration(wait)); err != nil {
			// Cannot happen with a valid timerfd; fall back to the loop's
			// millisecond timers rather than stall the schedule.
			w.at(due, w.tickFn)
		}
	}
}

// spinUntil has the loop poll until due rather than sleep on the ticker
// (the loop's spin horizon is the plan's, see DefaultSpin for why). One
// such timer at a time: due only moves forward, and when the armed one
// fires, onTick looks again.
func (w *worker) spinUntil(due int64) {
	if !w.spinning {
		w.spinning = true
		w.at(due, w.spinFn)
	}
}

func (w *worker) spinTick() {
	w.spinning = false
	w.onTick()
}

// dispatch sends pending requests on connections with free slots, oldest
// request first, connections in turn so all of them carry the load.
func (w *worker) dispatch(now int64) {
	for w.pending.len() > 0 && w.ready.len() > 0 {
		c := w.ready.pop()
		c.queued = false
		if c.state != stateUp || c.fifo.len() >= w.p.pipeline {
			continue
		}
		k := min(w.p.pipeline-c.fifo.len(), w.pending.len())
		for range k {
			t := w.pending.pop()
			c.fifo.push(flight{intended: t, sent: now})
			w.rec.sent(t, now)
		}
		w.inflight += k
		c.write(k)
		w.makeReady(c)
	}
}

func (w *worker) makeReady(c *conn) {
	if !c.queued && c.state == stateUp && c.fifo.len() < w.p.pipeline {
		c.queued = true
		w.ready.push(c)
	}
}

// outstanding is what the open loop still owes: queued plus in flight.
func (w *worker) outstanding() int { return w.pending.len() + w.inflight }

func (w *worker) checkDrained() {
	if w.phase == phaseDrain && w.outstanding() == 0 {
		w.enter(phaseEnded)
		w.signalDone()
	}
}

// onWindow opens the measured window, for the loop's busy share.
func (w *worker) onWindow() {
	w.rec.openWindow(w.clock(), w.loop.IdleTime())
}

// onEnd closes the window. Closed loop: stop, as wrk does; what is in
// flight is not counted. Open loop: the schedule is complete; wait up to
// one timeout for the answers, so the count is the schedule's.
func (w *worker) onEnd() {
	if w.phase != phaseLoad {
		return // aborted
	}
	w.rec.closeWindow(w.clock(), w.loop.IdleTime())
	if !w.p.openLoop {
		w.enter(phaseEnded)
		w.signalDone()
		return
	}
	w.onTick() // anything due right before the end, while still in phaseLoad
	w.enter(phaseDrain)
	w.at(w.rec.to+w.p.timeout, w.drainFn)
	w.checkDrained()
}

// onDrainDeadline gives up on the open loop's last answers: whatever is
// still queued or in flight has waited a full timeout past its intended
// time, so it counts as a timeout.
func (w *worker) onDrainDeadline() {
	if w.phase != phaseDrain {
		return // drained in time, or aborted
	}
	for w.pending.len() > 0 {
		w.rec.countAt(w.pending.pop(), ErrTimeout, 1)
	}
	for _, c := range w.active {
		for c.fifo.len() > 0 {
			w.rec.countAt(c.fifo.pop().intended, ErrTimeout, 1)
		}
	}
	w.inflight = 0
	w.enter(phaseEnded)
	w.signalDone()
}
