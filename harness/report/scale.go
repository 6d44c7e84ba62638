package report

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"c10k/harness/results"
	"c10k/harness/scenario"
	"c10k/harness/units"
)

// The scale scenario (c10k bench -scale) climbs from 10k idle connections
// toward a million, each level spread over server and load processes; a
// server climbs until a level is skipped (the planner's thread limit, the
// harness's memory guard, connections that could not be opened) or fails.
// The report says how far each server got, what a connection cost there,
// and what stopped it.

// scaleSection is the heading the section and claim 3 link to.
const scaleSection = "Past one process: toward a million idle connections"

// scaleReach is how far one server climbed in the scale scenario.
type scaleReach struct {
	Server string
	Kind   string
	Top    int           // the largest level of its grid
	Held   results.Level // the largest level held; Level 0 when none
	// Costs is the largest held level whose per-connection figures are
	// reliable (reliableCosts): Held itself, unless the server's count at
	// its point fell short of the connections held.
	Costs results.Level
	Procs int     // server processes at the level held
	OpenS float64 // seconds to open the held level's idle connections
	// Limit is what stopped it above Held, with the level: "" when it held
	// Top, or when nothing above it was recorded (a run cut short).
	Limit string
	// Kind of the limit, from limitKind: "" when the limit names none.
	LimitKind string
}

// heldLevel is true for a level that kept at least aliveMin of its idle
// connections open to the end.
func heldLevel(l results.Level) bool {
	return hasIdleAlive(l) && l.Summary.IdleAlive.Median/float64(l.Level) >= aliveMin
}

// reliableCosts is true for a level whose per-connection figures divide
// by a server connection count that agrees with the idle connections the
// load generator held: at hundreds of thousands of connections a slow
// sample can count the server's connections before the pool is open while
// the memory is read later, and its quotients are then no cost of anything.
func reliableCosts(l results.Level) bool {
	return l.Summary.ServerConns.Median >= 0.9*l.Summary.IdleAlive.Median
}

// costsAt names the level the per-connection figures come from when it is
// not the level held: " (at 200k)".
func costsAt(r scaleReach) string {
	if r.Costs.Level == r.Held.Level {
		return ""
	}
	if r.Costs.Level == 0 {
		return " (no level counted reliably)"
	}
	return " (at " + units.Count(float64(r.Costs.Level)) + ")"
}

// userPerConn and kernelPerConn are the two sides of a connection's
// memory at a scale level: the server's PSS, and the machine's kernel
// memory (stacks, page tables, slab: both socket ends).
func userPerConn(pc results.PerConn) float64 { return pc.PSSBytes }

func kernelPerConn(pc results.PerConn) float64 {
	if pc.KernelBytes != 0 {
		return pc.KernelBytes
	}
	// Results written before KernelBytes was recorded: the same sum.
	return pc.KernelStack + pc.PageTables + pc.SocketBytes
}

// limitCandidate is a level above the one held where something stopped
// the climb; rank orders candidates at the same level (a failure before
// the skip it caused).
type limitCandidate struct {
	level  int
	rank   int
	reason string // as recorded, to classify
	text   string // as the report says it
}

