package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"

	"c10k/harness/results"
	"c10k/harness/units"
)

// Wait draws figure 9: throughput against concurrency when every request
// waits on simulated backend I/O (cfg.WaitMS). The ideal line is Little's
// law, C / wait: what a server that never blocks could reach.
func Wait(wait []results.Scenario, cfg results.ScenarioConfig) (*Figure, error) {
	ss := seriesAll(wait, fromSummary(func(s results.Summary) results.Stat { return s.RPS }))
	spec := panelSpec{
		X:    concAxis,
		Y:    axisSpec{Label: "throughput (requests/s)", Format: units.Count, Scale: scaleLog},
		Unit: "C",
	}
	title := "Throughput vs concurrency with backend I/O per request"
	if cfg.WaitMS > 0 {
		title = fmt.Sprintf("Throughput vs concurrency, %s of backend I/O per request", units.Micros(cfg.WaitMS*1000))
		xs := values(ss, false)
		lo, hi := math.Inf(1), 0.0
		for _, x := range xs {
			if x > 0 {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		if hi > 0 {
			if l, err := refLine(plotter.XYs{{X: lo, Y: lo * 1000 / cfg.WaitMS}, {X: hi, Y: hi * 1000 / cfg.WaitMS}}); err == nil {
				spec.Refs = []ref{{Name: "ideal: C / wait", Line: l}}
			}
		}
	}
	return lineFigure("09-wait", title, ss, spec,
		"Closed loop. A server that never blocks on the wait follows the ideal line until the CPU or the load generator runs out.")
}

// CPU draws figure 10: throughput against concurrency when every request
// burns cfg.WorkUS of CPU. The ceiling lines are what serverCPUs cores
// can do at that much work per request; one core is the limit of a
// single event loop.
func CPU(cpu []results.Scenario, cfg results.ScenarioConfig, serverCPUs int) (*Figure, error) {
	ss := seriesAll(cpu, fromSummary(func(s results.Summary) results.Stat { return s.RPS }))
	spec := panelSpec{X: concAxis, Y: rpsAxis, Unit: "C"}
	title := "Throughput vs concurrency with CPU-bound requests"
	if cfg.WorkUS > 0 {
		title = fmt.Sprintf("Throughput vs concurrency, %s of CPU per request", units.Micros(cfg.WorkUS))
		lo, hi := math.Inf(1), 0.0
		for _, x := range values(ss, false) {
			if x > 0 {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		if hi > 0 {
			one := 1e6 / cfg.WorkUS
			if l, err := refLine(plotter.XYs{{X: lo, Y: one}, {X: hi, Y: one}}); err == nil {
				spec.Refs = append(spec.Refs, ref{Name: "1 core: 1 / work", Line: l})
			}
			if serverCPUs > 1 {
				n := float64(serverCPUs) * one
				if l, err := refLine(plotter.XYs{{X: lo, Y: n}, {X: hi, Y: n}}); err == nil {
					l.LineStyle.Dashes = nil
					spec.Refs = append(spec.Refs, ref{Name: fmt.Sprintf("%d cores", serverCPUs), Line: l})
				}
			}
		}
	}
	var notes []string
	switch {
	case serverCPUs == 1:
		notes = []string{"Server pinned to one CPU: every model shares the one-core ceiling, so this run cannot",
			"separate the single event loop from the models that could use more cores."}
	case serverCPUs > 1:
		notes = []string{fmt.Sprintf("Server pinned to %d CPUs: a single event loop can use one of them.", serverCPUs)}
	}
	return lineFigure("10-cpu", title, ss, spec, notes...)
}
