package units

import (
	"math"
	"strconv"
	"strings"
)

// Count formats a count with k and M suffixes: 950, 1.5k, 10k, 2M.
func Count(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e3:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

// Bytes formats a size in bytes with binary units: 512 B, 1.5 KiB,
// 20 MiB.
func Bytes(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1<<30:
		return trimFloat(v/(1<<30)) + " GiB"
	case a >= 1<<20:
		return trimFloat(v/(1<<20)) + " MiB"
	case a >= 1<<10:
		return trimFloat(v/(1<<10)) + " KiB"
	}
	return trimFloat(v) + " B"
}

// Micros formats a duration given in microseconds: 250 µs, 2.5 ms,
// 1.2 s.
func Micros(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimFloat(v/1e6) + " s"
	case a >= 1e3:
		return trimFloat(v/1e3) + " ms"
	}
	return trimFloat(v) + " µs"
}

// Percentile formats 1/(1-q), the x value of a percentile spectrum,
// as the percentile it stands for: 2 -> 50%, 1000 -> 99.9%.
func Percentile(inv float64) string {
	if inv <= 1 {
		return "0%"
	}
	// Rounded to the nines a spectrum can show, so 1e5 reads 99.999%,
	// not 99.99900000000001%.
	q := math.Round(100*(1-1/inv)*1e6) / 1e6
	return strconv.FormatFloat(q, 'f', -1, 64) + "%"
}

// trimFloat prints v with at most three significant digits and no
// trailing zeros: 1, 2.5, 0.12, 125.
func trimFloat(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	prec := 0
	switch {
	case a < 0.01:
		return strconv.FormatFloat(v, 'g', 2, 64)
	case a < 1:
		prec = 2
	case a < 10:
		prec = 2
	case a < 100:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