// reachOf measures how far sc's server climbed. skips are every skip of
// the scale scenario (the run's and the files'), cfg its grid. What
// stopped it is the first failure or skip above the level held; a level
// that ran but kept too few of its connections is named only when
// nothing was recorded after it.
func reachOf(sc results.Scenario, skips []results.Skip, cfg results.ScenarioConfig) scaleReach {
	r := scaleReach{Server: sc.Server, Kind: sc.Kind}
	if len(sc.Config.Levels) > 0 {
		cfg = sc.Config
	}
	for _, l := range cfg.Levels {
		r.Top = max(r.Top, l)
	}
	for _, l := range sc.Levels {
		if heldLevel(l) && l.Level > r.Held.Level {
			r.Held = l
		}
		if heldLevel(l) && reliableCosts(l) && l.Level > r.Costs.Level {
			r.Costs = l
		}
	}
	if r.Held.Level > 0 {
		r.Procs = scenario.Procs(cfg, r.Held.Level)
		r.OpenS = medianOf(r.Held.Repeats, func(m results.Measurement) float64 { return m.Load.IdleOpenS })
	}
	if r.Top > 0 && r.Held.Level >= r.Top {
		return r
	}
	var stops, short []limitCandidate
	for _, f := range sc.Failures {
		if f.Level > r.Held.Level {
			reason := orDefault(oneLine(f.Reason), "no reason recorded")
			text := "failed at " + units.Count(float64(f.Level))
			if f.Kind != "" {
				text += " (" + f.Kind + ")"
			}
			stops = append(stops, limitCandidate{f.Level, 0, reason, text + ": " + reason})
		}
	}
	for _, s := range skips {
		if s.Server == sc.Server && s.Level > r.Held.Level {
			reason := oneLine(s.Reason)
			stops = append(stops, limitCandidate{s.Level, 1, reason, "skipped " + units.Count(float64(s.Level)) + ": " + reason})
		}
	}
	for _, l := range sc.Levels {
		if l.Level > r.Held.Level && hasIdleAlive(l) {
			text := fmt.Sprintf("at %s, kept only %s of its idle connections open",
				units.Count(float64(l.Level)), fmtPercent(l.Summary.IdleAlive.Median/float64(l.Level)))
			short = append(short, limitCandidate{level: l.Level, reason: "connections: " + text, text: text})
		}
	}
	if len(stops) == 0 {
		stops = short
	}
	if len(stops) == 0 {
		return r
	}
	first := slices.MinFunc(stops, func(a, b limitCandidate) int {
		return cmp.Or(cmp.Compare(a.level, b.level), cmp.Compare(a.rank, b.rank))
	})
	r.Limit = first.text
	r.LimitKind = limitKind(first.reason)
	return r
}

// medianOf is the median of f over the repeats where it is positive.
func medianOf(ms []results.Measurement, f func(results.Measurement) float64) float64 {
	var xs []float64
	for _, m := range ms {
		if v := f(m); v > 0 {
			xs = append(xs, v)
		}
	}
	return results.StatOf(xs).Median
}

// Kinds of limit a stop reason can name.
const (
	limitMemory      = "memory"
	limitDescriptors = "descriptors"
	limitPorts       = "ports"
	limitThreads     = "threads"
	limitConnections = "connections"
)

// limitKind names the limit a recorded reason points to: memory (the
// guard's "memory:", or an allocation that failed), descriptors, ports,
// threads, or connections that could not be opened (the guard's
// "connections:", timeouts, refusals); "" when it names none (a crash
// without a known cause). A "stopped after failing at ..." reason is
// judged by the failure it quotes.
func limitKind(reason string) string {
	r := strings.ToLower(strings.TrimSpace(reason))
	if rest, ok := strings.CutPrefix(r, "stopped after failing at "); ok {
		_, r, _ = strings.Cut(rest, ": ")
	}
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(r, w) })
	}
	switch {
	case strings.HasPrefix(r, "memory:"), has("cannot allocate memory", "out of memory", "enomem"):
		return limitMemory
	case has("too many open files", "emfile", "enfile", "rlimit_nofile", "descriptor", " fds "):
		return limitDescriptors
	case has("cannot assign requested address", "eaddrnotavail", "ephemeral port", "port range"):
		return limitPorts
	case has("threads", "pid_max", "threads-max", "resource temporarily unavailable"):
		return limitThreads
	case strings.HasPrefix(r, "connections:"), has("timeout", "timed out", "refused", "connection reset"):
		return limitConnections
	}
	return ""
}

// limitName is a limit kind as a sentence names it.
func limitName(kind string) string {
	switch kind {
	case limitMemory:
		return "memory"
	case limitDescriptors:
		return "the descriptor limit"
	case limitPorts:
		return "the ephemeral ports"
	case limitThreads:
		return "the thread limit"
	case limitConnections:
		return "connections that could not be opened in time"
	}
	return "a failure that names no resource"
}

