package plot

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Percentile is one row of an HdrHistogram percentile distribution: the
// value at or below which a fraction Quantile (0..1) of the recorded
// values fall.
type Percentile struct {
	Value      float64 // in the file's unit (see LoadSpectra for ours)
	Quantile   float64 // 0..1
	TotalCount int64   // values recorded at or below Value
}

// Inverse is 1/(1-Quantile), the x coordinate of a percentile spectrum:
// 2 at the median, 100 at p99, +Inf at the maximum.
func (p Percentile) Inverse() float64 { return 1 / (1 - p.Quantile) }

// maxHgrmRows bounds what ParseHgrm accepts, so a wrong file cannot make
// it hold gigabytes; a real distribution has a few hundred rows.
const maxHgrmRows = 100000

// ParseHgrm reads HdrHistogram's percentile distribution text format, as
// written by hdrhistogram-go's PercentilesPrint, wrk and HdrHistogram's
// Java tools:
//
//	 Value	Percentile	TotalCount	1/(1-Percentile)
//
//	  12.000     0.000000            1         1.00
//	  ...
//	#[Mean    =       15.031, StdDeviation   =        4.210]
//
// Blank lines, the header and the "#[" footer are skipped. Every other
// line must hold a value, a percentile in [0, 1] and a count, in
// non-decreasing order; the fourth column is derived and not trusted.
// Errors wrap ErrBadHgrm and name the line.
func ParseHgrm(r io.Reader) ([]Percentile, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	var out []Percentile
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "Value") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%w: line %d: want value, percentile, count; got %q", ErrBadHgrm, n, clip(line))
		}
		v, err1 := strconv.ParseFloat(f[0], 64)
		q, err2 := strconv.ParseFloat(f[1], 64)
		c, err3 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w: line %d: not numbers: %q", ErrBadHgrm, n, clip(line))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || !(q >= 0 && q <= 1) || c < 0 {
			return nil, fmt.Errorf("%w: line %d: out of range: %q", ErrBadHgrm, n, clip(line))
		}
		if k := len(out); k > 0 && (q < out[k-1].Quantile || v < out[k-1].Value || c < out[k-1].TotalCount) {
			return nil, fmt.Errorf("%w: line %d: rows out of order", ErrBadHgrm, n)
		}
		if len(out) == maxHgrmRows {
			return nil, fmt.Errorf("%w: more than %d rows", ErrBadHgrm, maxHgrmRows)
		}
		out = append(out, Percentile{Value: v, Quantile: q, TotalCount: c})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrBadHgrm, n+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no rows", ErrBadHgrm)
	}
	return out, nil
}

// clip shortens a line quoted in an error.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
