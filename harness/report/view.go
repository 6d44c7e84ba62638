package report

import (
	"maps"
	"math"
	"slices"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

// view indexes a run's scenarios by name and server. The scale scenario
// may come from a second run (c10k bench -scale): scale says which.
type view struct {
	run   results.Run
	scs   map[string][]results.Scenario // by scenario name, in server order
	scale scaleSource
}

// scaleScenario is the scenario a second run directory contributes.
const scaleScenario = scenario.Scale

// scaleSource is the run the scale scenario comes from: the main run
// itself, or a second run directory.
type scaleSource struct {
	run      results.Run
	dir      string // its results directory
	separate bool   // a second run directory, not the main run
}

// ScaleRun is a second results directory, written by `c10k bench -scale`:
// its scale scenario, with its skips, sit-outs, warnings, kernel settings
// and machine, joins the report of the main run, and figure 17 is read
// from Dir/plots.
type ScaleRun struct {
	Run       results.Run
	Scenarios []results.Scenario
	Dir       string
}

func newView(run results.Run, scs []results.Scenario) view {
	v := view{run: run, scs: map[string][]results.Scenario{}, scale: scaleSource{run: run}}
	for _, sc := range scs {
		v.scs[sc.Scenario] = append(v.scs[sc.Scenario], sc)
	}
	for name := range v.scs {
		slices.SortStableFunc(v.scs[name], func(a, b results.Scenario) int { return compareServers(a.Server, b.Server) })
	}
	return v
}

// withScale takes the scale scenario from sr instead of the main run (nil
// keeps the main run's own, if it has one).
func (v view) withScale(sr *ScaleRun) view {
	if sr == nil {
		return v
	}
	v.scale = scaleSource{run: sr.Run, dir: sr.Dir, separate: true}
	scs := maps.Clone(v.scs)
	scs[scaleScenario] = nil
	for _, sc := range sr.Scenarios {
		if sc.Scenario == scaleScenario {
			scs[scaleScenario] = append(scs[scaleScenario], sc)
		}
	}
	slices.SortStableFunc(scs[scaleScenario], func(a, b results.Scenario) int { return compareServers(a.Server, b.Server) })
	if len(scs[scaleScenario]) == 0 {
		delete(scs, scaleScenario)
	}
	v.scs = scs
	return v
}

// runOf is the run a scenario's files come from.
func (v view) runOf(scenario string) results.Run {
	if scenario == scaleScenario {
		return v.scale.run
	}
	return v.run
}

// config is a scenario's grid, as the run it comes from planned it.
func (v view) config(scenario string) results.ScenarioConfig {
	return v.runOf(scenario).ScenarioConfig(scenario)
}

// all lists every scenario file of the view.
func (v view) all() []results.Scenario {
	var out []results.Scenario
	for _, name := range slices.Sorted(maps.Keys(v.scs)) {
		out = append(out, v.scs[name]...)
	}
	return out
}

// fromRun keeps the entries of the main run and, when the scale scenario
// comes from a second run, that run's scale entries in place of the main
// run's.
func fromRun[T any](v view, of func(results.Run) []T, scenario func(T) string) []T {
	var out []T
	for _, x := range of(v.run) {
		if !v.scale.separate || scenario(x) != scaleScenario {
			out = append(out, x)
		}
	}
	if v.scale.separate {
		for _, x := range of(v.scale.run) {
			if scenario(x) == scaleScenario {
				out = append(out, x)
			}
		}
	}
	return out
}

// skips lists the planned levels that did not run: the runs' own and
// every scenario file's.
func (v view) skips() []results.Skip {
	out := fromRun(v, func(r results.Run) []results.Skip { return r.Skipped }, func(s results.Skip) string { return s.Scenario })
	for _, sc := range v.all() {
		out = append(out, sc.Skipped...)
	}
	return out
}

// sitOuts lists the servers left out of whole scenarios.
func (v view) sitOuts() []results.SitOut {
	return fromRun(v, func(r results.Run) []results.SitOut { return r.SitOuts }, func(s results.SitOut) string { return s.Scenario })
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
