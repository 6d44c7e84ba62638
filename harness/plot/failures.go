package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"c10k/harness/units"
)

// mark is one failure drawn on a panel: a red cross where the server's
// curve stopped, and why.
type mark struct {
	X, Y  float64 // Y is NaN when the server has no point to hang it on
	Label string
}

// failureMarks is a gonum Plotter drawing every failure of a panel. The
// crosses sit on the curve (at the failed level, at the height of the
// server's last point before it); the labels, on a white backdrop so
// curves under them do not garble them, are kept inside the data area and
// pushed apart vertically so two failures at one level stay readable.
type failureMarks struct {
	marks  []mark
	labels bool // false: crosses only (the other panels of a figure say why)
}

// maxReason keeps a failure label inside a panel; the report lists the
// full reason.
const maxReason = 36

// failureMarksOf builds the marks of every failure in the series, for a
// panel whose axes are log or linear as given. Failures at a level a log
// axis cannot show are left to the report.
func failureMarksOf(ss []series, logX, logY bool, levelUnit string) *failureMarks {
	fm := &failureMarks{labels: true}
	for _, s := range ss {
		vis := s.visible(logX, logY)
		for _, f := range s.Failures {
			x := float64(f.Level)
			if logX && x <= 0 {
				continue
			}
			y := math.NaN()
			for _, p := range vis {
				if p.X <= x {
					y = p.Y
				}
			}
			fm.marks = append(fm.marks, mark{X: x, Y: y, Label: failureLabel(s.Server, f.Level, f.Reason, levelUnit)})
		}
	}
	if len(fm.marks) == 0 {
		return nil
	}
	return fm
}

// failureLabel is the text beside a cross: "thread failed at C=10k" over
// the reason, shortened.
func failureLabel(server string, level int, reason, unit string) string {
	reason = strings.Join(strings.Fields(reason), " ")
	if r := []rune(reason); len(r) > maxReason {
		reason = strings.TrimSpace(string(r[:maxReason-3])) + "..."
	}
	var at string
	switch unit {
	case "C":
		at = "C=" + units.Count(float64(level))
	case "":
		at = units.Count(float64(level))
	default:
		at = units.Count(float64(level)) + " " + unit
	}
	label := fmt.Sprintf("%s failed at %s", server, at)
	if reason != "" {
		label += "\n" + reason
	}
	return label
}

// wrapLabel re-wraps a label's lines to fit width, breaking at spaces:
// a narrow panel gets a taller label rather than one running off its edge.
func wrapLabel(sty text.Style, label string, width vg.Length) string {
	var out []string
	for _, line := range strings.Split(label, "\n") {
		cur := ""
		for _, w := range strings.Fields(line) {
			next := strings.TrimSpace(cur + " " + w)
			if cur != "" && sty.Width(next) > width {
				out = append(out, cur)
				next = w
			}
			cur = next
		}
		out = append(out, cur)
	}
	return strings.Join(out, "\n")
}

func crossStyle() draw.GlyphStyle {
	return draw.GlyphStyle{Color: failureColor, Radius: 5, Shape: thickCross{}}
}

// thickCross is gonum's cross glyph drawn with a heavier stroke, so it
// stands out from the series' own markers.
type thickCross struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (thickCross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: 2.2})
	r := sty.Radius
	var p vg.Path
	p.Move(vg.Point{X: pt.X - r, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y + r})
	p.Move(vg.Point{X: pt.X - r, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y - r})
	c.Stroke(p)
}

// Plot implements gonum's Plotter.
func (fm *failureMarks) Plot(c draw.Canvas, p *gonum.Plot) {
	trX, trY := p.Transforms(&c)
	type placed struct {
		at    vg.Point
		label string
	}
	var ps []placed
	for _, m := range fm.marks {
		pt := vg.Point{X: trX(m.X), Y: c.Min.Y + 8}
		if !math.IsNaN(m.Y) {
			pt.Y = trY(m.Y)
		}
		if pt.X < c.Min.X-1 || pt.X > c.Max.X+1 {
			continue
		}
		c.DrawGlyphNoClip(crossStyle(), pt)
		ps = append(ps, placed{at: pt, label: m.Label})
	}
	if !fm.labels {
		return
	}

	// Highest cross first: its label goes just above or below it, and
	// each later label moves down until it overlaps none placed before.
	sty := markStyle
	sty.Color = failureColor
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YBottom
	slices.SortFunc(ps, func(a, b placed) int {
		switch {
		case a.at.Y > b.at.Y:
			return -1
		case a.at.Y < b.at.Y:
			return 1
		}
		return 0
	})
	const pad = 2
	var used []vg.Rectangle
	for _, q := range ps {
		if limit := 0.6 * (c.Max.X - c.Min.X); sty.Width(q.label) > limit {
			q.label = wrapLabel(sty, q.label, limit)
		}
		w, h := sty.Width(q.label)+2*pad, sty.Height(q.label)+2*pad
		// Beside the cross, on whichever side has room, and inside the
		// data area.
		x := q.at.X + 8
		if x+w > c.Max.X {
			x = q.at.X - 8 - w
		}
		x = max(c.Min.X, min(x, c.Max.X-w))
		y := q.at.Y + 6
		if y+h > c.Max.Y {
			y = q.at.Y - 6 - h
		}
		r := vg.Rectangle{Min: vg.Point{X: x, Y: y}, Max: vg.Point{X: x + w, Y: y + h}}
		for overlapsAny(r, used) && r.Min.Y > c.Min.Y {
			r.Min.Y -= 4
			r.Max.Y -= 4
		}
		used = append(used, r)
		c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 215}, []vg.Point{
			r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y},
		})
		c.FillText(sty, vg.Point{X: r.Min.X + pad, Y: r.Min.Y + pad}, q.label)
	}
}

func overlapsAny(r vg.Rectangle, rs []vg.Rectangle) bool {
	for _, o := range rs {
		if r.Min.X < o.Max.X && o.Min.X < r.Max.X && r.Min.Y < o.Max.Y && o.Min.Y < r.Max.Y {
			return true
		}
	}
	return false
}

// DataRange implements gonum's DataRanger so the axes reach the failed
// levels even when a server has no point there.
func (fm *failureMarks) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, m := range fm.marks {
		xmin, xmax = math.Min(xmin, m.X), math.Max(xmax, m.X)
		if !math.IsNaN(m.Y) {
			ymin, ymax = math.Min(ymin, m.Y), math.Max(ymax, m.Y)
		}
	}
	return xmin, xmax, ymin, ymax
}

// failureThumb is the legend entry for failure marks.
func failureThumb() gonum.Thumbnailer {
	sc, _ := plotter.NewScatter(plotter.XYs{{}})
	sc.GlyphStyle = crossStyle()
	return sc
}
