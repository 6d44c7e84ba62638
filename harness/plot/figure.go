package plot

import (
	"image/color"
	"math"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one finished figure: a title, one or more panels side by side
// sharing one legend on the right, and footnotes saying what a reader
// cannot see (units of machine-wide figures, what the error bars are).
type Figure struct {
	Name   string // file name without extension, e.g. "05-throughput"
	Title  string
	Notes  []string // one line each, under the panels
	Panels []*gonum.Plot
	Width  vg.Length
	Height vg.Length

	legend  gonum.Legend
	entries int
}

// newFigure returns an empty figure of the default size.
func newFigure(name, title string, panels ...*gonum.Plot) *Figure {
	f := &Figure{Name: name, Title: title, Panels: panels, Width: defaultW, Height: defaultH}
	if len(panels) > 1 {
		f.Width = wideW
	}
	f.legend = gonum.NewLegend()
	f.legend.TextStyle = legendStyle
	f.legend.Top = true
	f.legend.Left = true
	f.legend.ThumbnailWidth = vg.Points(26)
	f.legend.Padding = vg.Points(2)
	return f
}

// addLegend adds an entry to the shared legend.
func (f *Figure) addLegend(name string, thumbs ...gonum.Thumbnailer) {
	if len(thumbs) == 0 {
		return
	}
	f.legend.Add(name, thumbs...)
	f.entries++
}

// addServerLegend adds one legend entry per server that drew something,
// in the order given.
func (f *Figure) addServerLegend(ss []series, thumbs map[string][]gonum.Thumbnailer) {
	for _, s := range ss {
		if t, ok := thumbs[s.Server]; ok {
			f.addLegend(s.Server, t...)
		}
	}
}

// LegendEntries is the number of entries in the figure's legend.
func (f *Figure) LegendEntries() int { return f.entries }

// Margins around the figure, in points.
const (
	margin    = 8
	legendGap = 10
)

// Draw draws the figure on c: title on top, notes at the bottom, the
// legend in a column on the right, and the panels, aligned so their data
// areas line up, in the space left. Panel titles are drawn here rather
// than by gonum, which would put each at the top of its own (differently
// padded) tile and so at different heights.
func (f *Figure) Draw(c draw.Canvas) {
	c.FillPolygon(color.White, []vg.Point{
		c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y},
	})
	area := draw.Crop(c, margin, -margin, margin, -margin)

	if f.Title != "" {
		sty := titleStyle
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YTop
		area.FillText(sty, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, f.Title)
		area = draw.Crop(area, 0, 0, 0, -(sty.Height(f.Title) + 8))
	}

	if len(f.Notes) > 0 {
		sty := noteStyle
		sty.XAlign = draw.XLeft
		sty.YAlign = draw.YBottom
		lh := sty.Height("Xg") * 1.25
		y := area.Min.Y
		for i := len(f.Notes) - 1; i >= 0; i-- {
			area.FillText(sty, vg.Point{X: area.Min.X, Y: y}, f.Notes[i])
			y += lh
		}
		area = draw.Crop(area, 0, 0, y-area.Min.Y+6, 0)
	}

	if f.entries > 0 {
		r := f.legend.Rectangle(area)
		w := r.Max.X - r.Min.X
		leg := draw.Crop(area, area.Max.X-area.Min.X-w, 0, 0, -24)
		f.legend.Draw(leg)
		area = draw.Crop(area, 0, -(w + legendGap), 0, 0)
	}

	if len(f.Panels) == 0 {
		return
	}
	f.drawPanels(c, area)
}

// panelText is what drawPanels takes off a panel and draws itself.
type panelText struct{ title, xLabel, yLabel string }

// drawPanels aligns and draws the panels in area. Titles and axis labels
// are drawn here, not by gonum: gonum centres an axis label on the
// arithmetic middle of the axis range, which on a log axis sits near the
// top end, and then shrinks the data area to make room for the label's
// overhang; it also puts each title at the top of its own, differently
// padded, tile. Drawing them here keeps panels full size and titles level.
func (f *Figure) drawPanels(c, area draw.Canvas) {
	texts := make([]panelText, len(f.Panels))
	var titleH, xLabelH, yLabelW vg.Length
	for i, p := range f.Panels {
		texts[i] = panelText{p.Title.Text, p.X.Label.Text, p.Y.Label.Text}
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text = "", "", ""
		if texts[i].title != "" {
			titleH = panelStyle.Height(texts[i].title) + 6
		}
		if texts[i].xLabel != "" {
			xLabelH = labelStyle.Height(texts[i].xLabel) + 4
		}
	}
	// Restored so drawing the figure twice (PNG, then SVG) keeps them.
	defer func() {
		for i, p := range f.Panels {
			p.Title.Text, p.X.Label.Text, p.Y.Label.Text = texts[i].title, texts[i].xLabel, texts[i].yLabel
		}
	}()
	if texts[0].yLabel != "" {
		yLabelW = labelStyle.Height(texts[0].yLabel) + 6
	}
	area = draw.Crop(area, yLabelW, 0, xLabelH, -titleH)

	tiles := draw.Tiles{Rows: 1, Cols: len(f.Panels), PadX: vg.Points(14)}
	cs := gonum.Align([][]*gonum.Plot{f.Panels}, tiles, area)
	for i, p := range f.Panels {
		p.Draw(cs[0][i])
		dc := p.DataCanvas(cs[0][i])
		midX := (dc.Min.X + dc.Max.X) / 2
		if t := texts[i].title; t != "" {
			sty := panelStyle
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
			c.FillText(sty, vg.Point{X: midX, Y: area.Max.Y + 3}, t)
		}
		if t := texts[i].xLabel; t != "" {
			sty := labelStyle
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
			c.FillText(sty, vg.Point{X: midX, Y: area.Min.Y - 1}, t)
		}
		if t := texts[i].yLabel; t != "" && i == 0 {
			sty := labelStyle
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
			sty.Rotation = math.Pi / 2
			c.FillText(sty, vg.Point{X: area.Min.X - yLabelW/2, Y: (dc.Min.Y + dc.Max.Y) / 2}, t)
		}
	}
}
