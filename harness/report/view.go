package report

import (
	"math"
	"slices"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// view indexes a run's scenarios by name and server.
type view struct {
	run results.Run
	scs map[string][]results.Scenario // by scenario name, in server order
}

func newView(run results.Run, scs []results.Scenario) view {
	v := view{run: run, scs: map[string][]results.Scenario{}}
	for _, sc := range scs {
		v.scs[sc.Scenario] = append(v.scs[sc.Scenario], sc)
	}
	for name := range v.scs {
		slices.SortStableFunc(v.scs[name], func(a, b results.Scenario) int { return compareServers(a.Server, b.Server) })
	}
	return v
}

// compareServers orders servers like the figures' legends.
func compareServers(a, b string) int { return registry.Compare(a, b) }

// get returns one scenario of one server.
func (v view) get(scenario, server string) (results.Scenario, bool) {
	for _, sc := range v.scs[scenario] {
		if sc.Server == server {
			return sc, true
		}
	}
	return results.Scenario{}, false
}

// servers lists every server of the run, in legend order, with its kind.
func (v view) servers() []results.Scenario {
	seen := map[string]bool{}
	var out []results.Scenario
	for _, scs := range v.scs {
		for _, sc := range scs {
			if !seen[sc.Server] {
				seen[sc.Server] = true
				out = append(out, results.Scenario{Server: sc.Server, Kind: sc.Kind})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b results.Scenario) int { return compareServers(a.Server, b.Server) })
	return out
}

// at returns a server's level of a scenario exactly at level, if it has
// the value there.
func (v view) at(scenario, server string, level int, has results.Has) (results.Level, bool) {
	sc, ok := v.get(scenario, server)
	if !ok {
		return results.Level{}, false
	}
	for _, l := range sc.Levels {
		if l.Level == level && has(l) {
			return l, true
		}
	}
	return results.Level{}, false
}

// near returns a server's level at or below level (results.LevelNear).
func (v view) near(scenario, server string, level int, has results.Has) (results.Level, bool) {
	sc, ok := v.get(scenario, server)
	if !ok {
		return results.Level{}, false
	}
	return results.LevelNear(sc, level, has)
}

// common is results.CommonLevel over the given servers of a scenario (all
// of its servers when none are named).
func (v view) common(scenario string, target int, has results.Has, servers ...string) int {
	var scs []results.Scenario
	for _, sc := range v.scs[scenario] {
		if len(servers) == 0 || slices.Contains(servers, sc.Server) {
			scs = append(scs, sc)
		}
	}
	return results.CommonLevel(scs, target, has)
}

// failures returns a server's failures in a scenario.
func (v view) failures(scenario, server string) []results.Failure {
	sc, _ := v.get(scenario, server)
	return sc.Failures
}

// memPerConn is the user-space plus kernel (stack, page tables) cost of
// one connection, leaving out socket memory, which is machine-wide and
// counts both ends of every socket the same way for every server. A
// negative delta is noise (the rest of the machine freed more than the
// server took) and counts as zero.
func memPerConn(p results.PerConn) float64 {
	return math.Max(0, p.PSSBytes) + math.Max(0, p.KernelStack) + math.Max(0, p.PageTables)
}

// hasIdleAlive is true for an idle level with idle connections asked for.
func hasIdleAlive(l results.Level) bool { return l.Level > 0 && l.Summary.IdleAlive.N > 0 }
