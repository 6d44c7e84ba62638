package units_test

import (
	"testing"

	"c10k/harness/units"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		name string
		f    func(float64) string
		in   float64
		want string
	}{
		{"count small", units.Count, 950, "950"},
		{"count k", units.Count, 1500, "1.5k"},
		{"count 10k", units.Count, 10000, "10k"},
		{"count M", units.Count, 2e6, "2M"},
		{"count fraction", units.Count, 0.25, "0.25"},
		{"count zero", units.Count, 0, "0"},
		{"bytes B", units.Bytes, 512, "512 B"},
		{"bytes KiB", units.Bytes, 1536, "1.5 KiB"},
		{"bytes MiB", units.Bytes, 20 << 20, "20 MiB"},
		{"bytes GiB", units.Bytes, 1 << 30, "1 GiB"},
		{"micros", units.Micros, 250, "250 µs"},
		{"millis", units.Micros, 2500, "2.5 ms"},
		{"seconds", units.Micros, 1.2e6, "1.2 s"},
		{"p50", units.Percentile, 2, "50%"},
		{"p99.9", units.Percentile, 1000, "99.9%"},
		{"p99.999", units.Percentile, 1e5, "99.999%"},
		{"p0", units.Percentile, 1, "0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
