package loadgen

import (
	"strings"
	"testing"
)

func TestPhaseTransitions(t *testing.T) {
	tests := []struct {
		name     string
		from, to phase
		legal    bool
	}{
		{"happy: the coordinator's phases in order", phaseIdle, phaseConnect, true},
		{"happy: no idle pool skips it", phaseSetup, phaseConnect, true},
		{"happy: no active connections skip their connect", phaseIdle, phaseLoad, true},
		{"happy: open loop drains after its window", phaseLoad, phaseDrain, true},
		{"happy: closed loop ends with its window", phaseLoad, phaseEnded, true},
		{"happy: the drain ends", phaseDrain, phaseEnded, true},
		{"happy: an abort before the load", phaseConnect, phaseAborted, true},
		{"happy: teardown of a loop that never ran", phaseSetup, phaseShutdown, true},
		{"happy: teardown after the load", phaseEnded, phaseShutdown, true},
		{"sad: back to an earlier phase", phaseLoad, phaseConnect, false},
		{"sad: a load after an abort", phaseAborted, phaseLoad, false},
		{"sad: a drain without a load", phaseConnect, phaseDrain, false},
		{"sad: aborted is for before the load", phaseLoad, phaseAborted, false},
		{"sad: ended is for after the load", phaseIdle, phaseEnded, false},
		{"sad: nothing after shutdown", phaseShutdown, phaseShutdown, false},
		{"sad: an unknown phase", phase(42), phaseShutdown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.from.canEnter(tt.to); got != tt.legal {
				t.Errorf("%v -> %v legal = %v, want %v", tt.from, tt.to, got, tt.legal)
			}
		})
	}
}

func TestPhaseEnterPanicsOnAnIllegalMove(t *testing.T) {
	w := &worker{id: 3, phase: phaseAborted}
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "aborted -> load") {
			t.Errorf("panic %q, want one naming the move aborted -> load", msg)
		}
	}()
	w.enter(phaseLoad)
}

// stop is called by abort and by finish, in whatever phase the worker is:
// it must land in the one terminal phase that matches, and repeat safely.
func TestPhaseStop(t *testing.T) {
	tests := []struct {
		from, want phase
	}{
		{phaseSetup, phaseAborted},
		{phaseIdle, phaseAborted},
		{phaseConnect, phaseAborted},
		{phaseLoad, phaseEnded},
		{phaseDrain, phaseEnded},
		{phaseEnded, phaseEnded},
		{phaseAborted, phaseAborted},
		{phaseShutdown, phaseShutdown},
	}
	for _, tt := range tests {
		t.Run(tt.from.String(), func(t *testing.T) {
			w := &worker{phase: tt.from}
			w.stop()
			w.stop()
			if w.phase != tt.want {
				t.Errorf("stop from %v: %v, want %v", tt.from, w.phase, tt.want)
			}
			if !w.phase.stopped() {
				t.Errorf("%v after stop is not stopped", w.phase)
			}
		})
	}
}

// The predicates the connections ask, phase by phase: the table the
// booleans they replace used to spell out field by field.
func TestPhasePredicates(t *testing.T) {
	tests := []struct {
		p                phase
		stopped, loading bool
	}{
		{phaseSetup, false, false},
		{phaseIdle, false, false},
		{phaseConnect, false, false},
		{phaseLoad, false, true},
		{phaseDrain, false, true},
		{phaseEnded, true, true},
		{phaseAborted, true, false},
		{phaseShutdown, true, false},
	}
	for _, tt := range tests {
		if got := tt.p.stopped(); got != tt.stopped {
			t.Errorf("%v.stopped() = %v, want %v", tt.p, got, tt.stopped)
		}
		if got := tt.p.loading(); got != tt.loading {
			t.Errorf("%v.loading() = %v, want %v", tt.p, got, tt.loading)
		}
	}
	if len(transitions) != int(numPhases) || phase(-1).String() != "phase(-1)" || numPhases.String() != "phase(8)" {
		t.Error("every phase needs its transitions and its name")
	}
	for p := range numPhases {
		if p.String() == "" || strings.HasPrefix(p.String(), "phase(") {
			t.Errorf("phase %d has no name", int(p))
		}
	}
}
