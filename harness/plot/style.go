package plot

import (
	"hash/fnv"
	"image/color"
	"slices"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// Style is how one server is drawn in every figure.
type Style struct {
	Color  color.Color
	Glyph  draw.GlyphDrawer
	Dashed bool // peers are dashed, our models solid
}

// glyphs draws the registry's markers.
var glyphs = map[registry.Marker]draw.GlyphDrawer{
	registry.Circle:   draw.CircleGlyph{},
	registry.Box:      draw.BoxGlyph{},
	registry.Pyramid:  draw.PyramidGlyph{},
	registry.Ring:     draw.RingGlyph{},
	registry.Square:   draw.SquareGlyph{},
	registry.Triangle: draw.TriangleGlyph{},
	registry.Plus:     draw.PlusGlyph{},
	registry.Cross:    draw.CrossGlyph{},
	registry.Diamond:  diamondGlyph{},
}

// diamondGlyph is a filled diamond: a fourth filled marker for our
// models, beside gonum's circle, box and pyramid.
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(0.5)})
	r := sty.Radius * 1.25 // as tall as the pyramid looks
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	p.Close()
	c.SetColor(sty.Color)
	c.Fill(p)
}

// spare styles for servers the registry does not know (an older run's),
// picked by a hash of the name so a server keeps its style from one
// figure to the next.
var spare = []Style{
	{Color: rgb(120, 60, 160), Glyph: draw.CrossGlyph{}},
	{Color: rgb(100, 140, 40), Glyph: draw.RingGlyph{}},
	{Color: rgb(160, 60, 60), Glyph: draw.SquareGlyph{}},
}

// failureColor marks the level where a server failed.
var failureColor = rgb(215, 0, 0)

// StyleOf returns the style of a server: its registry entry's colour and
// marker, or for an unknown server a stable spare style, dashed when kind
// is a peer.
func StyleOf(server, kind string) Style {
	if e, ok := registry.Lookup(server); ok {
		return Style{Color: e.Color, Glyph: glyphs[e.Marker], Dashed: e.Dashed()}
	}
	h := fnv.New32a()
	h.Write([]byte(server))
	s := spare[int(h.Sum32()%uint32(len(spare)))]
	s.Dashed = kind == results.KindPeer
	return s
}

// sortScenarios orders scenarios by server, so legends read the same in
// every figure.
func sortScenarios(scs []results.Scenario) []results.Scenario {
	out := slices.Clone(scs)
	slices.SortStableFunc(out, func(a, b results.Scenario) int { return registry.Compare(a.Server, b.Server) })
	return out
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{R: r, G: g, B: b, A: 255} }

// Sizes. The PNG is drawn at 96 dpi, so 600x375 pt is 800x500 px.
const (
	dpi         = 96
	defaultW    = 600 * vg.Length(1)
	defaultH    = 375 * vg.Length(1)
	wideW       = 780 * vg.Length(1) // figures with two or three panels
	lineWidth   = 1.6 * vg.Length(1)
	glyphRadius = 3.2 * vg.Length(1)
)

var peerDashes = []vg.Length{vg.Points(6), vg.Points(3)}

// lineStyle is the line a server is drawn with.
func (s Style) lineStyle() draw.LineStyle {
	ls := draw.LineStyle{Color: s.Color, Width: lineWidth}
	if s.Dashed {
		ls.Dashes = peerDashes
	}
	return ls
}

// glyphStyle is the marker a server is drawn with.
func (s Style) glyphStyle() draw.GlyphStyle {
	return draw.GlyphStyle{Color: s.Color, Radius: glyphRadius, Shape: s.Glyph}
}

// Fonts: sans serif, sized to stay readable when the PNG is shown at
// its natural width in a Markdown viewer.
var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	// Weight 3 is golang.org/x/image/font.WeightBold (CSS 700), spelt as
	// a number so that module stays an indirect dependency.
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: 3}
)

func textStyle(f font.Font, size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(f, size),
		Handler: gonum.DefaultTextHandler,
	}
}

var (
	titleStyle   = textStyle(boldFont, 13)
	panelStyle   = textStyle(boldFont, 11)
	labelStyle   = textStyle(sansFont, 11)
	tickStyle    = textStyle(sansFont, 10)
	legendStyle  = textStyle(sansFont, 10)
	noteStyle    = textStyle(sansFont, 9)
	markStyle    = textStyle(sansFont, 9)
	barNoteStyle = textStyle(sansFont, 9)
)

// newPanel returns a gonum plot with our fonts and the axis labels given.
// Only the fonts are changed: gonum's alignments (and the quarter turn it
// adds to the Y label) stay as they are.
func newPanel(title, xLabel, yLabel string) *gonum.Plot {
	p := gonum.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = panelStyle.Font
	p.Title.Padding = vg.Points(4)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*gonum.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = labelStyle.Font
		a.Tick.Label.Font = tickStyle.Font
		a.Padding = vg.Points(4)
		a.Tick.Length = vg.Points(6)
	}
	return p
}
