package plot_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"c10k/harness/plot"
)

// FuzzParseHgrm checks the parser never panics and that whatever it
// accepts is a valid distribution: finite, non-negative, ordered.
func FuzzParseHgrm(f *testing.F) {
	if b, err := os.ReadFile("testdata/latency.hgrm"); err == nil {
		f.Add(string(b))
	}
	f.Add("1 0 1 1\n2 0.5 2 2\n")
	f.Add("#[Mean = 1]\n")
	f.Add("1e308 1 9223372036854775807 inf\n")
	f.Fuzz(func(t *testing.T, in string) {
		pts, err := plot.ParseHgrm(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, plot.ErrBadHgrm) {
				t.Fatalf("error %v does not wrap ErrBadHgrm", err)
			}
			return
		}
		for i, p := range pts {
			if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Value < 0 || p.Quantile < 0 || p.Quantile > 1 {
				t.Fatalf("row %d out of range: %+v", i, p)
			}
			if i > 0 && (p.Value < pts[i-1].Value || p.Quantile < pts[i-1].Quantile) {
				t.Fatalf("row %d out of order", i)
			}
		}
	})
}
