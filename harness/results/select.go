package results

import (
	"slices"

	"c10k/harness/proc"
)

// IdleTarget is the idle-connection count the per-connection figures are
// quoted at when every server reached it: the C10K number.
const IdleTarget = 10000

// ConcurrencyTarget is the concurrency latency figures are quoted at when
// every server reached it.
const ConcurrencyTarget = 1000

// Has reports whether a level carries the value a figure or table needs.
type Has func(Level) bool

// HasPerConn is true for a level with per-connection figures.
func HasPerConn(l Level) bool { return l.Level > 0 && l.Summary.PerConn.Conns > 0 }

// HasRPS is true for a level with a measured throughput.
func HasRPS(l Level) bool { return l.Summary.RPS.Median > 0 }

// HasLatency is true for a level with a measured p99.
func HasLatency(l Level) bool { return l.Summary.P99US.Median > 0 }

// HasHgrm is true for a level with at least one .hgrm file.
func HasHgrm(l Level) bool {
	for _, m := range l.Repeats {
		if m.HgrmFile != "" {
			return true
		}
	}
	return false
}

// CommonLevel picks the level to compare servers at: target if every
// scenario has it; otherwise the largest level every scenario has, not
// above target when one is; otherwise, when the servers share no level,
// the largest level any has (not above target when possible). target <= 0
// means "the largest". It returns 0 when no scenario has a level with the
// value.
func CommonLevel(scs []Scenario, target int, has Has) int {
	var common []int
	for i, sc := range scs {
		var lv []int
		for _, l := range sc.Levels {
			if has(l) {
				lv = append(lv, l.Level)
			}
		}
		if i == 0 {
			common = lv
			continue
		}
		common = slices.DeleteFunc(common, func(v int) bool { return !slices.Contains(lv, v) })
	}
	if len(common) > 0 {
		if target > 0 && slices.Contains(common, target) {
			return target
		}
		return largest(common, target)
	}
	var all []int
	for _, sc := range scs {
		for _, l := range sc.Levels {
			if has(l) {
				all = append(all, l.Level)
			}
		}
	}
	return largest(all, target)
}

// largest returns the largest value not above target (target <= 0: no
// bound), or the largest value when none is below target, or 0.
func largest(vs []int, target int) int {
	best, top := 0, 0
	found := false
	for _, v := range vs {
		top = max(top, v)
		if target <= 0 || v <= target {
			if !found || v > best {
				best, found = v, true
			}
		}
	}
	if found {
		return best
	}
	return top
}

// PerConnLevel picks the idle level per-connection costs are quoted at:
// IdleTarget when at least half of the servers reached it with
// per-connection figures (the others are quoted at their own largest
// level, and say so), otherwise the largest level they all reached.
func PerConnLevel(idle []Scenario) int {
	reached := 0
	for _, sc := range idle {
		for _, l := range sc.Levels {
			if l.Level == IdleTarget && HasPerConn(l) {
				reached++
				break
			}
		}
	}
	if len(idle) > 0 && 2*reached >= len(idle) {
		return IdleTarget
	}
	return CommonLevel(idle, IdleTarget, HasPerConn)
}

// LevelNear returns a scenario's level at level if it has the value
// there, else its largest level below that has it. ok is false when the
// scenario has no such level.
func LevelNear(sc Scenario, level int, has Has) (Level, bool) {
	var best Level
	found := false
	for _, l := range sc.Levels {
		if !has(l) || l.Level > level {
			continue
		}
		if !found || l.Level > best.Level {
			best, found = l, true
		}
	}
	return best, found
}

// MaxLevel returns the level with the highest value of f among the levels
// that have it, for "peak throughput" figures.
func MaxLevel(sc Scenario, has Has, f func(Level) float64) (Level, bool) {
	var best Level
	found := false
	for _, l := range sc.Levels {
		if has(l) && (!found || f(l) > f(best)) {
			best, found = l, true
		}
	}
	return best, found
}

// ScenarioConfig returns the run's configuration of a scenario, or the
// zero value when the run does not record it.
func (run Run) ScenarioConfig(name string) ScenarioConfig {
	for _, c := range run.Config.Scenarios {
		if c.Name == name {
			return c
		}
	}
	return ScenarioConfig{}
}

// ServerCPUCount is how many CPUs the servers were pinned to, 0 when the
// run does not say or the list does not parse.
func (run Run) ServerCPUCount() int { return countCPUs(run.Config.ServerCPUs) }

// ServerCPUList is the CPU list the servers of scenario ran on: the
// scenario's own when it has one (the cpu scenario's every CPU), else the
// run's.
func (run Run) ServerCPUList(scenario string) string {
	if l := run.ScenarioConfig(scenario).ServerCPUs; l != "" {
		return l
	}
	return run.Config.ServerCPUs
}

// ServerCPUCountOf is how many CPUs the servers of scenario ran on.
func (run Run) ServerCPUCountOf(scenario string) int { return countCPUs(run.ServerCPUList(scenario)) }

func countCPUs(list string) int {
	set, err := proc.ParseCPUList(list)
	if err != nil {
		return 0
	}
	return set.Count()
}

// GeneratorSaturated is the load generator's busiest loop's working share
// (loop_busy) from which a level's throughput ranks the client as much as
// the server.
const GeneratorSaturated = 0.9

// Saturated reports whether the load generator was saturated at l (the
// median repeat's loop_busy at or over GeneratorSaturated).
func (l Level) Saturated() bool { return l.Summary.LoadBusy.Median >= GeneratorSaturated }

// HasCPUPerReq is true for a level with a measured server CPU per request.
func HasCPUPerReq(l Level) bool { return l.Summary.ServerCPUPerReqUS.Median > 0 }
