package harness

import (
	"testing"

	"golang.org/x/sys/unix"

	"c10k/harness/scenario"
)

func TestSpareCPUs(t *testing.T) {
	set := func(cpus ...int) unix.CPUSet {
		var s unix.CPUSet
		for _, c := range cpus {
			s.Set(c)
		}
		return s
	}
	tests := []struct {
		name         string
		avail        unix.CPUSet
		server, load string
		want         string
	}{
		{"happy: two CPUs, the backend shares the load's", set(0, 1), "0", "1", "1"},
		{"happy: four CPUs, a set of its own", set(0, 1, 2, 3), "0", "1", "2-3"},
		{"happy: a wide server leaves one", set(0, 1, 2, 3), "0-1", "2", "3"},
		{"sad: one CPU for everything", set(0), "0", "0", "0"},
		{"sad: unreadable list falls back to the load's", set(0, 1, 2), "x", "1", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spareCPUs(tt.avail, tt.server, tt.load); got != tt.want {
				t.Errorf("spareCPUs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPeerConfName(t *testing.T) {
	tests := []struct {
		scenario string
		level    int
		want     string
	}{
		{scenario.Concurrency, 100, "nginx"},
		{scenario.Proxy, 1000, "nginx-proxy"},
		{scenario.Gather, 16, "nginx-gather-k16"},
	}
	for _, tt := range tests {
		if got := peerConfName("nginx", scenario.Describe(tt.scenario), tt.level); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.scenario, tt.level, got, tt.want)
		}
	}
}
