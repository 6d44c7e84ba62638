package report

import (
	"fmt"
	"strings"

	"c10k/harness/results"
	"c10k/harness/units"
)

// buildHeadline computes the headline table: per-connection costs at the
// idle level most servers reached, peak throughput, p99 at C=1000 (or the
// largest C every server reached), throughput of the wait and cpu
// scenarios at their largest common C, and failures.
func buildHeadline(v view) Headline {
	var h Headline
	idleLevel := results.PerConnLevel(v.scs["idle"])
	concLevel := v.common("concurrency", results.ConcurrencyTarget, results.HasLatency)
	waitLevel := v.common("wait", 0, results.HasRPS)
	cpuLevel := v.common("cpu", 0, results.HasRPS)
	var at []string
	for _, q := range []struct {
		what, scenario string
		level          int
	}{
		{"per-connection figures", "idle", idleLevel},
		{"p99 and server CPU per request", "concurrency", concLevel},
		{"the wait scenario", "wait", waitLevel},
		{"the cpu scenario", "cpu", cpuLevel},
	} {
		if q.level > 0 {
			at = append(at, q.what+" at "+fmtLevel(q.scenario, q.level))
		}
	}
	if len(at) > 0 {
		h.Levels = capitalize(strings.Join(at, "; ")) + "."
	}

	anySaturated, anyNegative := false, false
	for _, s := range v.servers() {
		row := HeadlineRow{Server: s.Server, Kind: s.Kind}
		row.PSSPerConn, row.KernelPerConn, row.SocketPerConn, row.ThreadsPerConn, row.FDsPerConn = none, none, none, none, none
		row.PeakRPS, row.P99, row.WaitRPS, row.CPURPS, row.Failures = none, none, none, none, none

		if l, ok := v.near("idle", s.Server, idleLevel, results.HasPerConn); ok {
			pc := l.Summary.PerConn
			anyNegative = anyNegative || pc.PSSBytes < 0 || pc.KernelStack+pc.PageTables < 0 || pc.SocketBytes < 0
			at := ""
			if l.Level != idleLevel {
				at = " (at " + units.Count(float64(l.Level)) + ")"
			}
			row.PSSPerConn = fmtBytes(pc.PSSBytes) + at
			row.KernelPerConn = fmtBytes(pc.KernelStack + pc.PageTables)
			row.SocketPerConn = fmtBytes(pc.SocketBytes)
			row.ThreadsPerConn = fmtRatio(pc.Threads)
			row.FDsPerConn = fmtRatio(pc.FDs)
		}
		if sc, ok := v.get("concurrency", s.Server); ok {
			if l, ok := results.MaxLevel(sc, results.HasRPS, func(l results.Level) float64 { return l.Summary.RPS.Median }); ok {
				row.PeakRPS = fmt.Sprintf("%s (C=%s)", fmtRate(l.Summary.RPS.Median), units.Count(float64(l.Level)))
				if l.Saturated() {
					row.PeakRPS += " †"
					anySaturated = true
				}
			}
		}
		if l, ok := v.near("concurrency", s.Server, concLevel, results.HasLatency); ok {
			row.P99 = fmtLatency(l.Summary.P99US.Median)
			if l.Level != concLevel {
				row.P99 += " (at C=" + units.Count(float64(l.Level)) + ")"
			}
		}
		row.CPUPerReq = none
		if l, ok := v.at("concurrency", s.Server, concLevel, results.HasCPUPerReq); ok {
			row.CPUPerReq = fmtLatency(l.Summary.ServerCPUPerReqUS.Median)
		}
		if l, ok := v.at("wait", s.Server, waitLevel, results.HasRPS); ok {
			row.WaitRPS = fmtRate(l.Summary.RPS.Median)
		}
		if l, ok := v.at("cpu", s.Server, cpuLevel, results.HasRPS); ok {
			row.CPURPS = fmtRate(l.Summary.RPS.Median)
		}
		row.Failures = failureSummary(v, s.Server)
		h.Rows = append(h.Rows, row)
	}
	h.Notes = append(h.Notes,
		"Per connection: the server's PSS over its idle baseline, divided by the connections it held. "+
			"Kernel: kernel stacks plus page tables; socket: slab memory. Both kernel figures are machine-wide deltas, "+
			"so they include the load generator's end of every socket.")
	if anyNegative {
		h.Notes = append(h.Notes, "A negative per-connection figure is noise: over that level the rest of the machine "+
			"freed more memory than the server's connections took. Read it as \"too small to measure here\".")
	}
	if anySaturated {
		h.Notes = append(h.Notes, fmt.Sprintf("†: the load generator's busiest event loop was working %.0f%% of the time or more at that level: "+
			"the figure ranks the client as much as the server; the CPU per request column ranks the servers there.", 100*results.GeneratorSaturated))
	}
	return h
}

// failureSummary lists a server's failures in every scenario, briefly.
func failureSummary(v view, server string) string {
	var parts []string
	for _, name := range scenarioOrder {
		for _, f := range v.failures(name, server) {
			kind := f.Kind
			if kind == "" {
				kind = "failed"
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s)", name, shortLevel(name, f.Level), kind))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// shortLevel is a level in a table cell: "C=10k", "15k".
func shortLevel(scenario string, level int) string {
	n := units.Count(float64(level))
	switch scenario {
	case "idle", scaleScenario:
		return n
	case "rate":
		return n + " req/s"
	case "gather":
		return "K=" + n
	}
	return "C=" + n
}

// scenarioOrder is the order scenarios are listed in.
var scenarioOrder = []string{"idle", "concurrency", "rate", "wait", "cpu"}
