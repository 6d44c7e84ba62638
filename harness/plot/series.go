package plot

import (
	"math"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"c10k/harness/results"
)

// point is one level of one server: the median and its spread over the
// repeats (Lo == Hi == Y when there was one repeat).
type point struct {
	X, Y, Lo, Hi float64
	N            int
}

// series is one server's curve in one panel.
type series struct {
	Server, Kind string
	Points       []point
	Failures     []results.Failure
}

// picker extracts the plotted statistic from a level; ok is false when
// the level has no such value.
type picker func(results.Level) (results.Stat, bool)

// fromSummary picks a Stat of the level's summary.
func fromSummary(f func(results.Summary) results.Stat) picker {
	return func(l results.Level) (results.Stat, bool) {
		s := f(l.Summary)
		return s, s.N > 0 || s.Median != 0 || s.Max != 0
	}
}

// fromPerConn picks a per-connection figure, which the summary keeps as
// medians only.
func fromPerConn(f func(results.PerConn) float64) picker {
	return func(l results.Level) (results.Stat, bool) {
		v := f(l.Summary.PerConn)
		return results.Stat{Median: v, Min: v, Max: v, N: 1}, l.Summary.PerConn.Conns > 0
	}
}

// seriesOf builds a server's series from its scenario, one point per
// level that has the value.
func seriesOf(sc results.Scenario, pick picker) series {
	s := series{Server: sc.Server, Kind: sc.Kind, Failures: sc.Failures}
	for _, l := range sc.Levels {
		st, ok := pick(l)
		if !ok || math.IsNaN(st.Median) || math.IsInf(st.Median, 0) {
			continue
		}
		lo, hi := st.Min, st.Max
		if st.N <= 1 || lo > st.Median || hi < st.Median {
			lo, hi = st.Median, st.Median
		}
		s.Points = append(s.Points, point{X: float64(l.Level), Y: st.Median, Lo: lo, Hi: hi, N: st.N})
	}
	return s
}

// seriesAll builds the series of every scenario, in legend order.
func seriesAll(scs []results.Scenario, pick picker) []series {
	var out []series
	for _, sc := range sortScenarios(scs) {
		out = append(out, seriesOf(sc, pick))
	}
	return out
}

// visible drops the points a log axis cannot show.
func (s series) visible(logX, logY bool) []point {
	var out []point
	for _, p := range s.Points {
		if (logX && p.X <= 0) || (logY && p.Y <= 0) {
			continue
		}
		if logY && p.Lo <= 0 {
			p.Lo = p.Y
		}
		out = append(out, p)
	}
	return out
}

// values returns every X or Y of the series, to choose the axis scale.
func values(ss []series, y bool) []float64 {
	var out []float64
	for _, s := range ss {
		for _, p := range s.Points {
			if y {
				out = append(out, p.Y)
			} else {
				out = append(out, p.X)
			}
		}
	}
	return out
}

// hasPoints reports whether any series has a point.
func hasPoints(ss []series) bool {
	for _, s := range ss {
		if len(s.Points) > 0 {
			return true
		}
	}
	return false
}

// errPoints is a series' points as gonum's XYer and YErrorer.
type errPoints []point

func (e errPoints) Len() int                        { return len(e) }
func (e errPoints) XY(i int) (float64, float64)     { return e[i].X, e[i].Y }
func (e errPoints) YError(i int) (float64, float64) { return e[i].Y - e[i].Lo, e[i].Hi - e[i].Y }

// addSeries draws one server's curve on a panel: line, markers, and
// min-max error bars where there were repeats. It returns the legend
// thumbnails, or nil if nothing was visible.
func addSeries(p *gonum.Plot, s series, logX, logY bool) []gonum.Thumbnailer {
	pts := errPoints(s.visible(logX, logY))
	if len(pts) == 0 {
		return nil
	}
	st := StyleOf(s.Server, s.Kind)
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil
	}
	line.LineStyle = st.lineStyle()
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil
	}
	sc.GlyphStyle = st.glyphStyle()
	p.Add(line, sc)
	if spread(pts) {
		if eb, err := plotter.NewYErrorBars(pts); err == nil {
			eb.LineStyle = draw.LineStyle{Color: st.Color, Width: lineWidth / 2}
			eb.CapWidth = glyphRadius * 1.5
			p.Add(eb)
		}
	}
	return []gonum.Thumbnailer{line, sc}
}

// spread reports whether any point has a min-max range worth drawing.
func spread(pts []point) bool {
	for _, p := range pts {
		if p.N > 1 && p.Hi > p.Lo {
			return true
		}
	}
	return false
}

// anyRepeats reports whether any point summarises more than one repeat,
// which decides whether a figure's note mentions error bars.
func anyRepeats(ss []series) bool {
	for _, s := range ss {
		for _, p := range s.Points {
			if p.N > 1 {
				return true
			}
		}
	}
	return false
}

// thumbsOf returns legend thumbnails for a server without drawing
// anything, for figures whose legend lists servers absent from one panel.
func thumbsOf(server, kind string) []gonum.Thumbnailer {
	st := StyleOf(server, kind)
	pts := plotter.XYs{{X: 0, Y: 0}}
	line, _ := plotter.NewLine(pts)
	line.LineStyle = st.lineStyle()
	sc, _ := plotter.NewScatter(pts)
	sc.GlyphStyle = st.glyphStyle()
	return []gonum.Thumbnailer{line, sc}
}
