package plot_test

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"c10k/harness/plot"
)

var regen = flag.Bool("regen", false, "rewrite the golden images in testdata/golden from the current code")

// maxDiffPixels is the fraction of pixels that may differ from a golden
// image: enough for anti-aliasing noise between font rasterizer versions,
// far too little for a moved curve, label or legend.
const maxDiffPixels = 0.002

// TestGoldenImages compares every figure drawn from the fixture with its
// golden PNG in testdata/golden. After an intended change, look at the new
// figures and run: go test ./harness/plot -run Golden -regen
func TestGoldenImages(t *testing.T) {
	in := fixtureInput(t)
	for _, spec := range plot.Specs() {
		t.Run(spec.Name, func(t *testing.T) {
			f, err := spec.Build(in)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := f.WritePNG(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", spec.Name+".png")
			if *regen {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden image (run with -regen to create it): %v", err)
			}
			frac, err := diffPixels(buf.Bytes(), want)
			if err != nil {
				t.Fatal(err)
			}
			if frac > maxDiffPixels {
				got := filepath.Join(os.TempDir(), "c10k-plot-"+spec.Name+".png")
				_ = os.WriteFile(got, buf.Bytes(), 0o644)
				t.Errorf("%.2f%% of pixels differ from %s (limit %.2f%%); new image: %s",
					100*frac, path, 100*maxDiffPixels, got)
			}
		})
	}
}

// diffPixels returns the fraction of pixels of two PNGs that differ by
// more than a faint anti-aliasing step in any channel; different sizes
// count as all different.
func diffPixels(a, b []byte) (float64, error) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, err
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	if ia.Bounds() != ib.Bounds() {
		return 1, nil
	}
	return countDiff(ia, ib), nil
}

func countDiff(a, b image.Image) float64 {
	r := a.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if far(r1, r2) || far(g1, g2) || far(b1, b2) {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

func far(a, b uint32) bool {
	const step = 48 << 8
	if a > b {
		return a-b > step
	}
	return b-a > step
}
