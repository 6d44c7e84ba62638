package report

import (
	"fmt"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// Claim 2. Every thread holds a file descriptor.

// fdInput is what claim 2 is judged on.
type fdInput struct {
	Level                      int
	Have                       bool
	ThreadFDs, ThreadThreads   float64 // per connection
	EpollFDs, EpollThreads     float64
	NoFile                     uint64
	ThreadsMax, PidMax         int
	ThreadFailure, EpollFailed string
}

// judgeFD: descriptors belong to sockets, not threads. If the event loop
// holds about one descriptor per connection (oneFDLow..oneFDHigh) with no
// thread per connection (< noThreads), descriptors follow connections;
// if the thread model then also holds about one per connection, a thread
// adds none and the claim does not hold. A thread model with a second
// descriptor per connection would make it partly true.
func judgeFD(in fdInput) (Verdict, string) {
	if !in.Have {
		return NotMeasured, "the idle scenario did not run for both the thread model and the event loop."
	}
	loopFollows := in.EpollFDs >= oneFDLow && in.EpollFDs <= oneFDHigh && in.EpollThreads < noThreads
	s := fmt.Sprintf("descriptors per connection: event loop %s, thread model %s; threads per connection: event loop %s, thread model %s",
		fmtRatio(in.EpollFDs), fmtRatio(in.ThreadFDs), fmtRatio(in.EpollThreads), fmtRatio(in.ThreadThreads))
	switch {
	case loopFollows && in.ThreadFDs <= oneFDHigh:
		return DoesNotHold, capitalize(s) + ": a descriptor comes with each socket, whatever the model, and a thread adds none."
	case loopFollows:
		return Partly, capitalize(s) + ": the thread model holds more than one descriptor per connection, so something per thread does take one."
	}
	return Partly, capitalize(s) + ": the event loop's figures are not one descriptor per connection, so this run cannot settle it."
}

func fdClaim(v view) Claim {
	c := Claim{
		Title: "Every thread holds a file descriptor",
		Claim: "Every thread costs a file descriptor, so the descriptor limit caps a thread-per-connection server; an event loop escapes that cap.",
	}
	in := fdInput{NoFile: v.run.Env.NoFileSoft, ThreadsMax: v.run.Env.ThreadsMax, PidMax: v.run.Env.PidMax}
	in.Level = v.common("idle", results.IdleTarget, results.HasPerConn, registry.Thread, registry.Epoll)
	lt, okT := v.at("idle", registry.Thread, in.Level, results.HasPerConn)
	le, okE := v.at("idle", registry.Epoll, in.Level, results.HasPerConn)
	if okT && okE {
		in.Have = true
		in.ThreadFDs, in.ThreadThreads = lt.Summary.PerConn.FDs, lt.Summary.PerConn.Threads
		in.EpollFDs, in.EpollThreads = le.Summary.PerConn.FDs, le.Summary.PerConn.Threads
	}
	c.Verdict, c.Because = judgeFD(in)
	if in.Have {
		var rows []string
		for _, s := range v.servers() {
			if l, ok := v.near("idle", s.Server, in.Level, results.HasPerConn); ok {
				rows = append(rows, fmt.Sprintf("%s: fds %s, threads %s", s.Server,
					fmtRatio(l.Summary.PerConn.FDs), fmtRatio(l.Summary.PerConn.Threads)))
			}
		}
		c.Evidence = append(c.Evidence, fmt.Sprintf("Per connection at %s: %s.", fmtLevel("idle", in.Level), strings.Join(rows, "; ")))
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf(
		"What does cap threads is a count of tasks, not of descriptors: threads-max %s and pid_max %s on this machine "+
			"(and, for a Go program, the runtime's own thread cap), against a descriptor limit (RLIMIT_NOFILE) of %s that caps every model alike.",
		fmtInt(uint64(max(0, in.ThreadsMax))), fmtInt(uint64(max(0, in.PidMax))), fmtInt(in.NoFile)))
	if fs := v.failures("idle", registry.Thread); len(fs) > 0 {
		c.Evidence = append(c.Evidence, "The thread model's own failure: "+failureList("idle", fs)+".")
	}
	return c
}
