package report

import (
	"fmt"
	"math"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/units"
)

// Claim 3. An event loop's only limit is memory.

// loopInput is what claim 3 is judged on.
type loopInput struct {
	Have         bool
	Held         int     // idle connections the loop held at its largest level
	AliveFrac    float64 // of those, still open at the end
	BytesPerConn float64 // user + kernel + socket, per connection
	UserPerConn  float64
	Failure      string // the loop's idle failure, if any
	NoFile       uint64
	Ports        int // ephemeral ports: connections per client address
	MemTotal     uint64
}

// judgeLoopMemory: if the loop failed on descriptors (EMFILE) the claim
// does not hold; if the descriptor limit is below what memory would allow
// (MemTotal / bytes per connection), memory is not the first wall, so it
// partly holds; otherwise it holds.
func judgeLoopMemory(in loopInput) (Verdict, string) {
	if !in.Have || in.BytesPerConn <= 0 {
		return NotMeasured, "the idle scenario did not run for the event loop."
	}
	byMemory := float64(in.MemTotal) / in.BytesPerConn
	held := fmt.Sprintf("the event loop held %s idle connections at %s each", units.Count(float64(in.Held)), fmtBytes(in.BytesPerConn))
	f := strings.ToLower(in.Failure)
	switch {
	case strings.Contains(f, "emfile") || strings.Contains(f, "too many open files") || strings.Contains(f, "descriptor"):
		return DoesNotHold, capitalize(held) + ", then ran out of file descriptors (" + oneLine(in.Failure) + "), not memory."
	case in.NoFile > 0 && float64(in.NoFile) < byMemory:
		s := fmt.Sprintf("%s; this machine's memory would allow about %s such connections, "+
			"but the descriptor limit (RLIMIT_NOFILE %s) stops it first",
			capitalize(held), fmtCount(byMemory), fmtInt(in.NoFile))
		if in.Ports > 0 {
			s += fmt.Sprintf(", and one client address can open at most %s connections to one server port", fmtInt(uint64(in.Ports)))
		}
		return Partly, s + "."
	}
	return Holds, fmt.Sprintf("%s; memory would allow about %s, and no lower limit was set on this machine.",
		capitalize(held), fmtCount(byMemory))
}

// loopScaleInput is claim 3 judged from the scale scenario: how far the
// multi-process event loop climbed, what a connection cost there, and
// what stopped it.
type loopScaleInput struct {
	Held          int // the largest idle count it held; 0 for none
	Top           int // the top of its grid
	UserPerConn   float64
	KernelPerConn float64
	Limit         string // what stopped it above Held, with its level and figures
	LimitKind     string // limitKind of Limit
}

// judgeLoopScale: the claim holds when the loop held the top of the grid,
// or when memory (the harness's guard, a failed allocation) stopped it;
// it partly holds when another limit stopped it first (connections that
// could not be opened, descriptors, ports) or a failure that names no
// resource, which is named with its figures; a run that ended before the
// loop met the top or a limit decides nothing.
func judgeLoopScale(in loopScaleInput) (Verdict, string) {
	held := "the multi-process event loop held none of the levels"
	if in.Held > 0 {
		held = fmt.Sprintf("the multi-process event loop held %s idle connections at %s in user space and %s in the kernel per connection",
			units.Count(float64(in.Held)), fmtBytes(in.UserPerConn), fmtBytes(in.KernelPerConn))
	}
	switch {
	case in.Top > 0 && in.Held >= in.Top:
		return Holds, fmt.Sprintf("%s: the top of the grid, with no limit met on the way.", held)
	case in.Limit == "":
		return NotMeasured, fmt.Sprintf("%s, and the run ended before it reached the top of the grid (%s) or any limit.",
			held, units.Count(float64(in.Top)))
	case in.LimitKind == limitMemory:
		return Holds, fmt.Sprintf("%s; what stopped it above that was memory (%s).", held, in.Limit)
	}
	return Partly, fmt.Sprintf("%s; above that it was stopped by %s, not memory (%s).", held, limitName(in.LimitKind), in.Limit)
}

