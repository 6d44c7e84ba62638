package plot

import (
	"fmt"
	"math"
	"slices"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"c10k/harness/registry"
	"c10k/harness/units"
)

// SpectrumFigure draws figure 8: the full latency percentile spectrum of
// every server at one concurrency level, HdrHistogram style: the x axis
// is 1/(1-percentile) on a log scale, so each step right is one more nine.
func SpectrumFigure(spectra []Spectrum, level int) (*Figure, error) {
	ss := slices.Clone(spectra)
	slices.SortStableFunc(ss, func(a, b Spectrum) int { return registry.Rank(a.Server) - registry.Rank(b.Server) })

	p := newPanel("", "percentile", "latency")
	p.Add(lightGrid())
	thumbs := map[string][]gonum.Thumbnailer{}
	var order []series
	maxInv := 1.0
	for _, s := range ss {
		var pts plotter.XYs
		for _, q := range s.Points {
			inv := q.Inverse()
			// The last row (100%) is at infinity, and a zero value has no
			// place on a log axis.
			if math.IsInf(inv, 0) || math.IsNaN(inv) || q.Value <= 0 {
				continue
			}
			pts = append(pts, plotter.XY{X: inv, Y: q.Value})
			maxInv = math.Max(maxInv, inv)
		}
		if len(pts) == 0 {
			continue
		}
		st := StyleOf(s.Server, s.Kind)
		line, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		line.LineStyle = st.lineStyle()
		p.Add(line)
		// One marker per decade keeps the glyph in the legend meaningful
		// without burying the curve in markers.
		if dots := decadeMarks(pts); len(dots) > 0 {
			sc, err := plotter.NewScatter(dots)
			if err == nil {
				sc.GlyphStyle = st.glyphStyle()
				p.Add(sc)
				thumbs[s.Server] = []gonum.Thumbnailer{line, sc}
			}
		}
		if _, ok := thumbs[s.Server]; !ok {
			thumbs[s.Server] = []gonum.Thumbnailer{line}
		}
		order = append(order, series{Server: s.Server, Kind: s.Kind})
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%w: latency spectrum", ErrNoData)
	}
	p.X.Scale = gonum.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.X.Min = 1
	p.X.Max = math.Max(10, math.Pow(10, math.Ceil(math.Log10(maxInv))))
	setLog(&p.Y, units.Micros)
	padLog(&p.Y)

	f := newFigure("08-spectrum", fmt.Sprintf("Latency by percentile at %s concurrent connections", units.Count(float64(level))), p)
	f.addServerLegend(order, thumbs)
	f.Notes = []string{
		"HdrHistogram percentile spectrum of one typical repeat (median p99) per server, closed loop.",
		"Each step right adds a nine: 90%, 99%, 99.9%; the tail on the right is what one request in a thousand waits.",
		"Answered requests only: a request that timed out is an error, not a point here (see the report's error rates).",
	}
	return f, nil
}

// decadeMarks picks the point nearest each power of ten of the x values.
func decadeMarks(pts plotter.XYs) plotter.XYs {
	var out plotter.XYs
	for d := 1.0; d <= pts[len(pts)-1].X*1.0001; d *= 10 {
		best, bestDist := -1, math.Inf(1)
		for i, p := range pts {
			if dist := math.Abs(math.Log10(p.X) - math.Log10(d)); dist < bestDist {
				best, bestDist = i, dist
			}
		}
		if best >= 0 && bestDist < 0.3 {
			out = append(out, pts[best])
		}
	}
	return out
}
