package plot

import (
	"fmt"
	"math"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"c10k/harness/results"
	"c10k/harness/units"
)

// The figures of the proxy scenarios: every server in front of a real
// backend that answers after a fixed wait.

// kAxis is the gather scenario's x axis: backend calls per request.
var kAxis = axisSpec{Label: "backend calls per request K", Format: units.Count, Scale: scaleLog}

// latencyAxis is a log latency axis.
var latencyAxis = axisSpec{Label: "latency", Format: units.Micros, Scale: scaleLog}

// Proxy draws figure 12: throughput and p99 latency against concurrency
// when every server proxies to a backend that waits cfg.BackendWaitMS.
// The throughput panel's ideal is Little's law, C / wait; the latency
// panel's floor is the wait itself.
func Proxy(proxy []results.Scenario, cfg results.ScenarioConfig) (*Figure, error) {
	rps := fromSummary(func(s results.Summary) results.Stat { return s.RPS })
	p99 := fromSummary(func(s results.Summary) results.Stat { return s.P99US })
	rpsSpec := panelSpec{Title: "throughput", X: concAxis,
		Y: axisSpec{Label: "requests/s", Format: units.Count, Scale: scaleLog}, Unit: "C"}
	latSpec := panelSpec{Title: "p99 latency", X: concAxis, Y: latencyAxis, Unit: "C"}
	title := "Proxying to a slow backend: throughput and p99 vs concurrent connections"
	if w := cfg.BackendWaitMS; w > 0 {
		title = fmt.Sprintf("Proxying to a %s backend: throughput and p99 vs concurrent connections", units.Micros(w*1000))
		lo, hi := xRange(seriesAll(proxy, rps))
		if hi > 0 {
			if l, err := refLine(plotter.XYs{{X: lo, Y: lo * 1000 / w}, {X: hi, Y: hi * 1000 / w}}); err == nil {
				rpsSpec.Refs = []ref{{Name: "ideal: C / wait", Line: l}}
			}
			if l, err := refLine(plotter.XYs{{X: lo, Y: w * 1000}, {X: hi, Y: w * 1000}}); err == nil {
				latSpec.Refs = []ref{{Name: "the backend's wait", Line: l}}
			}
		}
	}
	return sidePanels("13-proxy", title, proxy, []panelDef{{rps, rpsSpec}, {p99, latSpec}}, false,
		"Closed loop. A request waits on the backend's answer; a server that holds many such requests at once follows C / wait.")
}

// Gather draws figure 13: p50 and p99 latency against K, the backend
// calls each request makes, at the gather scenario's fixed concurrency.
// Calls made at once take about one wait whatever K; calls made one after
// another take K waits.
func Gather(gather []results.Scenario, cfg results.ScenarioConfig) (*Figure, error) {
	p50 := fromSummary(func(s results.Summary) results.Stat { return s.P50US })
	p99 := fromSummary(func(s results.Summary) results.Stat { return s.P99US })
	p50Spec := panelSpec{Title: "p50 (median)", X: kAxis, Y: latencyAxis, Unit: "K"}
	p99Spec := panelSpec{Title: "p99", X: kAxis, Y: latencyAxis, Unit: "K"}
	title := "Gather: latency vs backend calls per request"
	if w := cfg.BackendWaitMS; w > 0 {
		title = fmt.Sprintf("Gather: latency vs K backend calls of %s each, at C=%s", units.Micros(w*1000), units.Count(float64(cfg.Connections)))
		lo, hi := xRange(seriesAll(gather, p50))
		if hi > 0 {
			var refs []ref
			if l, err := refLine(plotter.XYs{{X: lo, Y: lo * w * 1000}, {X: hi, Y: hi * w * 1000}}); err == nil {
				refs = append(refs, ref{Name: "one after another: K x wait", Line: l})
			}
			if l, err := refLine(plotter.XYs{{X: lo, Y: w * 1000}, {X: hi, Y: w * 1000}}); err == nil {
				l.LineStyle.Dashes = nil
				refs = append(refs, ref{Name: "all at once: one wait", Line: l})
			}
			p50Spec.Refs, p99Spec.Refs = refs, refs
		}
	}
	return sidePanels("14-gather", title, gather, []panelDef{{p50, p50Spec}, {p99, p99Spec}}, true,
		"Closed loop. Each request is answered once all K backend answers are in.")
}

// ProxyResources draws figure 14: descriptors and threads the server held
// per in-flight request in the proxy scenario. In closed loop every
// connection has one request in flight, so the per-connection deltas are
// per in-flight request; the descriptors include the server's upstream
// connections.
func ProxyResources(proxy []results.Scenario) (*Figure, error) {
	fds := fromPerConn(func(p results.PerConn) float64 { return p.FDs })
	threads := fromPerConn(func(p results.PerConn) float64 { return p.Threads + p.Processes })
	perReq := func(title, label string) panelSpec {
		return panelSpec{Title: title, X: concAxis, Y: axisSpec{Label: label, Format: units.Count, Scale: scaleLinear}, Unit: "C"}
	}
	return sidePanels("15-proxy-resources", "Proxying: what each in-flight request holds", proxy, []panelDef{
		{fds, perReq("file descriptors", "per in-flight request")},
		{threads, perReq("threads and processes", "per in-flight request")},
	}, false,
		"Growth of the server's process tree from idle to the middle of the level, divided by the connections it held (closed loop: one request in flight each).",
		"Descriptors count the client's socket and the upstream sockets the server opened for it.")
}

// xRange is the smallest and largest positive x of the series.
func xRange(ss []series) (lo, hi float64) {
	lo = math.Inf(1)
	for _, x := range values(ss, false) {
		if x > 0 {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// sidePanels draws the scenarios once per panelDef, side by side with one
// legend that names the reference lines too; shared puts the panels on one
// Y scale (the same quantity), else each keeps its own Y label.
func sidePanels(name, title string, scs []results.Scenario, defs []panelDef, shared bool, notes ...string) (*Figure, error) {
	var (
		panels   []*gonum.Plot
		all      []series
		refs     []ref
		failures int
	)
	thumbs := map[string][]gonum.Thumbnailer{}
	seen := map[string]bool{}
	for i, d := range defs {
		ss := seriesAll(scs, d.pick)
		if shared && i > 0 {
			d.spec.Y.Label = ""
		}
		lp, err := buildLinePanel(ss, d.spec)
		if err != nil {
			continue
		}
		panels = append(panels, lp.Plot)
		for k, v := range lp.Thumbs {
			thumbs[k] = v
		}
		for _, r := range d.spec.Refs {
			if !seen[r.Name] {
				seen[r.Name] = true
				refs = append(refs, r)
			}
		}
		failures = max(failures, lp.Failures)
		if lp.Marks != nil && i < len(defs)-1 {
			lp.Marks.labels = false
		}
		all = ss
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoData, title)
	}
	if shared {
		shareY(panels...)
	}
	f := newFigure(name, title, panels...)
	f.addServerLegend(sortedSeries(scs), thumbs)
	for _, r := range refs {
		f.addLegend(r.Name, r.Line)
	}
	if failures > 0 {
		f.addLegend("failed", failureThumb())
	}
	f.Notes = compact(append(notes, repeatsNote(all), failuresNoteIf(failures)))
	return f, nil
}
