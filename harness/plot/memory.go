package plot

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"c10k/harness/results"
	"c10k/harness/units"
)

// Memory draws figure 1: the server's memory against idle connections
// held, PSS on the left and RSS on the right, on one log scale.
func Memory(idle []results.Scenario) (*Figure, error) {
	spec := func(title string) panelSpec {
		return panelSpec{
			Title: title,
			X:     axisSpec{Label: "idle connections held", Format: units.Count},
			Y:     axisSpec{Label: "memory of all server processes", Format: units.Bytes, Scale: scaleLog, Binary: true},
			Unit:  "conns",
		}
	}
	return panelsFigure("01-memory", "Server memory vs idle keep-alive connections held", idle, []panelDef{
		{fromSummary(func(s results.Summary) results.Stat { return s.PSS }), spec("PSS (shared pages split between sharers)")},
		{fromSummary(func(s results.Summary) results.Stat { return s.RSS }), spec("RSS (shared pages counted in every process)")},
	}, "Summed over the server's process tree mid-run, every connection open. RSS overstates multi-process servers: compare on PSS.")
}

// segment is one layer of the per-connection bars.
type segment struct {
	name  string
	color color.Color
	value func(results.PerConn) float64
}

// segments of a connection's cost, user space at the bottom.
var segments = []segment{
	{"user space (PSS)", rgb(70, 130, 180), func(p results.PerConn) float64 { return p.PSSBytes }},
	{"kernel stacks", rgb(230, 120, 40), func(p results.PerConn) float64 { return p.KernelStack }},
	{"page tables", rgb(150, 90, 170), func(p results.PerConn) float64 { return p.PageTables }},
	{"socket memory (slab)", rgb(165, 165, 165), func(p results.PerConn) float64 { return p.SocketBytes }},
}

// MemoryPerConn draws figure 2: what one idle connection costs in each
// server, as stacked bars of user space and kernel memory, at the level
// results.PerConnLevel picks. A server that stopped below it is shown at its own
// largest level, and its name says which.
func MemoryPerConn(idle []results.Scenario) (*Figure, error) {
	level := results.PerConnLevel(idle)
	if level == 0 {
		return nil, fmt.Errorf("%w: memory per connection", ErrNoData)
	}
	var names []string
	var costs []results.PerConn
	var missing []string
	for _, sc := range sortScenarios(idle) {
		l, ok := results.LevelNear(sc, level, results.HasPerConn)
		if !ok {
			missing = append(missing, sc.Server)
			continue
		}
		name := strings.Replace(sc.Server, "apache-", "apache\n", 1)
		if l.Level != level {
			name += "\n(at " + units.Count(float64(l.Level)) + ")"
		}
		names = append(names, name)
		costs = append(costs, l.Summary.PerConn)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: memory per connection", ErrNoData)
	}

	p := newPanel("", "", "bytes per connection")
	p.Add(lightGrid())
	width := vg.Points(30)
	if len(names) > 7 {
		width = vg.Points(20)
	}
	f := newFigure("02-memory-per-conn",
		fmt.Sprintf("Memory per idle connection at %s connections: user space vs kernel", units.Count(float64(level))), p)
	var below *plotter.BarChart
	negative := false
	for _, sg := range segments {
		vals := make(plotter.Values, len(costs))
		for i, c := range costs {
			v := sg.value(c)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0 // not measured; the report says which
			}
			if v < 0 {
				// A machine-wide delta can dip below zero when the
				// kernel frees caches mid-run; a bar cannot.
				v, negative = 0, true
			}
			vals[i] = v
		}
		bc, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("plot: memory per connection bars: %w", err)
		}
		bc.Color = sg.color
		bc.LineStyle = draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}
		if below != nil {
			bc.StackOn(below)
		}
		p.Add(bc)
		f.addLegend(sg.name, bc)
		below = bc
	}

	// The total above each bar: the small bars of the event-driven
	// servers are unreadable on a scale set by the thread-per-connection
	// ones, so the number carries them.
	tops := make(plotter.XYs, len(costs))
	labels := make([]string, len(costs))
	for i := range costs {
		tops[i] = plotter.XY{X: float64(i), Y: below.BarHeight(i)}
		labels[i] = units.Bytes(below.BarHeight(i))
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: tops, Labels: labels})
	if err == nil {
		for i := range lb.TextStyle {
			lb.TextStyle[i] = barNoteStyle
			lb.TextStyle[i].XAlign = draw.XCenter
			lb.TextStyle[i].YAlign = draw.YBottom
		}
		lb.Offset = vg.Point{Y: vg.Points(2)}
		p.Add(lb)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Font = tickStyle.Font
	finishAxis(&p.Y, false, units.Bytes, true)
	p.Y.Max *= 1.06 // room for the totals

	f.Notes = []string{
		"User space: server PSS over its idle baseline, per connection held. Kernel stacks, page tables and socket slab",
		"are machine-wide deltas per connection, so they include the load generator's side of every socket.",
	}
	if negative {
		f.Notes = append(f.Notes, "A machine-wide delta below zero (kernel caches freed mid-run) is drawn as zero.")
	}
	if len(missing) > 0 {
		f.Notes = append(f.Notes, "No per-connection data: "+strings.Join(missing, ", ")+".")
	}
	return f, nil
}
