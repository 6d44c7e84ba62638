package plot_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"c10k/harness/plot"
)

// TestParseHgrmFile reads a file written by hdrhistogram-go's
// PercentilesPrint, in milliseconds, as the load generator writes them.
func TestParseHgrmFile(t *testing.T) {
	f, err := os.Open("testdata/latency.hgrm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pts, err := plot.ParseHgrm(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) < 50 {
		t.Fatalf("%d rows, want the file's ~75", len(pts))
	}
	first, last := pts[0], pts[len(pts)-1]
	if first.Value != 1.18 || first.Quantile != 0 || first.TotalCount != 1 {
		t.Errorf("first row %+v", first)
	}
	if last.Quantile != 1 || last.TotalCount != 20000 || !math.IsInf(last.Inverse(), 1) {
		t.Errorf("last row %+v, inverse %v", last, last.Inverse())
	}
	if got := pts[1].Inverse(); math.Abs(got-1/0.9) > 1e-9 {
		t.Errorf("inverse of 10%% = %v", got)
	}
}

func TestParseHgrm(t *testing.T) {
	const header = " Value\tPercentile\tTotalCount\t1/(1-Percentile)\n\n"
	tests := []struct {
		name    string
		in      string
		rows    int
		wantErr bool
	}{
		{"happy: header, rows, footer", header + "  1.0 0.0 1 1.00\n  2.5 0.5 10 2.00\n  9.0 1.0 20 inf\n#[Mean = 3.0, StdDeviation = 1.0]\n", 3, false},
		{"happy: no header, CRLF", "1.0 0.0 1 1.00\r\n2.0 0.9 9 10.00\r\n", 2, false},
		{"happy: three columns only", "1 0 1\n2 0.5 2\n", 2, false},
		{"sad: empty", "", 0, true},
		{"sad: header only", header, 0, true},
		{"sad: two columns", "1.0 0.5\n", 0, true},
		{"sad: not a number", "abc 0.5 1 2.00\n", 0, true},
		{"sad: percentile above one", "1.0 1.5 1 2.00\n", 0, true},
		{"sad: negative value", "-1.0 0.5 1 2.00\n", 0, true},
		{"sad: NaN value", "NaN 0.5 1 2.00\n", 0, true},
		{"sad: percentiles going down", "1.0 0.5 1 2\n2.0 0.4 2 1.6\n", 0, true},
		{"sad: values going down", "2.0 0.5 1 2\n1.0 0.6 2 2.5\n", 0, true},
		{"sad: line too long", strings.Repeat("1", 70000) + " 0.5 1 2\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts, err := plot.ParseHgrm(strings.NewReader(tt.in))
			if tt.wantErr {
				if !errors.Is(err, plot.ErrBadHgrm) {
					t.Fatalf("err = %v, want ErrBadHgrm", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != tt.rows {
				t.Errorf("%d rows, want %d", len(pts), tt.rows)
			}
		})
	}
}
