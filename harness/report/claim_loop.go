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

func loopMemoryClaim(v view) Claim {
	c := Claim{
		Title: "An event loop's only limit is memory",
		Claim: "Because a loop needs no thread per task, the number of connections it can hold grows until memory runs out.",
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

// maxLevel is the largest level planned for a scenario.
func maxLevel(run results.Run, scenario string) int {
	m := 0
	for _, l := range run.ScenarioConfig(scenario).Levels {
		m = max(m, l)
	}
	return m
}
