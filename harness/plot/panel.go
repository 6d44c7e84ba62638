package plot

import (
	"fmt"
	"image/color"
	"math"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"c10k/harness/results"
	"c10k/harness/units"
)

// scale is an axis scale request.
type scale int

const (
	scaleAuto scale = iota // log when the values span enough, else linear
	scaleLog
	scaleLinear
)

// axisSpec is one axis of a line panel.
type axisSpec struct {
	Label  string
	Format formatter
	Scale  scale
	Binary bool // bytes: ticks at 1, 10, 100 KiB/MiB/GiB, not powers of ten
}

// panelSpec is one line panel: servers' curves against a level.
type panelSpec struct {
	Title string
	X, Y  axisSpec
	Unit  string // what a level counts, for failure labels: "conns", "C"
	Refs  []ref  // reference lines (ideal, ceiling), drawn under the data
}

// ref is a named reference line.
type ref struct {
	Name string
	Line *plotter.Line
}

// linePanel is a built panel and what the figure's legend needs from it.
type linePanel struct {
	Plot     *gonum.Plot
	Thumbs   map[string][]gonum.Thumbnailer
	Failures int
	Marks    *failureMarks
	LogX     bool
	LogY     bool
}

// isLog resolves a scale request against the values it must show.
func isLog(s scale, vals []float64) bool {
	switch s {
	case scaleLog:
		return true
	case scaleLinear:
		return false
	}
	return wantLog(vals)
}

// buildLinePanel draws one curve per series, the failure marks, and the
// axes. It returns ErrNoData when no series has a point it can show.
func buildLinePanel(ss []series, spec panelSpec) (linePanel, error) {
	lp := linePanel{Thumbs: map[string][]gonum.Thumbnailer{}}
	lp.LogX = isLog(spec.X.Scale, positiveOrAll(values(ss, false), spec.X.Scale))
	lp.LogY = isLog(spec.Y.Scale, positiveOrAll(values(ss, true), spec.Y.Scale))

	p := newPanel(spec.Title, spec.X.Label, spec.Y.Label)
	p.Add(lightGrid())
	for _, r := range spec.Refs {
		p.Add(r.Line)
	}
	for _, s := range ss {
		if th := addSeries(p, s, lp.LogX, lp.LogY); th != nil {
			lp.Thumbs[s.Server] = th
		}
	}
	if len(lp.Thumbs) == 0 {
		return lp, fmt.Errorf("%w: %s", ErrNoData, spec.Title)
	}
	if fm := failureMarksOf(ss, lp.LogX, lp.LogY, spec.Unit); fm != nil {
		p.Add(fm)
		lp.Failures = len(fm.marks)
		lp.Marks = fm
	}
	finishAxis(&p.X, lp.LogX, spec.X.Format, spec.X.Binary)
	finishAxis(&p.Y, lp.LogY, spec.Y.Format, spec.Y.Binary)
	lp.Plot = p
	return lp, nil
}

// positiveOrAll keeps only positive values when the axis was asked to be
// log (so a zero level does not veto it); auto and linear see everything.
func positiveOrAll(vals []float64, s scale) []float64 {
	if s != scaleLog {
		return vals
	}
	var out []float64
	for _, v := range vals {
		if v > 0 {
			out = append(out, v)
		}
	}
	return out
}

// finishAxis sets an axis' scale, ticks and padding once its data range
// is known.
func finishAxis(a *gonum.Axis, log bool, f formatter, binary bool) {
	if f == nil {
		f = units.Count
	}
	if log {
		setLog(a, f)
		padLog(a)
	} else {
		setLin(a, f)
		padLin(a)
	}
	if binary {
		a.Tick.Marker = binaryTicks{log: log}
	}
}

// lightGrid is a grid faint enough not to compete with the data.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical = draw.LineStyle{Color: color.Gray{Y: 225}, Width: vg.Points(0.5)}
	g.Horizontal = g.Vertical
	return g
}