// scaleReaches is every server's reach in the scale scenario, in legend
// order.
func scaleReaches(v view) []scaleReach {
	skips := scaleSkips(v)
	var out []scaleReach
	for _, sc := range v.scs[scaleScenario] {
		out = append(out, reachOf(sc, skips, v.config(scaleScenario)))
	}
	return out
}

// reachFor is one server's reach, if it ran the scale scenario.
func reachFor(v view, server string) (scaleReach, bool) {
	sc, ok := v.get(scaleScenario, server)
	if !ok {
		return scaleReach{}, false
	}
	return reachOf(sc, scaleSkips(v), v.config(scaleScenario)), true
}

// scaleSkips are the skipped levels of the scale scenario.
func scaleSkips(v view) []results.Skip {
	var out []results.Skip
	for _, s := range v.skips() {
		if s.Scenario == scaleScenario {
			out = append(out, s)
		}
	}
	return out
}

// buildScale is the scale section: one row per server, the kernel
// settings the run changed, and who sat out.
func buildScale(v view, fig FigureRef) ScaleSection {
	s := ScaleSection{Figure: fig}
	planned := v.config(scaleScenario).Name != ""
	if len(v.scs[scaleScenario]) == 0 {
		s.Missing = "Not measured: no run with the scale scenario was given."
		if planned {
			s.Missing = "Not measured: the scale scenario was planned but measured nothing" + statusClause(v.scale.run) + "."
		}
		s.Missing += " `make bench-scale` runs it (idle connections from 10k toward 1M, kernel limits raised for its duration " +
			"and put back), and `c10k report -scale DIR` adds it to this report."
		return s
	}
	s.Present = true
	s.Source = scaleSourceText(v)
	for _, r := range scaleReaches(v) {
		row := ScaleRow{Server: r.Server, Kind: r.Kind, Held: "none", Procs: none, UserPerConn: none, KernelPerConn: none,
			FDsPerConn: none, OpenTime: none, ConnectRate: none}
		if r.Held.Level > 0 {
			pc := r.Costs.Summary.PerConn
			row.Held = units.Count(float64(r.Held.Level))
			row.Procs = fmtInt(uint64(r.Procs))
			if r.Costs.Level > 0 {
				at := costsAt(r)
				row.UserPerConn = fmtBytes(userPerConn(pc)) + at
				row.KernelPerConn = fmtBytes(kernelPerConn(pc)) + at
				row.FDsPerConn = fmtRatio(pc.FDs) + at
			}
			row.OpenTime = fmtLatency(r.OpenS * 1e6)
			if cr := r.Held.Summary.ConnectRate.Median; cr > 0 {
				row.ConnectRate = units.Count(cr) + "/s"
			}
		}
		switch {
		case r.Top > 0 && r.Held.Level >= r.Top:
			row.Limit = "none: reached the top of the grid"
		case r.Limit != "":
			row.Limit = r.Limit
		default:
			row.Limit = "none recorded: the run ended before the levels above" + statusClause(v.scale.run)
		}
		s.Rows = append(s.Rows, row)
	}
	cfg := v.config(scaleScenario)
	s.Notes = append(s.Notes,
		fmt.Sprintf("Held: the largest level at which at least %s of the idle connections were still open at the end of the level.", fmtPercent(aliveMin)),
		"User space: the server's PSS (summed over its processes) above its baseline, per connection. Kernel: the machine-wide rise in "+
			"kernel stacks, page tables and slab per connection; server and load generator share the machine, so it counts both ends of every socket.",
		"Time to open: how long the load generator took to open the level's idle connections; connect rate: connections opened per second over all its processes.",
		"Stopped by: the first level above the largest held that was skipped or failed, and why. The planner skips levels past the machine's thread limit; "+
			"before each level the harness's guard stops a server whose next level would leave too little memory free (\"memory:\"), "+
			"that could not open the previous level's connections (\"connections:\"), or that failed (\"stopped after failing at ...\").")
	if cfg.ConnsPerProc > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("Processes: each level is spread over server processes of at most %s connections each, sharing one port "+
			"(SO_REUSEPORT; nginx's worker_processes), and as many load generator processes.", fmtInt(uint64(cfg.ConnsPerProc))))
	}
	for _, sc := range v.scale.run.Sysctls {
		s.Sysctls = append(s.Sysctls, SysctlRow{Name: sc.Name, Was: orDefault(oneLine(sc.Was), none),
			Set: orDefault(oneLine(sc.Set), "left as it was"), Note: orDefault(oneLine(sc.Note), none)})
	}
	var sos []results.SitOut
	for _, so := range v.sitOuts() {
		if so.Scenario == scaleScenario {
			sos = append(sos, so)
		}
	}
	s.SitOuts = buildSitOuts(sos)
	return s
}

