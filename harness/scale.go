package harness

import (
	"fmt"
	"slices"

	"c10k/harness/results"
	"c10k/harness/scenario"
	"c10k/harness/units"
)

// A level that spreads over processes (the scale scenario) climbs toward a
// million connections; guard decides, before each, whether the server
// should climb further, so that a server stops at a named limit instead of
// the OOM killer's choice of victim or a minute-long level that cannot work.

// memoryReserve is the share of the machine's memory a level must leave
// available, after its estimated need.
const memoryReserve = 0.20

// firstLevelPerConn is the machine memory per connection assumed before a
// server's first level has measured its own: above what any server here
// costs with the load generator's side of each socket included.
const firstLevelPerConn = 64 << 10

// guard remembers, per scenario and server, what the last level cost and
// whether the server stopped climbing.
type guard struct {
	memTotal uint64
	perConn  map[fileKey]float64 // machine memory per connection at the last level measured
	stopped  map[fileKey]string  // why the server climbs no further
}

func newGuard(memTotal uint64) *guard {
	return &guard{memTotal: memTotal, perConn: map[fileKey]float64{}, stopped: map[fileKey]string{}}
}

// check returns why st must not run, or "": a server that stopped at a
// smaller level stays stopped, and a level whose estimated memory need
// would leave less than memoryReserve of the machine available does not
// start. Only spreading scenarios are guarded.
func (g *guard) check(st scenario.Step, memAvailable uint64) string {
	if st.Scenario.ConnsPerProc <= 0 {
		return ""
	}
	k := fileKey{st.Scenario.Name, st.Server.Name}
	if why, ok := g.stopped[k]; ok {
		return why
	}
	perConn, measured := g.perConn[k]
	if !measured {
		perConn = firstLevelPerConn
	}
	need := perConn * float64(scenario.Conns(st.Scenario, st.Level))
	left := float64(memAvailable) - need
	if floor := memoryReserve * float64(g.memTotal); g.memTotal > 0 && left < floor {
		how := "assumed"
		if measured {
			how = "measured at the previous level"
		}
		why := fmt.Sprintf("memory: about %s needed (%s per connection, %s, server and load generator together) would leave %s of %s available, under the %.0f%% kept free",
			units.Bytes(need), units.Bytes(perConn), how, units.Bytes(max(left, 0)), units.Bytes(float64(g.memTotal)), memoryReserve*100)
		g.stopped[k] = why
		return why
	}
	return ""
}

// after learns from a level that ran: its machine memory per connection,
// or, for a level that failed, that the server climbs no further.
func (g *guard) after(st scenario.Step, res levelResult) {
	if st.Scenario.ConnsPerProc <= 0 || res.interrupted {
		return
	}
	k := fileKey{st.Scenario.Name, st.Server.Name}
	if f := res.failure; f != nil {
		g.stopped[k] = fmt.Sprintf("stopped after failing at %s: %s", units.Count(float64(st.Level)), f.Reason)
		return
	}
	m := res.m
	if m == nil {
		return
	}
	if pc, ok := machinePerConn(m); ok {
		g.perConn[k] = pc
	}
	if want, got := m.Load.IdleRequested, m.Load.IdleOpened; want > 0 && float64(got) < openedEnough*float64(want) {
		why := fmt.Sprintf("connections: only %s of %s opened in %.0f s at %s", units.Count(float64(got)), units.Count(float64(want)),
			m.Load.IdleOpenS, units.Count(float64(st.Level)))
		if first := firstError(m.Load.IdleFirstErrors); first != "" {
			why += " (" + first + ")"
		}
		g.stopped[k] = why
	}
}

// openedEnough is the share of a level's idle connections that must open
// for the server to climb to the next level: one that could not be given
// this level's connections will not be given more.
const openedEnough = 0.95

// firstError is the first error of the kind first in alphabetical order,
// the kind named: one message, the same on every run.
func firstError(first map[string]string) string {
	kinds := make([]string, 0, len(first))
	for k := range first {
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return ""
	}
	k := slices.Min(kinds)
	return k + ": " + first[k]
}

// machinePerConn is how much MemAvailable fell per connection from the
// level's baseline to its point: the server, the load generator and the
// kernel's side of both ends together. The divisor is the larger of the
// server's count at the point and the idle connections the load generator
// held: at hundreds of thousands of connections a slow sample can read
// the count when the memory is already spent, and dividing by that count
// alone once made a 500k level look like 1.9 MiB per connection.
func machinePerConn(m *results.Measurement) (float64, bool) {
	before, at := m.MachineBaseline.MemAvailable, m.MachinePoint.MemAvailable
	conns := max(m.ServerConns, m.Load.IdleAlive)
	if conns <= 0 || before == 0 || at == 0 || at >= before {
		return 0, false
	}
	return float64(before-at) / float64(conns), true
}
