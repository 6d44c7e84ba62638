package report

import (
	"fmt"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/units"
)

// Claim 1. A thread per connection is costly to start and to switch.

// threadCostInput is what claim 1 is judged on.
type threadCostInput struct {
	IdleLevel            int
	HaveMem              bool
	ThreadMem, EpollMem  float64 // bytes per connection, user + kernel
	ThreadThreadsPerConn float64
	CtxLevel             int
	HaveCtx              bool
	// Switcher names the thread-per-connection server the switching half
	// is judged on: Apache worker when the run has it, since only the
	// kernel schedules its threads, else the thread model, whose threads
	// also wait on Go's scheduler. ThreadCtx and ThreadRPS are its.
	Switcher            string
	ThreadCtx, EpollCtx float64 // context switches per request
	ThreadRPS, EpollRPS float64 // at CtxLevel
	MemTotal            uint64
}

// judgeThreadCost: threads are "expensive" in memory when a connection
// costs the thread model costlyRatio times what it costs the event loop,
// and "expensive to switch" when the thread model switches costlyRatio
// times as often per request and that costs it throughput (slowerRatio).
// Both: holds; one: partly; neither: does not hold.
func judgeThreadCost(in threadCostInput) (Verdict, string) {
	if !in.HaveMem && !in.HaveCtx {
		return NotMeasured, "the run has neither the idle nor the concurrency scenario for both the thread model and the event loop."
	}
	var found, missed []string
	if in.HaveMem {
		r := ratio(in.ThreadMem, in.EpollMem)
		s := fmt.Sprintf("a connection costs the thread model %s of memory against %s for the event loop (%s)",
			fmtBytes(in.ThreadMem), fmtBytes(in.EpollMem), fmtTimes(r))
		if r >= costlyRatio {
			found = append(found, s)
		} else {
			missed = append(missed, s)
		}
	}
	if in.HaveCtx {
		s := fmt.Sprintf("at C=%s %s switches %s times per request against %s for the event loop, and serves %s against %s",
			units.Count(float64(in.CtxLevel)), in.Switcher, fmtRatio(in.ThreadCtx), fmtRatio(in.EpollCtx), fmtRate(in.ThreadRPS), fmtRate(in.EpollRPS))
		if ratio(in.ThreadCtx, in.EpollCtx) >= costlyRatio && in.ThreadRPS <= slowerRatio*in.EpollRPS {
			found = append(found, s)
		} else {
			missed = append(missed, s)
		}
	}
	switch {
	case len(missed) == 0 && len(found) == 2:
		return Holds, capitalize(strings.Join(found, "; ")) + "."
	case len(found) == 0:
		return DoesNotHold, capitalize(strings.Join(missed, "; ")) + ": not the gap the claim implies."
	}
	because := capitalize(strings.Join(found, "; ")) + "."
	if len(missed) > 0 {
		because += " But " + strings.Join(missed, "; ") + "."
	} else {
		because += " The other half of the claim was not measured."
	}
	return Partly, because
}

