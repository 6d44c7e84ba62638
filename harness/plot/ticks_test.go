package plot_test

import (
	"testing"

	"c10k/harness/plot"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		name string
		f    func(float64) string
		in   float64
		want string
	}{
		{"count small", plot.FormatCount, 950, "950"},
		{"count k", plot.FormatCount, 1500, "1.5k"},
		{"count 10k", plot.FormatCount, 10000, "10k"},
		{"count M", plot.FormatCount, 2e6, "2M"},
		{"count fraction", plot.FormatCount, 0.25, "0.25"},
		{"count zero", plot.FormatCount, 0, "0"},
		{"bytes B", plot.FormatBytes, 512, "512 B"},
		{"bytes KiB", plot.FormatBytes, 1536, "1.5 KiB"},
		{"bytes MiB", plot.FormatBytes, 20 << 20, "20 MiB"},
		{"bytes GiB", plot.FormatBytes, 1 << 30, "1 GiB"},
		{"micros", plot.FormatMicros, 250, "250 µs"},
		{"millis", plot.FormatMicros, 2500, "2.5 ms"},
		{"seconds", plot.FormatMicros, 1.2e6, "1.2 s"},
		{"p50", plot.FormatPercentile, 2, "50%"},
		{"p99.9", plot.FormatPercentile, 1000, "99.9%"},
		{"p99.999", plot.FormatPercentile, 1e5, "99.999%"},
		{"p0", plot.FormatPercentile, 1, "0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
