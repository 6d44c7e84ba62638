package report

import (
	"strings"
	"testing"

	"c10k/harness/results"
)

func TestLimitKind(t *testing.T) {
	tests := []struct {
		reason string
		want   string
	}{
		{"memory: about 9.8 GiB needed (10 KiB per connection, measured at the previous level) would leave 2 GiB of 24 GiB available, under the 20% kept free", limitMemory},
		{"connections: only 410k of 500k opened in 60 s at 500k (timeout: dial tcp: i/o timeout)", limitConnections},
		{"connections: only 28k of 50k opened in 60 s at 50k (connect: cannot assign requested address)", limitPorts},
		{"needs about 50004 threads; pid_max 32768, threads-max 191000 and 400 in use leave 31368 (keeping 1000 spare for the rest of the machine)", limitThreads},
		{"needs 15010 fds in each of 67 server and load processes, RLIMIT_NOFILE hard limit is 4096", limitDescriptors},
		{"stopped after failing at 500k: accept: too many open files", limitDescriptors},
		{"stopped after failing at 500k: fatal error: runtime: cannot allocate memory", limitMemory},
		{"stopped after failing at 200k: exit status 2", ""},
		{"sad: a crash with no cause", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := limitKind(tt.reason); got != tt.want {
			t.Errorf("limitKind(%q) = %q, want %q", tt.reason, got, tt.want)
		}
	}
}

// scaleLevel is a scale level that kept alive of its n idle connections.
func scaleLevel(n int, alive float64) results.Level {
	m := results.Measurement{}
	m.Load.IdleOpenS = float64(n) / 25000
	return results.Level{Level: n, Repeats: []results.Measurement{m}, Summary: results.Summary{
		IdleAlive:   results.Stat{Median: alive, N: 1},
		ServerConns: results.Stat{Median: alive, N: 1},
		ConnectRate: results.Stat{Median: 25000, N: 1},
		PerConn:     results.PerConn{Conns: n, PSSBytes: 600, KernelBytes: 10 << 10, FDs: 1},
	}}
}

// A held level whose point counted far fewer server connections than the
// load generator held gives no per-connection costs: they come from the
// largest level that counted right, and the table says which.
func TestReachCostsSkipAMiscountedLevel(t *testing.T) {
	cfg := results.ScenarioConfig{Name: "scale", Levels: []int{10000, 100000, 500000}, ProbeConc: 4, ConnsPerProc: 15000}
	miscounted := scaleLevel(500000, 500000)
	miscounted.Summary.ServerConns.Median = 1284
	r := reachOf(results.Scenario{Scenario: "scale", Server: "nginx", Kind: results.KindPeer,
		Levels: []results.Level{scaleLevel(10000, 10000), scaleLevel(100000, 100000), miscounted}}, nil, cfg)
	if r.Held.Level != 500000 || r.Costs.Level != 100000 {
		t.Fatalf("held %d, costs from %d; want 500k held, costs from 100k", r.Held.Level, r.Costs.Level)
	}
	if got := costsAt(r); got != " (at 100k)" {
		t.Errorf("costsAt = %q", got)
	}
}

func TestReachOf(t *testing.T) {
	cfg := results.ScenarioConfig{Name: "scale", Levels: []int{10000, 100000, 1000000}, ProbeConc: 4, ConnsPerProc: 15000}
	sc := func(levels ...results.Level) results.Scenario {
		return results.Scenario{Scenario: "scale", Server: "epoll", Kind: results.KindModel, Levels: levels}
	}
	skip := func(level int, reason string) results.Skip {
		return results.Skip{Scenario: "scale", Server: "epoll", Level: level, Reason: reason}
	}
	failed := sc(scaleLevel(10000, 10000), scaleLevel(100000, 100000))
	failed.Failures = []results.Failure{{Level: 1000000, Kind: results.FailureCrash, Reason: "accept: too many open files"}}
	tests := []struct {
		name      string
		sc        results.Scenario
		skips     []results.Skip
		held      int
		limit     string // substring; "" for none
		limitKind string
	}{
		{"happy: the top held", sc(scaleLevel(10000, 10000), scaleLevel(100000, 100000), scaleLevel(1000000, 999000)), nil, 1000000, "", ""},
		{"happy: the guard stopped it on memory", sc(scaleLevel(10000, 10000), scaleLevel(100000, 100000)),
			[]results.Skip{skip(1000000, "memory: about 30 GiB needed")}, 100000, "skipped 1M: memory: about 30 GiB", limitMemory},
		{"happy: another server's skip is not its own", sc(scaleLevel(10000, 10000), scaleLevel(100000, 100000)),
			[]results.Skip{{Scenario: "scale", Server: "nginx", Level: 1000000, Reason: "memory: x"}}, 100000, "", ""},
		{"sad: a failure before the skip it caused", failed,
			[]results.Skip{skip(1000000, "stopped after failing at 1M: accept: too many open files")}, 100000, "failed at 1M (crash): accept", limitDescriptors},
		{"sad: the last level ran but lost its connections", sc(scaleLevel(10000, 10000), scaleLevel(100000, 100000), scaleLevel(1000000, 700000)),
			nil, 100000, "at 1M, kept only 70% of its idle connections open", limitConnections},
		{"sad: a recorded skip wins over a level that lost connections", sc(scaleLevel(10000, 10000), scaleLevel(100000, 80000)),
			[]results.Skip{skip(1000000, "connections: only 80k of 100k opened in 60 s at 100k")}, 10000, "skipped 1M: connections: only 80k", limitConnections},
		{"sad: nothing held, nothing recorded", sc(), nil, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reachOf(tt.sc, tt.skips, cfg)
			if r.Held.Level != tt.held || r.Top != 1000000 {
				t.Errorf("held %d of top %d, want %d of 1M", r.Held.Level, r.Top, tt.held)
			}
			if tt.limit == "" && r.Limit != "" || !strings.Contains(r.Limit, tt.limit) {
				t.Errorf("limit %q, want it to contain %q", r.Limit, tt.limit)
			}
			if r.LimitKind != tt.limitKind {
				t.Errorf("limit kind %q, want %q", r.LimitKind, tt.limitKind)
			}
			if tt.held == 100000 && (r.Procs != 7 || r.OpenS != 4) {
				t.Errorf("at 100k: %d processes, %v s to open; want 7 and 4", r.Procs, r.OpenS)
			}
		})
	}
}

