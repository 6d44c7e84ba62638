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

	"c10k/harness/results"
)

// Style is how one server is drawn in every figure.
type Style struct {
	Color  color.Color
	Glyph  draw.GlyphDrawer
	Dashed bool // peers are dashed, our models solid
}

// Server names the harness uses. They are the keys of the palette; a
// server outside this list still gets a stable style (see StyleOf).
const (
	ServerThread        = "thread"
	ServerGoroutine     = "goroutine"
	ServerEpoll         = "epoll"
	ServerNginx         = "nginx"
	ServerApachePrefork = "apache-prefork"
	ServerApacheWorker  = "apache-worker"
	ServerApacheEvent   = "apache-event"
)

// ServerOrder is the order of servers in legends, bars and tables: our
// models first, then the peers.
var ServerOrder = []string{
	ServerThread, ServerGoroutine, ServerEpoll,
	ServerNginx, ServerApachePrefork, ServerApacheWorker, ServerApacheEvent,
}

// palette is the one place a server's colour and marker are fixed. The
// colours are from the Okabe-Ito set, distinguishable with the common
// colour-vision deficiencies; models get filled markers, peers hollow
// ones, so the two groups also differ in black and white. Pure red is kept
// for failure marks.
var palette = map[string]Style{
	ServerThread:        {Color: rgb(230, 159, 0), Glyph: draw.CircleGlyph{}},
	ServerGoroutine:     {Color: rgb(0, 114, 178), Glyph: draw.BoxGlyph{}},
	ServerEpoll:         {Color: rgb(0, 158, 115), Glyph: draw.PyramidGlyph{}},
	ServerNginx:         {Color: rgb(204, 121, 167), Glyph: draw.RingGlyph{}, Dashed: true},
	ServerApachePrefork: {Color: rgb(150, 120, 0), Glyph: draw.SquareGlyph{}, Dashed: true},
	ServerApacheWorker:  {Color: rgb(90, 90, 90), Glyph: draw.TriangleGlyph{}, Dashed: true},
	ServerApacheEvent:   {Color: rgb(86, 180, 233), Glyph: draw.PlusGlyph{}, Dashed: true},
}

// spare styles for servers the palette does not know, picked by a hash of
// the name so a server keeps its style from one figure to the next.
var spare = []Style{
	{Color: rgb(120, 60, 160), Glyph: draw.CrossGlyph{}},
	{Color: rgb(100, 140, 40), Glyph: draw.RingGlyph{}},
	{Color: rgb(160, 60, 60), Glyph: draw.SquareGlyph{}},
}

// failureColor marks the level where a server failed.
var failureColor = rgb(215, 0, 0)

// StyleOf returns the style of a server: the palette's entry, or for an
// unknown server a stable spare style, dashed when kind is a peer.
func StyleOf(server, kind string) Style {
	if s, ok := palette[server]; ok {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(server))
	s := spare[int(h.Sum32()%uint32(len(spare)))]
	s.Dashed = kind == results.KindPeer
	return s
}

// serverRank orders servers: known ones by ServerOrder, unknown ones after
// them by name.
func serverRank(name string) int {
	if i := slices.Index(ServerOrder, name); i >= 0 {
		return i
	}
	return len(ServerOrder)
}

// sortScenarios orders scenarios by server, so legends read the same in
// every figure.
func sortScenarios(scs []results.Scenario) []results.Scenario {
	out := slices.Clone(scs)
	slices.SortStableFunc(out, func(a, b results.Scenario) int {
		if ra, rb := serverRank(a.Server), serverRank(b.Server); ra != rb {
			return ra - rb
		}
		switch {
		case a.Server < b.Server:
			return -1
		case a.Server > b.Server:
			return 1
		}
		return 0
	})
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
