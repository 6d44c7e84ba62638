package results

import (
	"fmt"

	"c10k/harness/proc"
)

// Orphaned reports whether run says it is running while the harness that
// writes it is gone. A run from before the harness recorded itself
// (no pid) is never called orphaned: nothing says whose it is.
func (run Run) Orphaned() bool {
	return run.Status == StatusRunning && run.HarnessPID > 0 && !proc.Alive(run.HarnessPID, run.HarnessStart)
}

// markOrphaned turns an orphaned run's status into StatusInterrupted and
// says why, so plots and reports never present a dead run as running.
func (run *Run) markOrphaned() {
	if !run.Orphaned() {
		return
	}
	run.Status = StatusInterrupted
	if run.Error == "" {
		run.Error = fmt.Sprintf("interrupted: the harness (pid %d) died without finishing the run", run.HarnessPID)
	}
}
