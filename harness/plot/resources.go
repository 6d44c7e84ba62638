package plot

import (
	"gonum.org/v1/plot/plotter"

	"c10k/harness/results"
	"c10k/harness/units"
)

// idleAxis is the x axis of every idle-scenario figure. It is linear
// because the grid starts at zero connections.
var idleAxis = axisSpec{Label: "idle keep-alive connections held", Format: units.Count}

// Threads draws figure 3: threads of the server against idle
// connections held, with the one-per-connection line for reference.
func Threads(idle []results.Scenario) (*Figure, error) {
	ss := seriesAll(idle, fromSummary(func(s results.Summary) results.Stat { return s.Threads }))
	spec := panelSpec{X: idleAxis, Y: axisSpec{Label: "threads (all server processes)", Format: units.Count}, Unit: "conns"}
	if r, ok := perConnRef(ss); ok {
		spec.Refs = []ref{r}
	}
	return lineFigure("03-threads", "Threads vs idle connections held", ss, spec,
		"Threads summed over the server's process tree, sampled with every connection open.")
}

// FDs draws figure 4: open file descriptors of the server against idle
// connections held.
func FDs(idle []results.Scenario) (*Figure, error) {
	ss := seriesAll(idle, fromSummary(func(s results.Summary) results.Stat { return s.FDs }))
	spec := panelSpec{X: idleAxis, Y: axisSpec{Label: "open file descriptors (all server processes)", Format: units.Count}, Unit: "conns"}
	if r, ok := perConnRef(ss); ok {
		spec.Refs = []ref{r}
	}
	return lineFigure("04-fds", "Open file descriptors vs idle connections held", ss, spec,
		"Open descriptors of the server's process tree; every accepted socket is one of them.")
}

// perConnRef is the line y = x ("one per connection") across the
// levels of the series, sampled densely so it stays straight on a log
// y axis over a linear x axis.
func perConnRef(ss []series) (ref, bool) {
	hi := 0.0
	for _, v := range values(ss, false) {
		hi = max(hi, v)
	}
	if hi < 2 {
		return ref{}, false
	}
	const n = 60
	pts := make(plotter.XYs, 0, n)
	for i := 1; i <= n; i++ {
		x := 1 + (hi-1)*float64(i-1)/(n-1)
		pts = append(pts, plotter.XY{X: x, Y: x})
	}
	l, err := refLine(pts)
	if err != nil {
		return ref{}, false
	}
	return ref{Name: "1 per connection", Line: l}, true
}
