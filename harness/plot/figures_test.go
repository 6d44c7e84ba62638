package plot_test

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"c10k/harness/plot"
)

var keep = flag.String("keep", "", "also write the fixture's figures to this `DIR`, to look at them")

// TestFiguresFromFixture draws every figure from the fixture and checks
// the PNG decodes, has the expected size, and is far from blank: many
// non-white pixels and several distinct colours (the servers' palette).
func TestFiguresFromFixture(t *testing.T) {
	in := fixtureInput(t)
	for _, spec := range plot.Specs() {
		t.Run(spec.Name, func(t *testing.T) {
			f, err := spec.Build(in)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			var buf bytes.Buffer
			if err := f.WritePNG(&buf); err != nil {
				t.Fatalf("WritePNG: %v", err)
			}
			img, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("decoding PNG: %v", err)
			}
			b := img.Bounds()
			if w, h := b.Dx(), b.Dy(); w < 780 || w > 1080 || h < 480 || h > 520 {
				t.Errorf("size %dx%d, want about 800x500 (1040x500 for panels)", w, h)
			}
			ink, colours := inkAndColours(img)
			if ink < 0.03 {
				t.Errorf("only %.1f%% of pixels are not white: blank figure?", 100*ink)
			}
			if colours < 5 {
				t.Errorf("%d distinct saturated colours, want >= 5", colours)
			}
			if f.LegendEntries() == 0 {
				t.Error("no legend entries")
			}
			if *keep != "" {
				if _, err := f.Save(*keep); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// inkAndColours returns the fraction of non-white pixels and the number
// of distinct saturated colours (quantised, to ignore anti-aliasing).
func inkAndColours(img image.Image) (float64, int) {
	b := img.Bounds()
	ink := 0
	seen := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			if r8 < 250 || g8 < 250 || b8 < 250 {
				ink++
			}
			hi, lo := max(r8, g8, b8), min(r8, g8, b8)
			if hi-lo > 60 {
				seen[color.RGBA{R: r8 &^ 31, G: g8 &^ 31, B: b8 &^ 31}] = true
			}
		}
	}
	return float64(ink) / float64(b.Dx()*b.Dy()), len(seen)
}

// TestWriteAllFromFixture writes every figure as PNG and SVG, and skips
// none.
func TestWriteAllFromFixture(t *testing.T) {
	in := fixtureInput(t)
	dir := t.TempDir()
	written, skipped, err := plot.WriteAll(in, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Errorf("skipped %v", skipped)
	}
	if want := 2 * len(plot.Specs()); len(written) != want {
		t.Errorf("wrote %d files, want %d", len(written), want)
	}
	for _, s := range plot.Specs() {
		svg, err := os.ReadFile(filepath.Join(dir, s.Name+".svg"))
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(svg), "<svg") {
			t.Errorf("%s.svg is not an SVG", s.Name)
		}
	}
}

// TestWriteAllRemovesStaleFigures: a figure skipped now must not leave an
// older drawing behind for the report to link.
func TestWriteAllRemovesStaleFigures(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "07-rate-latency.png")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := plot.WriteAll(plot.Input{}, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale figure left in place")
	}
}
