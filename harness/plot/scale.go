package plot

import (
	"fmt"
	"strings"

	"c10k/harness/results"
	"c10k/harness/units"
)

// scaleAxis is the scale scenario's x axis: idle connections held, 10k to 1M.
var scaleAxis = axisSpec{Label: "idle connections held", Format: units.Count, Scale: scaleLog}

// Scale draws figure 17: what a connection costs as the count climbs past
// one process's descriptor limit toward a million (make bench-scale): user
// space and kernel memory per connection, and how fast the load generator
// opened them. A server that stopped at a limit ends where it stopped; the
// report names the limit.
func Scale(scale []results.Scenario) (*Figure, error) {
	perConn := axisSpec{Label: "bytes per connection", Format: units.Bytes, Scale: scaleLog, Binary: true}
	notes := []string{"Server and load generator spread over processes of at most 15,000 connections each, sharing one port (SO_REUSEPORT).",
		"Kernel figures are machine-wide deltas divided by connections: both ends of every socket."}
	if stops := scaleStops(scale); len(stops) > 0 {
		notes = append(notes, "Stopped: "+strings.Join(stops, "; ")+".")
	}
	if bad := levelsWhere(scale, func(l results.Level) bool { return !countedRight(l) }); len(bad) > 0 {
		var at []string
		for _, sl := range bad {
			for _, lv := range sl.levels {
				at = append(at, sl.server+" at "+units.Count(float64(lv)))
			}
		}
		notes = append(notes, "Left out of the memory panels, the server's count at the point disagreeing with the connections held: "+strings.Join(at, ", ")+".")
	}
	return sidePanels("17-scale", "Idle connections toward a million: memory per connection and connect rate", scale, []panelDef{
		{countedPerConn(func(p results.PerConn) float64 { return p.PSSBytes }),
			panelSpec{Title: "user space (server PSS)", X: scaleAxis, Y: perConn, Unit: "conns"}},
		{countedPerConn(func(p results.PerConn) float64 { return p.KernelBytes }),
			panelSpec{Title: "kernel (stacks, page tables, slab)", X: scaleAxis, Y: perConn, Unit: "conns"}},
		{fromSummary(func(s results.Summary) results.Stat { return s.ConnectRate }),
			panelSpec{Title: "connections opened per second", X: scaleAxis,
				Y: axisSpec{Label: "connections/s", Format: units.Count, Scale: scaleLog}, Unit: "conns"}},
	}, false, notes...)
}

// countedRight is true for a level whose per-connection figures divide by
// a server connection count that agrees with the idle connections the
// load generator held (the harness notes the others): at hundreds of
// thousands of connections a slow sample can count before the pool is open.
func countedRight(l results.Level) bool {
	return l.Summary.ServerConns.Median >= 0.9*l.Summary.IdleAlive.Median
}

// countedPerConn is fromPerConn for the levels that counted right.
func countedPerConn(f func(results.PerConn) float64) picker {
	pick := fromPerConn(f)
	return func(l results.Level) (results.Stat, bool) {
		if !countedRight(l) {
			return results.Stat{}, false
		}
		return pick(l)
	}
}

// scaleStops names, per server, the first level it did not run and why
// (shortened to the limit's name), so the figure marks where and why each
// curve ends.
func scaleStops(scs []results.Scenario) []string {
	var out []string
	for _, sc := range sortScenarios(scs) {
		if len(sc.Skipped) == 0 {
			continue
		}
		first := sc.Skipped[0]
		for _, sk := range sc.Skipped {
			if sk.Level < first.Level {
				first = sk
			}
		}
		why, _, _ := strings.Cut(first.Reason, ";")
		if len(why) > 60 {
			why = why[:57] + "..."
		}
		out = append(out, fmt.Sprintf("%s before %s (%s)", sc.Server, units.Count(float64(first.Level)), why))
	}
	return out
}
