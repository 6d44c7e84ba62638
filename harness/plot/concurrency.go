package plot

import (
	"strings"

	"c10k/harness/results"
	"c10k/harness/units"
)

// Axis labels shared by the concurrency figures.
var (
	concAxis = axisSpec{Label: "concurrent connections C (closed loop)", Format: units.Count, Scale: scaleLog}
	rpsAxis  = axisSpec{Label: "throughput (requests/s)", Format: units.Count, Scale: scaleLinear}
)

// closedLoopNote says what closed-loop numbers are, so nobody reads them
// as what users would see.
const closedLoopNote = "Closed loop: each connection sends its next request when the previous answer arrives."

// Throughput draws figure 5: requests per second against concurrency,
// from the concurrency scenario.
func Throughput(conc []results.Scenario) (*Figure, error) {
	ss := seriesAll(conc, fromSummary(func(s results.Summary) results.Stat { return s.RPS }))
	return lineFigure("05-throughput", "Throughput vs concurrent connections", ss,
		panelSpec{X: concAxis, Y: rpsAxis, Unit: "C"},
		closedLoopNote)
}

// Latency draws figure 6: p50, p99 and p99.9 latency against
// concurrency, one panel each on one shared log scale.
func Latency(conc []results.Scenario) (*Figure, error) {
	spec := func(title string) panelSpec {
		return panelSpec{
			Title: title,
			X:     axisSpec{Label: "concurrency C", Format: units.Count, Scale: scaleLog},
			Y:     axisSpec{Label: "latency", Format: units.Micros, Scale: scaleLog},
			Unit:  "C",
		}
	}
	return panelsFigure("06-latency", "Latency percentiles vs concurrent connections (closed loop)", conc, []panelDef{
		{fromSummary(func(s results.Summary) results.Stat { return s.P50US }), spec("p50 (median)")},
		{fromSummary(func(s results.Summary) results.Stat { return s.P99US }), spec("p99")},
		{fromSummary(func(s results.Summary) results.Stat { return s.P999US }), spec("p99.9")},
	}, "Closed-loop latency is the wait of a connection that sends again only after its answer; open-loop latency is figure 7.")
}

// CtxSwitches draws figure 11: context switches of the server per request
// served, against concurrency.
func CtxSwitches(conc []results.Scenario) (*Figure, error) {
	ss := seriesAll(conc, fromSummary(func(s results.Summary) results.Stat { return s.CtxSwitchesPerReq }))
	notes := []string{"Voluntary + involuntary switches of the server's processes over the measured window, divided by requests served."}
	if partial := leaderOnly(conc); len(partial) > 0 {
		notes = append(notes, "Main thread only (the rest of the threads were not read): "+strings.Join(partial, ", ")+".")
	}
	return lineFigure("11-ctx-switches", "Context switches per request vs concurrent connections", ss,
		panelSpec{
			X:    concAxis,
			Y:    axisSpec{Label: "context switches per request", Format: units.Count},
			Unit: "C",
		}, notes...)
}

// leaderOnly lists the servers whose context switches were read from the
// thread-group leader only (procfs reads the full count only on request),
// which undercounts a server with many threads.
func leaderOnly(scs []results.Scenario) []string {
	var out []string
	for _, sl := range levelsWhere(scs, partialCtxt) {
		out = append(out, sl.server)
	}
	return out
}

// serverLevels is a server and some of its levels.
type serverLevels struct {
	server string
	levels []int
}

// levelsWhere lists, in legend order, the servers with levels where pred
// holds, and those levels.
func levelsWhere(scs []results.Scenario, pred func(results.Level) bool) []serverLevels {
	var out []serverLevels
	for _, sc := range sortScenarios(scs) {
		var at []int
		for _, l := range sc.Levels {
			if pred(l) {
				at = append(at, l.Level)
			}
		}
		if len(at) > 0 {
			out = append(out, serverLevels{sc.Server, at})
		}
	}
	return out
}

func partialCtxt(l results.Level) bool {
	for _, m := range l.Repeats {
		if m.Point.Threads > 1 && !m.Point.CtxtAllThreads {
			return true
		}
	}
	return false
}

// CPUPerRequest draws figure 12: the server's CPU time per request against
// concurrency. Unlike throughput it ranks the servers even at levels where
// the load generator saturated, since it divides what the server spent by
// what it served, however fast the client asked.
func CPUPerRequest(conc []results.Scenario) (*Figure, error) {
	ss := seriesAll(conc, fromSummary(func(s results.Summary) results.Stat { return s.ServerCPUPerReqUS }))
	notes := []string{"Server CPU time (user + system, every process and thread) over the measured window, divided by requests served; lower is better."}
	if sat := saturatedAt(conc); len(sat) > 0 {
		notes = append(notes, "Load generator saturated (its throughput there ranks the client; this figure still ranks the servers): "+strings.Join(sat, ", ")+".")
	}
	return lineFigure("12-cpu-per-request", "Server CPU per request vs concurrent connections", ss,
		panelSpec{
			X:    concAxis,
			Y:    axisSpec{Label: "server CPU per request", Format: units.Micros, Scale: scaleLog},
			Unit: "C",
		}, notes...)
}

// saturatedAt lists "server at C=a, b" for the levels where the load
// generator was saturated.
func saturatedAt(scs []results.Scenario) []string {
	var out []string
	for _, sl := range levelsWhere(scs, results.Level.Saturated) {
		at := make([]string, len(sl.levels))
		for i, lv := range sl.levels {
			at[i] = units.Count(float64(lv))
		}
		out = append(out, sl.server+" at C="+strings.Join(at, ", "))
	}
	return out
}

// Classic draws figure 16: the 2008 nginx-against-Apache chart redrawn on
// this machine, requests per second and server memory against concurrent
// connections on a linear axis, as the original was. A linear axis gives
// the thousands their true width: a curve that bends at 4k looks it here,
// where figure 5's log axis squeezes 1k to 10k into a corner.
func Classic(conc []results.Scenario) (*Figure, error) {
	linear := axisSpec{Label: "concurrent connections C (closed loop)", Format: units.Count, Scale: scaleLinear}
	rps := fromSummary(func(s results.Summary) results.Stat { return s.RPS })
	pss := fromSummary(func(s results.Summary) results.Stat { return s.PSS })
	return sidePanels("16-classic", "Requests/s and memory vs concurrent connections, the 2008 nginx-Apache chart redrawn", conc, []panelDef{
		{rps, panelSpec{Title: "requests/s", X: linear, Y: axisSpec{Label: "requests/s", Format: units.Count, Scale: scaleLinear}, Unit: "C"}},
		{pss, panelSpec{Title: "server memory (PSS)", X: linear,
			Y: axisSpec{Label: "memory of all server processes", Format: units.Bytes, Scale: scaleLog, Binary: true}, Unit: "C"}},
	}, false,
		closedLoopNote,
		"Memory: the server's process tree (PSS) mid-run, on a log scale so that a flat few MiB still shows beside hundreds.")
}
