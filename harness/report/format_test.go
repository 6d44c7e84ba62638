package report

import (
	"math"
	"testing"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"bytes", fmtBytes(229 * 1024), "229 KiB"},
		{"bytes NaN", fmtBytes(math.NaN()), none},
		{"latency", fmtLatency(2500), "2.5 ms"},
		{"latency zero", fmtLatency(0), none},
		{"rate", fmtRate(129000), "129k req/s"},
		{"ratio one", fmtRatio(1), "1"},
		{"ratio fraction", fmtRatio(0.22), "0.22"},
		{"ratio tiny", fmtRatio(0.004), "0.004"},
		{"ratio inf", fmtRatio(math.Inf(1)), none},
		{"times", fmtTimes(3.46), "3.5x"},
		{"times big", fmtTimes(120.4), "120x"},
		{"percent", fmtPercent(0.9446), "94.5%"},
		{"percent whole", fmtPercent(1), "100%"},
		{"level idle", fmtLevel("idle", 10000), "10k idle connections"},
		{"level conc", fmtLevel("concurrency", 1000), "C=1k"},
		{"level rate", fmtLevel("rate", 5000), "5k req/s offered"},
		{"seconds", fmtSeconds(570), "9 min 30 s"},
		{"int", fmtInt(1048576), "1,048,576"},
		{"int small", fmtInt(12), "12"},
		{"one line", oneLine("a\n b | c"), `a b \| c`},
		{"anchor", anchor("Figure 6. p50, p99 and p99.9 latency (closed loop)"), "figure-6-p50-p99-and-p999-latency-closed-loop"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
