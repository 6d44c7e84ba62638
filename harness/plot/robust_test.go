package plot_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"c10k/harness/plot"
	"c10k/harness/registry"
	"c10k/harness/results"
)

// TestEmptyInputSkipsEveryFigure: a run with no scenarios draws nothing
// and is not an error.
func TestEmptyInputSkipsEveryFigure(t *testing.T) {
	written, skipped, err := plot.WriteAll(plot.Input{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 0 {
		t.Errorf("wrote %v", written)
	}
	if len(skipped) != len(plot.Specs()) {
		t.Errorf("skipped %d figures, want all %d", len(skipped), len(plot.Specs()))
	}
	for _, s := range skipped {
		if !errors.Is(s.Err, plot.ErrNoData) {
			t.Errorf("%s: %v, want ErrNoData", s.Name, s.Err)
		}
	}
}

// everyScenario makes one scenario per scenario name for each server,
// with the given levels and a summary built by fill.
func everyScenario(servers []string, levels []int, fill func(level int) results.Summary, fail *results.Failure) []results.Scenario {
	var out []results.Scenario
	for _, name := range []string{"idle", "concurrency", "rate", "wait", "cpu"} {
		for _, srv := range servers {
			sc := results.Scenario{Scenario: name, Server: srv, Kind: results.KindModel}
			for _, l := range levels {
				sc.Levels = append(sc.Levels, results.Level{Level: l, Summary: fill(l)})
			}
			if fail != nil {
				sc.Failures = []results.Failure{*fail}
			}
			out = append(out, sc)
		}
	}
	return out
}

func stat(v float64) results.Stat { return results.Stat{Median: v, Min: v, Max: v, N: 1} }

func summaryOf(v float64, conns int) results.Summary {
	s := stat(v)
	return results.Summary{
		RPS: s, P50US: s, P90US: s, P99US: s, P999US: s, MaxUS: s, CtxSwitchesPerReq: s,
		PSS: s, RSS: s, Threads: s, FDs: s,
		PerConn: results.PerConn{Conns: conns, PSSBytes: v, RSSBytes: v, KernelStack: v, PageTables: v, SocketBytes: v, Threads: v, FDs: v},
	}
}

// TestDegenerateData draws every figure from data that trips plotting
// libraries: zeros and negatives on log axes, one point, NaN, identical
// values, a server with only a failure. A figure may be skipped for lack
// of data; it must never panic or fail to draw.
func TestDegenerateData(t *testing.T) {
	fail := &results.Failure{Level: 100, Reason: "crash"}
	tests := []struct {
		name string
		scs  []results.Scenario
	}{
		{"sad: all zeros", everyScenario([]string{"thread", "epoll"}, []int{0, 1, 10}, func(int) results.Summary { return summaryOf(0, 0) }, nil)},
		{"sad: negative deltas", everyScenario([]string{"epoll"}, []int{10, 100}, func(l int) results.Summary { return summaryOf(-5, l) }, nil)},
		{"sad: one level", everyScenario([]string{"goroutine"}, []int{1000}, func(l int) results.Summary { return summaryOf(42, l) }, nil)},
		{"sad: identical values", everyScenario([]string{"nginx", "epoll"}, []int{1, 10, 100}, func(l int) results.Summary { return summaryOf(7, l) }, nil)},
		{"sad: NaN and Inf", everyScenario([]string{"thread"}, []int{1, 10}, func(l int) results.Summary {
			if l == 1 {
				return summaryOf(math.NaN(), l)
			}
			return summaryOf(math.Inf(1), l)
		}, nil)},
		{"sad: only a failure", everyScenario([]string{"thread"}, nil, nil, fail)},
		{"sad: failure at level zero", everyScenario([]string{"thread"}, []int{1, 10}, func(l int) results.Summary { return summaryOf(3, l) },
			&results.Failure{Level: 0, Reason: "did not start"})},
		{"sad: unknown server", everyScenario([]string{"lighttpd"}, []int{1, 10, 100}, func(l int) results.Summary { return summaryOf(float64(l), l) }, fail)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := plot.Input{Scenarios: tt.scs}
			for _, spec := range plot.Specs() {
				f, err := spec.Build(in)
				if err != nil {
					if !errors.Is(err, plot.ErrNoData) {
						t.Errorf("%s: %v", spec.Name, err)
					}
					continue
				}
				var buf bytes.Buffer
				if err := f.WritePNG(&buf); err != nil {
					t.Errorf("%s: %v", spec.Name, err)
				}
				if err := f.WriteSVG(&buf); err != nil {
					t.Errorf("%s: %v", spec.Name, err)
				}
			}
		})
	}
}

// TestStylesAreStable: the same server keeps its style, each known
// server has its own, and unknown servers get one too.
func TestStylesAreStable(t *testing.T) {
	seen := map[any]string{}
	for _, s := range registry.Names(registry.Servers) {
		st := plot.StyleOf(s, "")
		key := [2]any{st.Color, st.Glyph}
		if other, dup := seen[key]; dup {
			t.Errorf("%s and %s share colour and marker", s, other)
		}
		seen[key] = s
		if plot.StyleOf(s, "") != st {
			t.Errorf("%s: style changed between calls", s)
		}
	}
	if a, b := plot.StyleOf("lighttpd", results.KindPeer), plot.StyleOf("lighttpd", results.KindPeer); a != b || !a.Dashed {
		t.Errorf("unknown peer style %+v then %+v, want stable and dashed", a, b)
	}
}
