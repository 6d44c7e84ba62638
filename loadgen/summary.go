package loadgen

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteSummary prints a short human summary in wrk's spirit: what ran, the
// latency percentiles, counts, errors by kind, rates.
func (r *Result) WriteSummary(w io.Writer) error {
	var b strings.Builder
	mode := "closed loop"
	if r.OpenLoop {
		mode = fmt.Sprintf("open loop at %s req/s", formatCount(r.Rate))
	}
	fmt.Fprintf(&b, "Running %s test @ %s\n", formatSeconds(r.DurationS), r.URL)
	b.WriteString("  ")
	if len(r.Procs) > 0 {
		fmt.Fprintf(&b, "%d processes, ", len(r.Procs))
	}
	fmt.Fprintf(&b, "%d loops and %d connections, %s, pipeline %d", r.Loops, r.Connections, mode, r.Pipeline)
	if r.WarmupS > 0 {
		fmt.Fprintf(&b, ", after %s warm-up", formatSeconds(r.WarmupS))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  %-20s %9s %9s %9s %9s %9s %9s %9s\n", "Latency", "p50", "p90", "p99", "p99.9", "p99.99", "max", "mean")
	name := "service"
	if r.OpenLoop {
		writeLatencyRow(&b, "from intended send", r.Latency)
		name = "service (uncorr.)"
	}
	writeLatencyRow(&b, name, r.Uncorrected)
	fmt.Fprintf(&b, "  %d requests in %s, %s read\n", r.Requests, formatSeconds(r.DurationS), formatBytes(float64(r.BytesRead)))
	if r.OpenLoop {
		fmt.Fprintf(&b, "  schedule: %d due, %d sent late (>%v behind), max lag %s\n",
			r.Scheduled, r.Late, LateThreshold, formatMicros(float64(r.MaxLagUs)))
	}
	if r.Complete {
		fmt.Fprintf(&b, "  generator: busiest loop %.0f%% busy%s\n", 100*r.LoopBusy, busyVerdict(r.LoopBusy))
	}
	if r.TotalErrors() > 0 {
		fmt.Fprintf(&b, "  Errors: %s\n", formatKinds(r.Errors))
		writeFirstErrors(&b, "First", r.FirstErrors)
	}
	if r.IdleRequested > 0 {
		fmt.Fprintf(&b, "  Idle: %d requested, %d opened in %s, %d alive at the end\n",
			r.IdleRequested, r.IdleOpened, formatSeconds(r.IdleOpenS), r.IdleAlive)
		if n := sumKinds(r.IdleErrors); n > 0 {
			fmt.Fprintf(&b, "  Idle errors: %s\n", formatKinds(r.IdleErrors))
			writeFirstErrors(&b, "First idle", r.IdleFirstErrors)
		}
	}
	fmt.Fprintf(&b, "Requests/sec: %10.2f\n", r.RPS)
	if r.DurationS > 0 {
		fmt.Fprintf(&b, "Transfer/sec: %10s\n", formatBytes(float64(r.BytesRead)/r.DurationS))
	}
	if !r.Complete {
		b.WriteString("INCOMPLETE: ")
	}
	if r.Message != "" {
		b.WriteString(r.Message)
		b.WriteString("\n")
	} else if !r.Complete {
		b.WriteString("the run ended early; figures cover the part that ran\n")
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("loadgen: writing summary: %w", err)
	}
	return nil
}

// SaturatedBusy is the loop busy share above which the generator, not the
// server, may be what limits the load.
const SaturatedBusy = 0.9

func busyVerdict(busy float64) string {
	if busy >= SaturatedBusy {
		return " (saturated: the figures may measure the generator, not the server)"
	}
	return ""
}

func writeLatencyRow(b *strings.Builder, name string, l Latency) {
	fmt.Fprintf(b, "    %-18s %9s %9s %9s %9s %9s %9s %9s\n", name,
		formatMicros(l.P50), formatMicros(l.P90), formatMicros(l.P99),
		formatMicros(l.P999), formatMicros(l.P9999), formatMicros(l.Max), formatMicros(l.Mean))
}

func sumKinds(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// formatKinds lists the kinds in a fixed order, as wrk's "Socket errors".
func formatKinds(m map[string]int64) string {
	parts := make([]string, 0, numKinds)
	for _, k := range ErrorKinds() {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k.String()]))
	}
	return strings.Join(parts, ", ")
}

// writeFirstErrors lists the first message of each kind, one a line, in
// the kinds' order: "First parse error: wire: malformed response: bad
// chunk size line at ...".
func writeFirstErrors(b *strings.Builder, lead string, first map[string]string) {
	for _, k := range ErrorKinds() {
		if msg, ok := first[k.String()]; ok {
			fmt.Fprintf(b, "  %s %s error: %s\n", lead, k, msg)
		}
	}
}

func formatMicros(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.0fus", us)
	}
}

func formatSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(10 * time.Millisecond).String()
}

func formatBytes(n float64) string {
	const unit = 1024
	switch {
	case n >= unit*unit*unit:
		return fmt.Sprintf("%.2fGB", n/(unit*unit*unit))
	case n >= unit*unit:
		return fmt.Sprintf("%.2fMB", n/(unit*unit))
	case n >= unit:
		return fmt.Sprintf("%.2fKB", n/unit)
	default:
		return fmt.Sprintf("%.0fB", n)
	}
}

func formatCount(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}
