package report

import (
	"fmt"
	"math"
	"strings"

	"c10k/harness/units"
)

// none is what a table cell shows for a figure this run did not measure.
const none = "–"

// valid reports whether v is a number worth printing.
func valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fmtBytes formats bytes for humans: 563 B, 20 KiB, 4.3 MiB.
func fmtBytes(v float64) string {
	if !valid(v) {
		return none
	}
	return units.Bytes(v)
}

// fmtLatency formats microseconds: 250 µs, 2.5 ms, 1.2 s.
func fmtLatency(us float64) string {
	if !valid(us) || us <= 0 {
		return none
	}
	return units.Micros(us)
}

// fmtRate formats requests per second: 950 req/s, 129k req/s.
func fmtRate(v float64) string {
	if !valid(v) || v <= 0 {
		return none
	}
	return units.Count(v) + " req/s"
}

// fmtCount formats a count: 950, 10k.
func fmtCount(v float64) string {
	if !valid(v) {
		return none
	}
	return units.Count(v)
}

// fmtRatio formats a per-connection or per-request figure: 1, 0.22, 2.1.
func fmtRatio(v float64) string {
	if !valid(v) {
		return none
	}
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a < 0.01:
		return fmt.Sprintf("%.3f", v)
	case a < 10:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
	return units.Count(math.Round(v))
}

// fmtTimes formats a ratio between two servers' figures: 3.5x, 120x.
func fmtTimes(v float64) string {
	if !valid(v) {
		return none
	}
	if v >= 10 {
		return fmt.Sprintf("%.0fx", v)
	}
	return fmt.Sprintf("%.1fx", v)
}

// fmtPercent formats a fraction as a percentage: 94.5%.
func fmtPercent(v float64) string {
	if !valid(v) {
		return none
	}
	if a := math.Abs(v); a > 0 && a < 0.01 {
		return fmt.Sprintf("%.2g%%", 100*v) // 0.033%, not 0%
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", 100*v), "0"), ".") + "%"
}

// fmtLevel names a level of a scenario: "C=1k", "10k idle connections".
func fmtLevel(scenario string, level int) string {
	n := units.Count(float64(level))
	switch scenario {
	case "idle", scaleScenario:
		return n + " idle connections"
	case "rate":
		return n + " req/s offered"
	case "gather":
		return "K=" + n
	}
	return "C=" + n
}

// fmtSeconds formats a wall time: 45 s, 9 min 30 s, 1 h 5 min.
func fmtSeconds(s float64) string {
	if !valid(s) || s <= 0 {
		return none
	}
	d := int(math.Round(s))
	switch {
	case d < 60:
		return fmt.Sprintf("%d s", d)
	case d < 3600:
		if d%60 == 0 {
			return fmt.Sprintf("%d min", d/60)
		}
		return fmt.Sprintf("%d min %d s", d/60, d%60)
	}
	return fmt.Sprintf("%d h %d min", d/3600, (d%3600)/60)
}

// oneLine collapses whitespace, so a reason with newlines fits a table
// cell, and escapes the pipe that would split it.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

// fmtInt formats an exact integer with thousands separators: 1,048,576.
// Limits read better exact than rounded.
func fmtInt(v uint64) string {
	s := fmt.Sprint(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