// statusClause says why a run may have stopped short: "" for a complete
// run.
func statusClause(run results.Run) string {
	switch {
	case run.Error != "":
		return fmt.Sprintf(" (the run stopped early: %s)", oneLine(run.Error))
	case run.Status != "" && run.Status != results.StatusComplete:
		return fmt.Sprintf(" (the run is %s)", run.Status)
	}
	return ""
}

// scaleSourceText says which run and machine the scale figures come from,
// and, for a separate run, that the rest of the report comes from the main
// one.
func scaleSourceText(v view) string {
	sr := v.scale.run
	if !v.scale.separate {
		return fmt.Sprintf("Measured in this run, `%s`, on the machine of [the machine table](#the-machine) (host %s), like every other table of this report.",
			orDefault(sr.ID, filepath.Base(v.scale.dir)), orDefault(sr.Env.Hostname, none))
	}
	id := orDefault(sr.ID, filepath.Base(v.scale.dir))
	s := fmt.Sprintf("Measured by a separate run, `%s` (%s grid, %s, %s to %s, wall time %s), on %s. ",
		id, gridName(sr.Config), orDefault(sr.Status, "unknown"), fmtTime(sr.Started), fmtTime(sr.Finished), fmtSeconds(sr.WallTimeS),
		machineLine(sr.Env))
	s += fmt.Sprintf("The headline table, the other figures and the claims other than claim 3 come from the %s run `%s`.",
		gridName(v.run.Config), orDefault(v.run.ID, "unknown"))
	if a, b := sr.Env.Hostname, v.run.Env.Hostname; a != "" && b != "" && a != b {
		s += fmt.Sprintf(" Note: the two runs were made on different machines (%s and %s); compare them with care.", b, a)
	}
	return s
}

// machineLine describes a run's machine in one clause.
func machineLine(e results.Env) string {
	parts := []string{"host " + orDefault(e.Hostname, none)}
	if e.CPUModel != "" {
		parts = append(parts, e.CPUModel)
	}
	if e.Cores > 0 {
		parts = append(parts, fmt.Sprintf("%d CPUs", e.Cores))
	}
	if e.MemTotal > 0 {
		parts = append(parts, fmtBytes(float64(e.MemTotal))+" of memory")
	}
	if e.Kernel != "" {
		parts = append(parts, "kernel "+e.Kernel)
	}
	parts = append(parts, fmt.Sprintf("RLIMIT_NOFILE %s / %s", known(e.NoFileSoft), known(e.NoFileHard)),
		"pid_max "+known(uint64(max(0, e.PidMax))), "threads-max "+known(uint64(max(0, e.ThreadsMax))))
	return strings.Join(parts, ", ")
}

// perConnTotal is a scale level's user plus kernel memory per connection,
// a negative (noise) side counted as zero.
func perConnTotal(pc results.PerConn) float64 {
	return math.Max(0, userPerConn(pc)) + math.Max(0, kernelPerConn(pc))
}