func loopMemoryClaim(v view) Claim {
	c := Claim{
		Title: "An event loop's only limit is memory",
		Claim: "Because a loop needs no thread per task, the number of connections it can hold grows until memory runs out.",
	}
	if r, ok := reachFor(v, registry.Epoll); ok {
		return loopScaleClaim(v, c, r)
	}
	in := loopInput{NoFile: v.run.Env.NoFileSoft, MemTotal: v.run.Env.MemTotal}
	if v.run.Env.PortRangeHigh > v.run.Env.PortRangeLow {
		in.Ports = v.run.Env.PortRangeHigh - v.run.Env.PortRangeLow + 1
	}
	if l, ok := v.near("idle", registry.Epoll, 1<<30, results.HasPerConn); ok {
		pc := l.Summary.PerConn
		in.Have = true
		in.Held = l.Level
		in.UserPerConn = pc.PSSBytes
		in.BytesPerConn = memPerConn(pc) + math.Max(0, pc.SocketBytes)
		if l.Summary.IdleAlive.N > 0 && l.Level > 0 {
			in.AliveFrac = l.Summary.IdleAlive.Median / float64(l.Level)
		}
	}
	if fs := v.failures("idle", registry.Epoll); len(fs) > 0 {
		in.Failure = fs[0].Reason
	}
	c.Verdict, c.Because = judgeLoopMemory(in)
	if in.Have {
		c.Evidence = append(c.Evidence, fmt.Sprintf(
			"Extrapolated: the event loop was measured up to %s connections in one process (the idle scenario); "+
				"what memory would allow is that figure scaled up, not a measurement. `make bench-scale` measures it toward a million.",
			units.Count(float64(in.Held))))
		if in.UserPerConn > 0 {
			c.Evidence = append(c.Evidence, fmt.Sprintf(
				"Of those %s per connection, %s is the loop's own (user space); the rest is kernel memory, mostly the two socket ends, which every server pays alike.",
				fmtBytes(in.BytesPerConn), fmtBytes(in.UserPerConn)))
		} else {
			c.Evidence = append(c.Evidence, fmt.Sprintf(
				"The loop's own (user-space) growth was below the noise of this run (%s per connection); the %s is kernel memory, mostly the two socket ends, which every server pays alike.",
				fmtBytes(in.UserPerConn), fmtBytes(in.BytesPerConn)))
		}
		if in.AliveFrac > 0 {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s of the idle connections were still open at the end of the level.", fmtPercent(in.AliveFrac)))
		}
		if grid := maxLevel(v.run, "idle"); grid > 0 && in.Held >= grid && in.Failure == "" {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s was the largest level in this run's grid: the loop was not pushed to its limit.", units.Count(float64(grid))))
		}
	}
	return c
}

// loopScaleClaim decides claim 3 from the scale scenario's measured
// levels, with nginx's climb beside the loop's.
func loopScaleClaim(v view, c Claim, r scaleReach) Claim {
	pc := r.Costs.Summary.PerConn
	in := loopScaleInput{Held: r.Held.Level, Top: r.Top, Limit: r.Limit, LimitKind: r.LimitKind}
	if r.Held.Level > 0 {
		in.UserPerConn, in.KernelPerConn = userPerConn(pc), kernelPerConn(pc)
	}
	c.Verdict, c.Because = judgeLoopScale(in)
	where := "this run"
	if v.scale.separate {
		where = "run `" + orDefault(v.scale.run.ID, "unknown") + "`"
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("Measured, not extrapolated: the scale scenario of %s (see [%s](#%s)), "+
		"with the server and the load generator each spread over processes.", where, scaleSection, anchor(scaleSection)))
	if r.Held.Level > 0 {
		line := fmt.Sprintf("At %s connections, over %d server processes: %s per connection in all%s, of which %s is the loop's own (user space) "+
			"and the rest kernel memory, mostly the two socket ends, which every server pays alike.",
			units.Count(float64(r.Held.Level)), r.Procs, fmtBytes(perConnTotal(pc)), costsAt(r), fmtBytes(math.Max(0, userPerConn(pc))))
		if r.OpenS > 0 {
			line += fmt.Sprintf(" Opening them took %s", fmtLatency(r.OpenS*1e6))
			if cr := r.Held.Summary.ConnectRate.Median; cr > 0 {
				line += fmt.Sprintf(" (%s connections/s)", units.Count(cr))
			}
			line += "."
		}
		c.Evidence = append(c.Evidence, line)
	}
	if n, ok := reachFor(v, registry.Nginx); ok {
		line := "nginx beside it held none of the levels"
		if n.Held.Level > 0 {
			npc := n.Costs.Summary.PerConn
			line = fmt.Sprintf("nginx beside it held %s at %s in user space and %s in the kernel per connection%s",
				units.Count(float64(n.Held.Level)), fmtBytes(userPerConn(npc)), fmtBytes(kernelPerConn(npc)), costsAt(n))
		}
		switch {
		case n.Top > 0 && n.Held.Level >= n.Top:
			line += ", the top of the grid."
		case n.Limit != "":
			line += fmt.Sprintf("; above that it was stopped by %s (%s).", limitName(n.LimitKind), n.Limit)
		default:
			line += "."
		}
		c.Evidence = append(c.Evidence, line)
	} else {
		c.Evidence = append(c.Evidence, "nginx did not run in the scale scenario.")
	}
	return c
}

// maxLevel is the largest level planned for a scenario.
func maxLevel(run results.Run, scenario string) int {
	m := 0
	for _, l := range run.ScenarioConfig(scenario).Levels {
		m = max(m, l)
	}
	return m
}