func TestJudgeLoopScale(t *testing.T) {
	base := loopScaleInput{Held: 500000, Top: 1000000, UserPerConn: 600, KernelPerConn: 10 << 10}
	with := func(limit, kind string) loopScaleInput {
		in := base
		in.Limit, in.LimitKind = limit, kind
		return in
	}
	top := base
	top.Held = 1000000
	tests := []struct {
		name    string
		in      loopScaleInput
		want    Verdict
		mention string
	}{
		{"happy: held the top of the grid", top, Holds, "1M idle connections"},
		{"happy: memory stopped it", with("skipped 1M: memory: about 20 GiB needed", limitMemory), Holds, "memory: about 20 GiB"},
		{"sad: connections could not be opened", with("skipped 1M: connections: only 410k of 500k opened in 60 s", limitConnections), Partly, "only 410k of 500k"},
		{"sad: descriptors", with("failed at 1M (crash): accept: too many open files", limitDescriptors), Partly, "the descriptor limit"},
		{"sad: ports", with("skipped 1M: connections: ... cannot assign requested address", limitPorts), Partly, "the ephemeral ports"},
		{"sad: a failure that names no resource", with("failed at 1M (crash): exit status 2", ""), Partly, "names no resource"},
		{"sad: held nothing, stopped by connections", loopScaleInput{Top: 1000000, Limit: "skipped 20k: connections: only 5k of 10k opened", LimitKind: limitConnections}, Partly, "held none"},
		{"sad: the run ended first", base, NotMeasured, "ended before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, because := judgeLoopScale(tt.in)
			if got != tt.want {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
			if !strings.Contains(because, tt.mention) {
				t.Errorf("reason %q does not mention %q", because, tt.mention)
			}
		})
	}
}

// TestWithScale: a second run's scale scenario, skips and sit-outs take
// the place of the main run's; everything else stays the main run's.
func TestWithScale(t *testing.T) {
	main := results.Run{ID: "quick",
		Skipped: []results.Skip{{Scenario: "idle", Server: "thread", Level: 15000, Reason: "a"}, {Scenario: "scale", Server: "epoll", Level: 1000000, Reason: "old"}},
		SitOuts: []results.SitOut{{Scenario: "scale", Server: "apache-event", Reason: "old"}, {Scenario: "wait", Server: "nginx", Reason: "fixed"}},
	}
	scale := &ScaleRun{Dir: "results/scale", Run: results.Run{ID: "big",
		Skipped: []results.Skip{{Scenario: "scale", Server: "epoll", Level: 500000, Reason: "memory: new"}},
		SitOuts: []results.SitOut{{Scenario: "scale", Server: "apache-worker", Reason: "new"}},
	}, Scenarios: []results.Scenario{{Scenario: "scale", Server: "nginx"}, {Scenario: "scale", Server: "epoll"}}}
	v := newView(main, []results.Scenario{{Scenario: "idle", Server: "epoll"}, {Scenario: "scale", Server: "goroutine"}}).withScale(scale)

	var servers []string
	for _, sc := range v.scs["scale"] {
		servers = append(servers, sc.Server)
	}
	if strings.Join(servers, ",") != "epoll,nginx" {
		t.Errorf("scale servers %v, want the second run's, in legend order", servers)
	}
	if len(v.scs["idle"]) != 1 || v.runOf("idle").ID != "quick" || v.runOf("scale").ID != "big" {
		t.Errorf("idle from %q, scale from %q: want quick and big", v.runOf("idle").ID, v.runOf("scale").ID)
	}
	var reasons []string
	for _, s := range v.skips() {
		reasons = append(reasons, s.Reason)
	}
	if strings.Join(reasons, ",") != "a,memory: new" {
		t.Errorf("skips %v, want the main run's idle skip and the scale run's", reasons)
	}
	var sits []string
	for _, s := range v.sitOuts() {
		sits = append(sits, s.Server+":"+s.Reason)
	}
	if strings.Join(sits, ",") != "nginx:fixed,apache-worker:new" {
		t.Errorf("sit-outs %v", sits)
	}
	if same := newView(main, nil).withScale(nil); same.scale.separate || same.runOf("scale").ID != "quick" {
		t.Error("without a second run the scale scenario is the main run's")
	}
}