// shareY gives panels one Y range, so percentiles side by side compare
// at a glance.
func shareY(ps ...*gonum.Plot) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range ps {
		lo, hi = math.Min(lo, p.Y.Min), math.Max(hi, p.Y.Max)
	}
	for _, p := range ps {
		p.Y.Min, p.Y.Max = lo, hi
	}
}

// repeatsNote is the footnote of a figure whose points have error bars.
func repeatsNote(ss []series) string {
	n := 0
	for _, s := range ss {
		for _, p := range s.Points {
			n = max(n, p.N)
		}
	}
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf("Points are medians of up to %d repeats; bars span min to max.", n)
}

// failuresNote is the footnote of a figure with failure marks.
const failuresNote = "Red crosses: the level where a server failed (the report lists every reason)."

// lineFigure assembles a one-panel line figure with its legend and notes.
func lineFigure(name, title string, ss []series, spec panelSpec, notes ...string) (*Figure, error) {
	lp, err := buildLinePanel(ss, spec)
	if err != nil {
		return nil, err
	}
	f := newFigure(name, title, lp.Plot)
	f.addServerLegend(ss, lp.Thumbs)
	for _, r := range spec.Refs {
		f.addLegend(r.Name, r.Line)
	}
	if lp.Failures > 0 {
		f.addLegend("failed", failureThumb())
	}
	f.Notes = compact(append(notes, repeatsNote(ss), failuresNoteIf(lp.Failures)))
	return f, nil
}

func failuresNoteIf(n int) string {
	if n == 0 {
		return ""
	}
	return failuresNote
}

// compact drops empty notes.
func compact(notes []string) []string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// byScenario returns the scenarios of one name.
func byScenario(scs []results.Scenario, name string) []results.Scenario {
	var out []results.Scenario
	for _, sc := range scs {
		if sc.Scenario == name {
			out = append(out, sc)
		}
	}
	return out
}

// refLine is a thin grey reference line (an ideal or a ceiling) with its
// legend thumbnail.
func refLine(pts plotter.XYs) (*plotter.Line, error) {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("plot: reference line: %w", err)
	}
	l.LineStyle = draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	return l, nil
}

// panelDef is one panel of a multi-panel figure: which statistic, and how
// its axes read. Only the first panel's Y label is kept, since the panels
// share one Y scale.
type panelDef struct {
	pick picker
	spec panelSpec
}

// panelsFigure draws the same scenarios once per panelDef, side by side on
// one shared Y scale with one legend; failure reasons are written in the
// last panel only, the others just carry the crosses.
func panelsFigure(name, title string, scs []results.Scenario, defs []panelDef, notes ...string) (*Figure, error) {
	var lps []linePanel
	var all []series
	for _, d := range defs {
		ss := seriesAll(scs, d.pick)
		if len(lps) > 0 {
			d.spec.Y.Label = ""
		}
		lp, err := buildLinePanel(ss, d.spec)
		if err != nil {
			continue
		}
		lps = append(lps, lp)
		all = ss
	}
	if len(lps) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoData, title)
	}
	panels := make([]*gonum.Plot, len(lps))
	thumbs := map[string][]gonum.Thumbnailer{}
	failures := 0
	for i, lp := range lps {
		panels[i] = lp.Plot
		for k, v := range lp.Thumbs {
			thumbs[k] = v
		}
		failures = max(failures, lp.Failures)
		if lp.Marks != nil && i < len(lps)-1 {
			lp.Marks.labels = false
		}
	}
	shareY(panels...)
	f := newFigure(name, title, panels...)
	f.addServerLegend(sortedSeries(scs), thumbs)
	if failures > 0 {
		f.addLegend("failed", failureThumb())
	}
	f.Notes = compact(append(notes, repeatsNote(all), failuresNoteIf(failures)))
	return f, nil
}

// sortedSeries is one empty series per scenario, in legend order.
func sortedSeries(scs []results.Scenario) []series {
	var out []series
	for _, sc := range sortScenarios(scs) {
		out = append(out, series{Server: sc.Server, Kind: sc.Kind})
	}
	return out
}
