package scenario

import (
	"fmt"
	"slices"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// Server is a server under test, as the registry describes it.
type Server = registry.Entry

// Limits are the machine's limits that cap the grid.
type Limits struct {
	NoFile     uint64 // RLIMIT_NOFILE hard limit each process may raise to
	PidMax     int
	ThreadsMax int
	TasksInUse int // threads running on the machine now
}

// fdReserve is what a process needs besides its connections.
const fdReserve = 100

// threadMargin is left free for everything else on the machine.
const threadMargin = 4000

// capFraction places the extra idle level under a server's own cap.
const capFraction = 0.95

// Step is one level run: one repeat of one level of one scenario against
// one server.
type Step struct {
	Scenario  results.ScenarioConfig
	Server    Server
	Level     int
	Repeat    int
	EstimateS float64 // expected wall time, seconds
	BudgetS   float64 // wall time after which the level is killed and recorded as a failure
}

// Plan is every step of a run, in order, and what was left out.
type Plan struct {
	Steps    []Step
	SitOuts  []results.SitOut // whole scenarios a server cannot run
	Skipped  []results.Skip   // levels the machine's limits rule out
	Warnings []string
}

// EstimateS is the plan's total expected wall time.
func (p *Plan) EstimateS() float64 {
	var s float64
	for _, st := range p.Steps {
		s += st.EstimateS
	}
	return s
}

// Conns is how many connections a level holds open: idle plus the probe,
// the concurrency, or the rate scenario's connections.
func Conns(sc results.ScenarioConfig, level int) int {
	switch {
	case holdsIdle(sc):
		return level + sc.ProbeConc
	case sc.Name == Rate:
		return sc.Connections
	}
	if sc.FanoutLevels {
		return sc.Connections
	}
	return level
}

// Active is how many of a level's connections carry requests: all of
// them but the idle scenario's idle pool.
func Active(sc results.ScenarioConfig, level int) int {
	if holdsIdle(sc) {
		return sc.ProbeConc
	}
	return Conns(sc, level)
}

// holdsIdle says whether sc's levels are idle connections held beside a
// probe (idle, scale).
func holdsIdle(sc results.ScenarioConfig) bool { return sc.ProbeConc > 0 }

// MakePlan lays out grid x servers x repeats, skipping what cannot or
// should not run on this machine and saying why.
func MakePlan(grid []results.ScenarioConfig, servers []Server, repeats int, lim Limits) Plan {
	if repeats < 1 {
		repeats = 1
	}
	var p Plan
	warned := map[string]bool{}
	warn := func(s string) {
		if !warned[s] {
			warned[s] = true
			p.Warnings = append(p.Warnings, s)
		}
	}
	unavailable := unavailableReasons(servers)
	for _, sc := range grid {
		for _, srv := range servers {
			reason := unavailable[srv.Name]
			if reason == "" {
				reason = sitOutReason(sc, srv)
			}
			if reason != "" {
				p.SitOuts = append(p.SitOuts, results.SitOut{Scenario: sc.Name, Server: srv.Name, Reason: reason})
				continue
			}
			levels := sc.Levels
			if holdsIdle(sc) && srv.MaxConns > 0 {
				levels = capLevels(sc, srv, levels, &p)
			}
			if sc.ConnsPerProc > 0 {
				levels = toThreadLimit(sc, srv, levels, lim)
			}
			for _, lv := range levels {
				if reason := skipReason(sc, srv, lv, lim); reason != "" {
					p.Skipped = append(p.Skipped, results.Skip{Scenario: sc.Name, Server: srv.Name, Level: lv, Reason: reason})
					warn(fmt.Sprintf("%s: %s level %d skipped: %s", srv.Name, sc.Name, lv, reason))
					continue
				}
				est := estimate(sc, srv, lv)
				for r := 0; r < repeats; r++ {
					p.Steps = append(p.Steps, Step{Scenario: sc, Server: srv, Level: lv, Repeat: r,
						EstimateS: est, BudgetS: 2*est + 20})
				}
			}
		}
	}
	return p
}

// unavailableReasons asks each server that can be missing from a machine
// (Entry.Available) whether it runs here, once, and returns why not for
// those that cannot: they sit out every scenario with that reason.
func unavailableReasons(servers []Server) map[string]string {
	out := map[string]string{}
	for _, srv := range servers {
		if srv.Available == nil {
			continue
		}
		if err := srv.Available(); err != nil {
			out[srv.Name] = "cannot run on this machine: " + err.Error()
		}
	}
	return out
}

// capLevels replaces the idle levels above a server's own cap by one level
// just under it, recording the skips.
func capLevels(sc results.ScenarioConfig, srv Server, levels []int, p *Plan) []int {
	var out []int
	capped := false
	at := int(float64(srv.MaxConns)*capFraction) - sc.ProbeConc
	for _, lv := range levels {
		if lv+sc.ProbeConc <= srv.MaxConns {
			out = append(out, lv)
			continue
		}
		capped = true
		p.Skipped = append(p.Skipped, results.Skip{Scenario: sc.Name, Server: srv.Name, Level: lv,
			Reason: fmt.Sprintf("%s holds at most %d connections (its configured cap, so it cannot exhaust memory); measured at %d instead", srv.Name, srv.MaxConns, at)})
	}
	if capped && at > 0 && (len(out) == 0 || out[len(out)-1] < at) {
		out = append(out, at)
	}
	return out
}

// needs is what a scenario asks of a server besides answering requests.
func needs(sc results.ScenarioConfig) registry.Abilities {
	return registry.Abilities{
		Wait:   sc.WaitMS > 0,
		Work:   sc.WorkUS > 0,
		Proxy:  sc.BackendWaitMS > 0,
		Fanout: sc.BackendWaitMS > 0 && (sc.FanoutLevels || sc.Fanout > 1),
		Procs:  sc.ConnsPerProc > 0,
	}
}

// sitOutReason says why srv cannot run sc at all, or "" when it can.
func sitOutReason(sc results.ScenarioConfig, srv Server) string {
	need := needs(sc)
	switch {
	case need.Proxy && !srv.Can.Proxy:
		return withLack("cannot proxy a request to a backend", srv.Lacks)
	case need.Fanout && !srv.Can.Fanout:
		return withLack("cannot make several backend calls at once for one request (no fan-out)", srv.Lacks)
	case need.Procs && !srv.Can.Procs:
		return "is not set up to run as N processes sharing a port (SO_REUSEPORT), the way past one process's descriptor limit; the idle scenario measures it"
	}
	var missing []string
	if need.Wait && !srv.Can.Wait {
		missing = append(missing, "a simulated wait")
	}
	if need.Work && !srv.Can.Work {
		missing = append(missing, "simulated CPU work")
	}
	if len(missing) == 0 {
		return ""
	}
	return "serves a fixed response: cannot add " + strings.Join(missing, " or ") + " per request"
}

// withLack adds why an ability is missing on this machine, when known.
func withLack(reason, lack string) string {
	if lack == "" {
		return reason
	}
	return reason + ": " + lack
}

// toThreadLimit adds, for a server with a thread per connection, one level
// just under the machine's thread limit when the grid jumps past it: the
// scale scenario then measures the thread model as far as it can go, not
// only as far as the grid's round numbers happen to fall.
func toThreadLimit(sc results.ScenarioConfig, srv Server, levels []int, lim Limits) []int {
	room := threadRoom(lim)
	if srv.ThreadsPerConn <= 0 || room >= 1<<29 {
		return levels
	}
	at := int(float64(room)*capFraction/srv.ThreadsPerConn) / 1000 * 1000
	out := slices.Clone(levels)
	i := slices.IndexFunc(out, func(lv int) bool { return Conns(sc, lv) > at })
	if i < 0 || (i > 0 && out[i-1] >= at) || at <= 0 {
		return levels
	}
	return slices.Insert(out, i, at)
}

// threadRoom is how many more threads the machine can take, keeping
// threadMargin spare.
func threadRoom(lim Limits) int {
	return min(nonZero(lim.PidMax), nonZero(lim.ThreadsMax)) - lim.TasksInUse - threadMargin
}

func skipReason(sc results.ScenarioConfig, srv Server, level int, lim Limits) string {
	conns := Conns(sc, level)
	procs := Procs(sc, level)
	if perProc := (conns + procs - 1) / procs; lim.NoFile > 0 && uint64(perProc+fdReserve) > lim.NoFile {
		if procs > 1 {
			return fmt.Sprintf("needs %d fds in each of %d server and load processes, RLIMIT_NOFILE hard limit is %d", perProc+fdReserve, procs, lim.NoFile)
		}
		return fmt.Sprintf("needs %d fds in the server and in the load generator, RLIMIT_NOFILE hard limit is %d", conns+fdReserve, lim.NoFile)
	}
	if srv.ThreadsPerConn > 0 {
		need := int(srv.ThreadsPerConn * float64(conns))
		room := threadRoom(lim)
		if need > room {
			return fmt.Sprintf("needs about %d threads; pid_max %d, threads-max %d and %d in use leave %d (keeping %d spare for the rest of the machine)",
				need, lim.PidMax, lim.ThreadsMax, lim.TasksInUse, max(room, 0), threadMargin)
		}
	}
	return ""
}

func nonZero(v int) int {
	if v <= 0 {
		return 1 << 30
	}
	return v
}

// Fixed costs of a level run, in seconds: start and settle, stop and the
// machine settling after the server's sockets close.
const (
	startS = 0.8
	stopS  = 0.5
	// backendS starts and stops a proxied level's backend.
	backendS = 0.4
)

func estimate(sc results.ScenarioConfig, srv Server, level int) float64 {
	s := startS + stopS + sc.WarmupS + sc.DurationS
	conns := Conns(sc, level)
	if holdsIdle(sc) && sc.ConnectRate > 0 {
		open := float64(level) / float64(sc.ConnectRate)
		if sc.ConnsPerProc > 0 {
			// The scale scenario asks for more than a small machine
			// gives (its load generator slows to the server's accept
			// pace): allow three times as long to open, and as long
			// again to close hundreds of thousands of sockets.
			open *= 4
		}
		s += open
	}
	// A pool grows only to its cap (prefork's MaxRequestWorkers): the
	// connections beyond it wait in the accept queue, not for spawns.
	if srv.MaxConns > 0 {
		conns = min(conns, srv.MaxConns)
	}
	s += srv.SpawnS * float64(conns)
	if sc.BackendWaitMS > 0 {
		s += backendS
	}
	return s
}
