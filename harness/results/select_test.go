package results_test

import (
	"testing"

	"c10k/harness/results"
)

// scenarioAt is a scenario with per-connection and throughput figures
// at the given levels.
func scenarioAt(server string, levels ...int) results.Scenario {
	sc := results.Scenario{Scenario: "idle", Server: server}
	for _, l := range levels {
		sc.Levels = append(sc.Levels, results.Level{Level: l, Summary: results.Summary{
			PerConn: results.PerConn{Conns: l},
			RPS:     results.Stat{Median: float64(l), N: 1},
		}})
	}
	return sc
}

func TestCommonLevel(t *testing.T) {
	tests := []struct {
		name   string
		scs    []results.Scenario
		target int
		want   int
	}{
		{"happy: target reached by all", []results.Scenario{scenarioAt("a", 1000, 10000, 15000), scenarioAt("b", 1000, 10000)}, 10000, 10000},
		{"happy: largest common below target", []results.Scenario{scenarioAt("a", 1000, 5000, 10000), scenarioAt("b", 1000, 5000)}, 10000, 5000},
		{"happy: no target means largest common", []results.Scenario{scenarioAt("a", 1, 10, 100), scenarioAt("b", 1, 10)}, 0, 10},
		{"happy: common levels all above target", []results.Scenario{scenarioAt("a", 2000, 3000), scenarioAt("b", 2000, 3000)}, 1000, 3000},
		{"sad: nothing in common falls back to any", []results.Scenario{scenarioAt("a", 1000), scenarioAt("b", 5000)}, 10000, 5000},
		{"sad: no levels", []results.Scenario{scenarioAt("a"), scenarioAt("b")}, 10000, 0},
		{"sad: no scenarios", nil, 10000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := results.CommonLevel(tt.scs, tt.target, results.HasPerConn); got != tt.want {
				t.Errorf("CommonLevel = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPerConnLevel(t *testing.T) {
	tests := []struct {
		name string
		scs  []results.Scenario
		want int
	}{
		{"happy: most reached 10k", []results.Scenario{scenarioAt("a", 1000, 10000), scenarioAt("b", 1000, 10000), scenarioAt("c", 1000)}, 10000},
		{"sad: most stopped below: the level all reached", []results.Scenario{scenarioAt("a", 1000, 10000), scenarioAt("b", 1000, 5000), scenarioAt("c", 1000, 5000)}, 1000},
		{"sad: nothing", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := results.PerConnLevel(tt.scs); got != tt.want {
				t.Errorf("PerConnLevel = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLevelNear(t *testing.T) {
	sc := scenarioAt("a", 1000, 5000)
	if l, ok := results.LevelNear(sc, 10000, results.HasPerConn); !ok || l.Level != 5000 {
		t.Errorf("LevelNear(10000) = %d, %v; want 5000, true", l.Level, ok)
	}
	if l, ok := results.LevelNear(sc, 1000, results.HasPerConn); !ok || l.Level != 1000 {
		t.Errorf("LevelNear(1000) = %d, %v; want 1000, true", l.Level, ok)
	}
	if _, ok := results.LevelNear(sc, 500, results.HasPerConn); ok {
		t.Error("LevelNear(500) found a level below every level")
	}
	if l, ok := results.MaxLevel(sc, results.HasRPS, func(l results.Level) float64 { return l.Summary.RPS.Median }); !ok || l.Level != 5000 {
		t.Errorf("MaxLevel = %d, %v", l.Level, ok)
	}
}

func TestServerCPUCount(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"0", 1}, {"0-1", 2}, {"0,2-3", 3},
		{"", 0}, {"a", 0}, {"3-1", 0}, {"0-x", 0},
	}
	for _, tt := range tests {
		run := results.Run{Config: results.Config{ServerCPUs: tt.in}}
		if got := run.ServerCPUCount(); got != tt.want {
			t.Errorf("ServerCPUCount(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
