package thread

import (
	"runtime"
	"testing"
)

func TestComputeLimits(t *testing.T) {
	margin := threadMargin + runtime.GOMAXPROCS(0)
	tests := []struct {
		name    string
		sources []source
		procs   int
		want    int
		boundBy string
	}{
		{name: "happy smallest wins", sources: []source{{"a", 30000, false}, {"b", 20000, false}, {"c", 25000, false}}, want: 20000, boundBy: "b"},
		{name: "happy unknown skipped", sources: []source{{"a", 0, false}, {"b", 50000, false}, {"c", -1, false}}, want: 50000, boundBy: "b"},
		{name: "happy above go default", sources: []source{{"threads-max", 190000, false}}, want: 190000, boundBy: "threads-max"},
		{name: "happy one process is alone", sources: []source{{"pid_max", 30000, false}}, procs: 1, want: 30000, boundBy: "pid_max"},
		{name: "happy machine limits split", sources: []source{{"pid_max", 30000, false}, {"maps", 20000, true}}, procs: 4, want: 7500, boundBy: "pid_max shared by 4 processes"},
		{name: "happy own limit not split", sources: []source{{"pid_max", 90000, false}, {"maps", 20000, true}}, procs: 4, want: 20000, boundBy: "maps"},
		{name: "sad nothing known", sources: []source{{"a", 0, false}}, want: defaultMaxThreads, boundBy: "Go default"},
		{name: "sad tiny limit keeps a floor", sources: []source{{"pids", 10, false}}, want: 2 * margin, boundBy: "pids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeLimits(tt.sources, tt.procs)
			if got.MaxThreads != tt.want || got.BoundBy != tt.boundBy {
				t.Fatalf("MaxThreads %d by %q, want %d by %q", got.MaxThreads, got.BoundBy, tt.want, tt.boundBy)
			}
			if got.MaxConns != got.MaxThreads-margin {
				t.Fatalf("MaxConns %d, want MaxThreads - %d", got.MaxConns, margin)
			}
		})
	}
}

// TestProcessLimits reads this machine's limits: whatever they are, the
// connection limit must leave room below the thread limit.
func TestProcessLimits(t *testing.T) {
	l := ProcessLimits(1)
	t.Logf("this machine: %+v", l)
	if l.MaxConns <= 0 || l.MaxConns >= l.MaxThreads {
		t.Fatalf("limits %+v: want 0 < MaxConns < MaxThreads", l)
	}
}
