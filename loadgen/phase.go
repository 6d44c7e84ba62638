package loadgen

import (
	"fmt"
	"slices"
)

// phase is where a worker is in its life cycle. The coordinator moves all
// workers through idle, connect and load together, waiting for every done
// signal; the worker itself moves on from phaseLoad when its window ends,
// and an abort can cut any phase short. Each phase is one answer to the
// questions the connections ask: may I start something new (stopped), is
// what I see recorded (loading), is the open loop waiting for its last
// answers (phaseDrain), is the loop being torn down (phaseShutdown).
type phase int

const (
	phaseSetup    phase = iota // built, nothing posted yet
	phaseIdle                  // opening the idle pool
	phaseConnect               // opening the active connections, before the clock starts
	phaseLoad                  // sending: warm-up and measured window
	phaseDrain                 // open loop, schedule over: what is due still goes out; waiting for the last answers
	phaseEnded                 // the load is over (or was aborted): nothing new starts; late answers are still recorded
	phaseAborted               // stopped before the load began: nothing new starts, nothing is recorded
	phaseShutdown              // the loop is being torn down: OnClose is noise
	numPhases
)

var phaseNames = [numPhases]string{
	phaseSetup:    "setup",
	phaseIdle:     "idle",
	phaseConnect:  "connect",
	phaseLoad:     "load",
	phaseDrain:    "drain",
	phaseEnded:    "ended",
	phaseAborted:  "aborted",
	phaseShutdown: "shutdown",
}

// String returns the phase's name, as panics and test failures print it.
func (p phase) String() string {
	if p >= 0 && p < numPhases {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// transitions lists the phases a worker may enter from each phase: the
// coordinator's phases in order, any of them skipped when it has nothing
// to do (no idle pool, no active connections); the load's own ending;
// a stop from anywhere; and teardown last, from anywhere, even a loop
// that never ran.
var transitions = [numPhases][]phase{
	phaseSetup:    {phaseIdle, phaseConnect, phaseLoad, phaseAborted, phaseShutdown},
	phaseIdle:     {phaseConnect, phaseLoad, phaseAborted, phaseShutdown},
	phaseConnect:  {phaseLoad, phaseAborted, phaseShutdown},
	phaseLoad:     {phaseDrain, phaseEnded, phaseShutdown},
	phaseDrain:    {phaseEnded, phaseShutdown},
	phaseEnded:    {phaseShutdown},
	phaseAborted:  {phaseShutdown},
	phaseShutdown: nil,
}

// canEnter reports whether a worker in p may move to next.
func (p phase) canEnter(next phase) bool {
	return p >= 0 && p < numPhases && slices.Contains(transitions[p], next)
}

// stopped: no new request or connection may start.
func (p phase) stopped() bool {
	return p == phaseEnded || p == phaseAborted || p == phaseShutdown
}

// loading: the load has begun, so what the connections do is recorded,
// and a failed connect is counted and retried rather than left for
// startLoad. It stays true once the load has ended: answers still in
// flight are recorded (the recorder keeps only those in the window).
func (p phase) loading() bool {
	return p == phaseLoad || p == phaseDrain || p == phaseEnded
}

// enter moves the worker to next. An illegal move is a bug in the worker
// or the coordinator, not a condition of the run: it panics rather than
// let a load run on in a state nobody designed.
func (w *worker) enter(next phase) {
	if !w.phase.canEnter(next) {
		panic(fmt.Sprintf("loadgen: worker %d: illegal phase change %v -> %v", w.id, w.phase, next))
	}
	w.phase = next
}

// begin enters one of the coordinator's phases, whose end is signalled on
// done. The first of them starts the periodic timeout sweep.
func (w *worker) begin(p phase, done chan<- int) {
	if w.phase == phaseSetup {
		w.rearmSweep()
	}
	w.enter(p)
	w.done = done
}

// stop ends the worker's activity from wherever it is: nothing new starts.
// It may be called more than once.
func (w *worker) stop() {
	switch w.phase {
	case phaseLoad, phaseDrain:
		w.enter(phaseEnded)
	case phaseSetup, phaseIdle, phaseConnect:
		w.enter(phaseAborted)
	}
}

// signalDone tells the coordinator, once per phase, that this worker is
// through it: done is forgotten once used, and begin sets the next one.
func (w *worker) signalDone() {
	if w.done != nil {
		w.done <- w.id
		w.done = nil
	}
}