func threadCostClaim(v view) Claim {
	c := Claim{
		Title: "A thread per connection is costly to start and to switch",
		Claim: "A server that gives every connection its own OS thread pays for it twice: " +
			"in memory for each thread, and in time when the kernel switches between thousands of them.",
	}
	in := threadCostInput{MemTotal: v.run.Env.MemTotal}
	in.IdleLevel = v.common("idle", results.IdleTarget, results.HasPerConn, registry.Thread, registry.Epoll)
	lt, okT := v.at("idle", registry.Thread, in.IdleLevel, results.HasPerConn)
	le, okE := v.at("idle", registry.Epoll, in.IdleLevel, results.HasPerConn)
	if okT && okE {
		in.HaveMem = true
		in.ThreadMem, in.EpollMem = memPerConn(lt.Summary.PerConn), memPerConn(le.Summary.PerConn)
		in.ThreadThreadsPerConn = lt.Summary.PerConn.Threads
	}
	in.Switcher, in.CtxLevel, in.HaveCtx = switchingJudged(v)
	if in.HaveCtx {
		ct, _ := v.at("concurrency", in.Switcher, in.CtxLevel, results.HasRPS)
		ce, _ := v.at("concurrency", registry.Epoll, in.CtxLevel, results.HasRPS)
		in.ThreadCtx, in.EpollCtx = ct.Summary.CtxSwitchesPerReq.Median, ce.Summary.CtxSwitchesPerReq.Median
		in.ThreadRPS, in.EpollRPS = ct.Summary.RPS.Median, ce.Summary.RPS.Median
		if in.Switcher == registry.Thread {
			in.Switcher = "the thread model"
		}
	}
	c.Verdict, c.Because = judgeThreadCost(in)

	if in.HaveMem {
		pt, pe := lt.Summary.PerConn, le.Summary.PerConn
		c.Evidence = append(c.Evidence, fmt.Sprintf(
			"Per connection at %s: thread model %s of user memory, %s of kernel stack, %s of page tables, threads %s; event loop %s, %s, %s, threads %s.",
			fmtLevel("idle", in.IdleLevel), fmtBytes(pt.PSSBytes), fmtBytes(pt.KernelStack), fmtBytes(pt.PageTables), fmtRatio(pt.Threads),
			fmtBytes(pe.PSSBytes), fmtBytes(pe.KernelStack), fmtBytes(pe.PageTables), fmtRatio(pe.Threads)))
		if in.MemTotal > 0 {
			total := in.ThreadMem * float64(in.IdleLevel)
			c.Evidence = append(c.Evidence, fmt.Sprintf(
				"In absolute terms, %s connections cost the thread model %s, %s of this machine's %s: "+
					"real, but thousands of threads fit in memory; the limits that bite first are counts (threads-max, pid_max, a runtime's thread cap), see the failures.",
				units.Count(float64(in.IdleLevel)), fmtBytes(total), fmtPercent(total/float64(in.MemTotal)), fmtBytes(float64(in.MemTotal))))
		}
	}
	if fs := v.failures("idle", registry.Thread); len(fs) > 0 {
		c.Evidence = append(c.Evidence, "The thread model failed holding idle connections: "+failureList("idle", fs)+".")
	}
	if fs := v.failures("concurrency", registry.Thread); len(fs) > 0 {
		c.Evidence = append(c.Evidence, "The thread model failed under load: "+failureList("concurrency", fs)+".")
	}
	if line := besideApacheWorker(v); line != "" {
		c.Evidence = append(c.Evidence, line)
	}
	c.Evidence = append(c.Evidence, "Creating a thread was not timed on its own: each connection's setup includes it, "+
		"so its cost is inside the throughput and latency figures rather than shown apart.")
	return c
}

// switchingJudged picks the server and level the switching half of claim
// 1 is judged on: Apache worker, a thread per connection whose threads
// only the kernel schedules, when the run has its context switches at a
// concurrency the event loop also served; else the thread model, whose
// threads also queue for Go's Ps (models/thread/doc.go: it switches
// about three times a request where a kernel thread would once).
func switchingJudged(v view) (server string, level int, ok bool) {
	for _, srv := range []string{registry.ApacheWorker, registry.Thread} {
		level = v.common("concurrency", 0, results.HasRPS, srv, registry.Epoll)
		lt, okT := v.at("concurrency", srv, level, results.HasRPS)
		_, okE := v.at("concurrency", registry.Epoll, level, results.HasRPS)
		if okT && okE && lt.Summary.CtxSwitchesPerReq.N > 0 {
			return srv, level, true
		}
	}
	return "", 0, false
}

// besideApacheWorker sets the thread model's cost per request beside
// Apache worker's, a thread-per-connection server in C, at each
// concurrency both served: what Go's runtime adds to a kernel thread's
// cost shows as the difference. "" when the run lacks either.
func besideApacheWorker(v view) string {
	sc, ok := v.get("concurrency", registry.Thread)
	if !ok {
		return ""
	}
	var parts []string
	for _, lt := range sc.Levels {
		la, ok := v.at("concurrency", registry.ApacheWorker, lt.Level, results.HasRPS)
		if !ok || !results.HasRPS(lt) {
			continue
		}
		t, a := lt.Summary, la.Summary
		parts = append(parts, fmt.Sprintf("C=%s: %s, %s switches, %s busy against %s, %s, %s",
			units.Count(float64(lt.Level)),
			fmtLatency(t.ServerCPUPerReqUS.Median), fmtRatio(t.CtxSwitchesPerReq.Median), fmtPercent(t.ServerCPUUtil.Median),
			fmtLatency(a.ServerCPUPerReqUS.Median), fmtRatio(a.CtxSwitchesPerReq.Median), fmtPercent(a.ServerCPUUtil.Median)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "What Go's runtime adds to a kernel thread: server CPU per request, context switches per request and the server's CPU busy share, thread model against " +
		registry.ApacheWorker + " (a thread per connection, in C): " + strings.Join(parts, "; ") + ". " +
		"The thread model's extra switches are Go's scheduler: a thread that wakes in read(2) runs Go code only with one of its Ps, " +
		"and when none is free one is handed to it through another thread. Ps for every thread would spare that, " +
		"but every stop of the world must then wait for each thread holding a P to be run by the kernel (models/thread/doc.go); " +
		"so the switching half of this claim is judged on " + registry.ApacheWorker + " when the run has it."
}
