package report

import (
	"strings"
	"testing"

	"c10k/harness/results"
	"c10k/loadgen"
)

func TestRateNoteSaysWhereTheGeneratorSlept(t *testing.T) {
	scenario := func(spinUs int64, loops int) []results.Scenario {
		m := results.Measurement{Load: loadgen.Result{SpinUs: spinUs, Loops: loops}}
		return []results.Scenario{{Levels: []results.Level{{Level: 5000, Repeats: []results.Measurement{m}}}}}
	}
	tests := []struct {
		name string
		scs  []results.Scenario
		want string // "" for no note
	}{
		{"happy: one loop polling within 50 us", scenario(50, 1), "Below about 20k req/s"},
		{"happy: two loops double the rate", scenario(50, 2), "Below about 40k req/s"},
		{"sad: never polled", scenario(0, 1), "slept on a timer between requests at every rate"},
		{"sad: rate scenario not run", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rateNote(tt.scs)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Fatalf("rateNote = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
