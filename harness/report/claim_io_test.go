package report

import (
	"testing"

	"c10k/harness/results"
)

func TestJudgeWait(t *testing.T) {
	tests := []struct {
		name string
		in   waitInput
		want Verdict
	}{
		{"happy: the loop keeps C / wait on one thread", waitInput{Level: 100, WaitMS: 10, Have: true, LoopRPS: 9200, HaveThreads: true}, Holds},
		{"happy: threads not measured", waitInput{Level: 100, WaitMS: 10, Have: true, LoopRPS: 9200}, Holds},
		{"sad: near C / wait but a thread per request", waitInput{Level: 100, WaitMS: 10, Have: true, LoopRPS: 9200, HaveThreads: true, LoopThreads: 1}, Partly},
		{"sad: the waits serialised", waitInput{Level: 100, WaitMS: 10, Have: true, LoopRPS: 110, HaveThreads: true}, DoesNotHold},
		{"sad: not measured", waitInput{WaitMS: 10}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, because := judgeWait(tt.in)
			if got != tt.want || because == "" {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
		})
	}
}

func TestOverlap(t *testing.T) {
	tests := []struct {
		p50US float64
		k     int
		want  string
	}{
		{12000, 16, "at once"},
		{60000, 16, "partly overlapped"},
		{165000, 16, "one after another"},
		{19000, 1, "at once"},
	}
	for _, tt := range tests {
		if got := overlap(tt.p50US, tt.k, 10); got != tt.want {
			t.Errorf("overlap(%v, %d) = %q, want %q", tt.p50US, tt.k, got, tt.want)
		}
	}
}

func TestJudgeGather(t *testing.T) {
	loop := func(p50 float64) *gatherPoint { return &gatherPoint{Server: "epoll", P50US: p50} }
	thread := gatherPoint{Server: "thread", P50US: 170000}
	tests := []struct {
		name string
		in   gatherInput
		want Verdict
	}{
		{"happy: loop and goroutines near one wait", gatherInput{K: 16, WaitMS: 10, Loop: loop(13000),
			Others: []gatherPoint{thread, {Server: "goroutine", P50US: 14000}}}, Holds},
		{"happy: the thread model's sequence is not held against the claim", gatherInput{K: 16, WaitMS: 10, Loop: loop(13000),
			Others: []gatherPoint{thread}}, Holds},
		{"sad: goroutines did not overlap", gatherInput{K: 16, WaitMS: 10, Loop: loop(13000),
			Others: []gatherPoint{{Server: "goroutine", P50US: 90000}}}, Partly},
		{"sad: the loop overlapped in part", gatherInput{K: 16, WaitMS: 10, Loop: loop(60000)}, Partly},
		{"happy: in part, the rest queued at a saturated backend", gatherInput{K: 16, WaitMS: 10,
			Loop: &gatherPoint{Server: "epoll", P50US: 43000, Saturated: true, SideBusy: "backend 78% and load generator 19% of 1 CPU(s), list 1"}}, Holds},
		{"sad: a saturated backend does not excuse waits in sequence", gatherInput{K: 16, WaitMS: 10,
			Loop: &gatherPoint{Server: "epoll", P50US: 150000, Saturated: true}}, DoesNotHold},
		{"sad: the loop made its calls in sequence", gatherInput{K: 16, WaitMS: 10, Loop: loop(160000)}, DoesNotHold},
		{"sad: K of 1 shows nothing", gatherInput{K: 1, WaitMS: 10, Loop: loop(11000)}, NotMeasured},
		{"sad: no loop", gatherInput{K: 16, WaitMS: 10}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, because := judgeGather(tt.in)
			if got != tt.want || because == "" {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
		})
	}
}

func TestJudgeProxyPeers(t *testing.T) {
	nginx := &proxyPeer{Server: "nginx", RPS: 30000, P99US: 200000}
	keeps := proxyPeer{Server: "apache-event", RPS: 28000, P99US: 250000, Threads: 1}
	slow := proxyPeer{Server: "apache-worker", RPS: 9000, P99US: 300000, Threads: 1}
	lossy := proxyPeer{Server: "apache-prefork", RPS: 20000, P99US: 250000, ErrorRate: 0.05, Threads: 1}
	tests := []struct {
		name string
		in   proxyPeersInput
		want Verdict
	}{
		{"happy: every Apache behind", proxyPeersInput{Level: 4000, Nginx: nginx, Apaches: []proxyPeer{slow, lossy}}, Holds},
		{"happy: one Apache kept up", proxyPeersInput{Level: 4000, Nginx: nginx, Apaches: []proxyPeer{slow, keeps}}, Partly},
		{"sad: every Apache kept up", proxyPeersInput{Level: 4000, Nginx: nginx, Apaches: []proxyPeer{keeps}}, DoesNotHold},
		{"sad: nginx lost requests", proxyPeersInput{Level: 4000, Nginx: &proxyPeer{Server: "nginx", RPS: 30000, ErrorRate: 0.2}, Apaches: []proxyPeer{slow}}, DoesNotHold},
		{"sad: no Apache", proxyPeersInput{Level: 4000, Nginx: nginx}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, because := judgeProxyPeers(tt.in)
			if got != tt.want || because == "" {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
		})
	}
}

func TestBackendSaturated(t *testing.T) {
	level := func(cpus string, backend, load float64) results.Level {
		return results.Level{Repeats: []results.Measurement{{LoadCPUUtil: load, Backend: &results.Backend{CPUs: cpus, CPUUtil: backend}}}}
	}
	tests := []struct {
		name string
		l    results.Level
		want bool
	}{
		{"happy: backend and load fill their shared CPU", level("1", 0.78, 0.19), true},
		{"happy: room left on the shared CPU", level("1", 0.5, 0.2), false},
		{"happy: a CPU of its own, the load not counted", level("2", 0.5, 0.6), false},
		{"sad: no backend recorded", results.Level{Repeats: []results.Measurement{{}}}, false},
	}
	for _, tt := range tests {
		if got, _ := backendSaturated(tt.l, "1"); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
