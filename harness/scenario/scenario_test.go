package scenario

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"c10k/harness/registry"
	"c10k/harness/results"
)

func TestGrid(t *testing.T) {
	tests := []struct {
		name      string
		wantN     int
		wantMaxID int // largest idle level
		wantErr   bool
	}{
		{name: Smoke, wantN: 3, wantMaxID: 200},
		{name: Quick, wantN: 7, wantMaxID: 15000},
		{name: Full, wantN: 7, wantMaxID: 15000},
		{name: "sad unknown", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Grid(tc.name)
			if tc.wantErr {
				if !errors.Is(err, ErrUnknown) {
					t.Errorf("err = %v, want ErrUnknown", err)
				}
				return
			}
			if err != nil || len(g) != tc.wantN {
				t.Fatalf("got %d scenarios, %v", len(g), err)
			}
			if g[0].Name != Idle || g[0].Levels[len(g[0].Levels)-1] != tc.wantMaxID {
				t.Errorf("idle levels %v", g[0].Levels)
			}
			for _, c := range g {
				if c.DurationS <= 0 || len(c.Levels) == 0 || c.LevelName == "" || c.Description == "" {
					t.Errorf("incomplete scenario %+v", c)
				}
			}
		})
	}
}

func TestSelect(t *testing.T) {
	quick, _ := Grid(Quick)
	smoke, _ := Grid(Smoke)
	tests := []struct {
		name    string
		grid    []results.ScenarioConfig
		list    string
		want    string
		wantErr bool
	}{
		{name: "happy all", grid: quick, list: "", want: "idle,concurrency,rate,wait,cpu,proxy,gather"},
		{name: "happy gather borrowed by smoke, after proxy", grid: smoke, list: "gather,proxy", want: "proxy,gather"},
		{name: "happy subset keeps grid order", grid: quick, list: "cpu,idle", want: "idle,cpu"},
		{name: "happy scenario missing from smoke borrows quick levels", grid: smoke, list: "rate", want: "rate"},
		{name: "sad unknown", grid: quick, list: "idle,bogus", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(tc.grid, tc.list)
			if tc.wantErr {
				if !errors.Is(err, ErrUnknown) {
					t.Errorf("err = %v", err)
				}
				return
			}
			var names []string
			for _, c := range got {
				names = append(names, c.Name)
				if c.DurationS != tc.grid[0].DurationS {
					t.Errorf("%s duration %v, want the grid's %v", c.Name, c.DurationS, tc.grid[0].DurationS)
				}
			}
			if strings.Join(names, ",") != tc.want {
				t.Errorf("got %v, want %s", names, tc.want)
			}
		})
	}
}

func TestMakePlan(t *testing.T) {
	quick, _ := Grid(Quick)
	all := registry.Abilities{Wait: true, Work: true, Proxy: true, Fanout: true}
	thread := Server{Name: "thread", Kind: results.KindModel, ThreadsPerConn: 1, Can: all}
	epoll := Server{Name: "epoll", Kind: results.KindModel, Can: all}
	// nginx on a machine without the echo module: it proxies, but cannot
	// fan out.
	nginx := Server{Name: "nginx", Kind: results.KindPeer, Can: registry.Abilities{Proxy: true}, Lacks: "echo module missing"}
	prefork := Server{Name: "apache-prefork", Kind: results.KindPeer, ThreadsPerConn: 1, MaxConns: 2000, SpawnS: 1.0 / 32}
	roomy := Limits{NoFile: 20000, PidMax: 32768, ThreadsMax: 200000, TasksInUse: 300}
	// levels counts the quick grid's levels of the named scenarios.
	levels := func(names ...string) int {
		n := 0
		for _, c := range quick {
			if slices.Contains(names, c.Name) {
				n += len(c.Levels)
			}
		}
		return n
	}
	idleAbove := func(limit int) (n int) {
		for _, lv := range quick[0].Levels {
			if lv > limit {
				n++
			}
		}
		return n
	}

	t.Run("happy every level of every model", func(t *testing.T) {
		p := MakePlan(quick, []Server{epoll}, 1, roomy)
		if want := levels(Names...); len(p.Steps) != want || len(p.Skipped) != 0 {
			t.Errorf("%d steps, %d skipped; want %d and 0", len(p.Steps), len(p.Skipped), want)
		}
		for _, st := range p.Steps {
			if st.EstimateS <= st.Scenario.DurationS || st.BudgetS <= st.EstimateS {
				t.Errorf("%s %d: estimate %v budget %v", st.Scenario.Name, st.Level, st.EstimateS, st.BudgetS)
			}
		}
	})
	t.Run("happy repeats", func(t *testing.T) {
		p := MakePlan(quick[:1], []Server{epoll}, 3, roomy)
		if len(p.Steps) != 3*levels(Idle) || p.Steps[2].Repeat != 2 || p.Steps[3].Repeat != 0 {
			t.Errorf("steps %d", len(p.Steps))
		}
	})
	t.Run("happy peers sit out wait, cpu and gather once each, with a reason", func(t *testing.T) {
		p := MakePlan(quick, []Server{nginx}, 1, roomy)
		if len(p.Steps) != levels(Idle, Concurrency, Rate, Proxy) || len(p.Skipped) != 0 || len(p.SitOuts) != 3 {
			t.Fatalf("%d steps, %d skipped, %d sit-outs", len(p.Steps), len(p.Skipped), len(p.SitOuts))
		}
		for i, want := range []string{"a simulated wait", "simulated CPU work", "no fan-out): echo module missing"} {
			if so := p.SitOuts[i]; so.Server != "nginx" || !strings.Contains(so.Reason, want) {
				t.Errorf("sit-out %d: %+v, want a reason naming %q", i, so, want)
			}
		}
		for _, st := range p.Steps {
			if st.Scenario.WaitMS > 0 || st.Scenario.WorkUS > 0 {
				t.Errorf("nginx planned into %s", st.Scenario.Name)
			}
		}
	})
	t.Run("sad a server unavailable here sits out every scenario, asked once", func(t *testing.T) {
		asked := 0
		uring := Server{Name: "uring", Kind: results.KindModel, Can: all, Available: func() error {
			asked++
			return errors.New("uring: io_uring unavailable: kernel.io_uring_disabled is 2")
		}}
		p := MakePlan(quick, []Server{uring, epoll}, 1, roomy)
		if asked != 1 {
			t.Errorf("Available asked %d times, want once", asked)
		}
		alone := len(MakePlan(quick, []Server{epoll}, 1, roomy).Steps)
		if len(p.Steps) != alone || len(p.SitOuts) != len(quick) {
			t.Fatalf("%d steps, %d sit-outs; want epoll's %d and one per scenario (%d)", len(p.Steps), len(p.SitOuts), alone, len(quick))
		}
		for _, so := range p.SitOuts {
			if so.Server != "uring" || !strings.Contains(so.Reason, "io_uring_disabled is 2") {
				t.Errorf("sit-out %+v, want uring with the unavailability reason", so)
			}
		}
		for _, st := range p.Steps {
			if st.Server.Name != "epoll" {
				t.Errorf("%s planned into %s", st.Server.Name, st.Scenario.Name)
			}
		}
	})
	t.Run("happy an available server runs", func(t *testing.T) {
		uring := Server{Name: "uring", Kind: results.KindModel, Can: all, Available: func() error { return nil }}
		want := len(MakePlan(quick, []Server{epoll}, 1, roomy).Steps) // the same abilities, no availability check
		if p := MakePlan(quick, []Server{uring}, 1, roomy); len(p.Steps) != want || len(p.SitOuts) != 0 {
			t.Errorf("%d steps, %d sit-outs; want %d and 0", len(p.Steps), len(p.SitOuts), want)
		}
	})
	t.Run("happy prefork idle capped and measured under its cap", func(t *testing.T) {
		p := MakePlan(quick[:1], []Server{prefork}, 1, roomy)
		var got []int
		for _, st := range p.Steps {
			got = append(got, st.Level)
		}
		if len(got) != 3 || got[2] != 1896 || len(p.Skipped) != idleAbove(2000) {
			t.Errorf("levels %v skipped %+v", got, p.Skipped)
		}
		// Its pool grows slowly: the estimate and budget must allow for it.
		if last := p.Steps[2]; last.BudgetS < 1896.0/32 {
			t.Errorf("budget %v s for prefork at 1896", last.BudgetS)
		}
	})
	t.Run("sad fd limit skips and warns", func(t *testing.T) {
		p := MakePlan(quick[:1], []Server{epoll}, 1, Limits{NoFile: 6000})
		if n := idleAbove(6000 - 100); n == 0 || len(p.Skipped) != n || p.Skipped[0].Level != 10000 || len(p.Warnings) != n || !strings.Contains(p.Warnings[0], "RLIMIT_NOFILE") {
			t.Errorf("skipped %+v warnings %v", p.Skipped, p.Warnings)
		}
	})
	t.Run("sad thread limit skips only the thread model", func(t *testing.T) {
		p := MakePlan(quick[:1], []Server{thread, epoll}, 1, Limits{NoFile: 20000, PidMax: 12000, ThreadsMax: 1 << 20, TasksInUse: 500})
		if len(p.Skipped) != idleAbove(7500) || p.Skipped[0].Server != "thread" || p.Skipped[0].Level != 10000 || !strings.Contains(p.Skipped[0].Reason, "pid_max") {
			t.Errorf("skipped %+v", p.Skipped)
		}
	})
}

func TestScaleClimbsThreadsToTheirLimit(t *testing.T) {
	grid, _ := Grid(ScaleGrid)
	thread := Server{Name: "thread", Kind: results.KindModel, ThreadsPerConn: 1, Can: registry.Abilities{Procs: true}}
	epoll := Server{Name: "epoll", Kind: results.KindModel, Can: registry.Abilities{Procs: true}}
	apache := Server{Name: "apache-worker", Kind: results.KindPeer, ThreadsPerConn: 1}
	lim := Limits{NoFile: 20000, PidMax: 32768, ThreadsMax: 192725, TasksInUse: 200}
	p := MakePlan(grid, []Server{thread, epoll, apache}, 1, lim)
	got := map[string][]int{}
	for _, st := range p.Steps {
		got[st.Server.Name] = append(got[st.Server.Name], st.Level)
		if n := Procs(st.Scenario, st.Level); n != (st.Level+4+connsPerProc-1)/connsPerProc {
			t.Errorf("%s %d: %d processes", st.Server.Name, st.Level, n)
		}
	}
	// (32768 - 200 - 4000) x 0.95, in thousands.
	if want := []int{10000, 20000, 27000}; !slices.Equal(got["thread"], want) {
		t.Errorf("thread levels %v, want %v", got["thread"], want)
	}
	if want := grid[0].Levels; !slices.Equal(got["epoll"], want) {
		t.Errorf("epoll levels %v, want every level %v", got["epoll"], want)
	}
	if len(p.SitOuts) != 1 || p.SitOuts[0].Server != "apache-worker" || !strings.Contains(p.SitOuts[0].Reason, "SO_REUSEPORT") {
		t.Errorf("sit-outs %+v, want apache-worker out for lack of -procs", p.SitOuts)
	}
}

func TestLoadProcs(t *testing.T) {
	conc := Describe(Concurrency)
	scale := Describe(Scale)
	for _, tc := range []struct {
		sc     results.ScenarioConfig
		level  int
		nofile uint64
		want   int
	}{
		{conc, 10000, 20000, 1},
		{conc, 10000, 0, 1},           // limit unknown
		{conc, 30000, 20000, 2},       // past one process's descriptors
		{conc, 40000, 20000, 3},       // 40,000 over 19,900 each
		{scale, 1000000, 1 << 20, 67}, // the server's count: 15,000 each
		{scale, 1000000, 10000, 102},  // fewer descriptors than that
	} {
		if got := LoadProcs(tc.sc, tc.level, tc.nofile); got != tc.want {
			t.Errorf("LoadProcs(%s, %d, %d) = %d, want %d", tc.sc.Name, tc.level, tc.nofile, got, tc.want)
		}
	}
}

func TestConns(t *testing.T) {
	for _, tc := range []struct {
		sc         results.ScenarioConfig
		level      int
		want       int
		wantActive int
	}{
		{Describe(Idle), 1000, 1000 + probeConns, probeConns},
		{Describe(Rate), 50000, rateConns, rateConns},
		{Describe(Concurrency), 100, 100, 100},
		{Describe(Wait), 10, 10, 10},
		{Describe(Proxy), 4000, 4000, 4000},
		{Describe(Gather), 16, gatherConns, gatherConns},
	} {
		if got := Conns(tc.sc, tc.level); got != tc.want {
			t.Errorf("Conns(%s, %d) = %d, want %d", tc.sc.Name, tc.level, got, tc.want)
		}
		if got := Active(tc.sc, tc.level); got != tc.wantActive {
			t.Errorf("Active(%s, %d) = %d, want %d", tc.sc.Name, tc.level, got, tc.wantActive)
		}
	}
}

func TestFanout(t *testing.T) {
	for _, tc := range []struct {
		sc    results.ScenarioConfig
		level int
		want  int
	}{
		{Describe(Concurrency), 100, 0},
		{Describe(Proxy), 1000, 1},
		{Describe(Gather), 16, 16},
	} {
		if got := Fanout(tc.sc, tc.level); got != tc.want {
			t.Errorf("Fanout(%s, %d) = %d, want %d", tc.sc.Name, tc.level, got, tc.want)
		}
	}
}

func TestNeeds(t *testing.T) {
	for _, tc := range []struct {
		name string
		want registry.Abilities
	}{
		{Idle, registry.Abilities{}},
		{Wait, registry.Abilities{Wait: true}},
		{CPU, registry.Abilities{Work: true}},
		{Proxy, registry.Abilities{Proxy: true}},
		{Gather, registry.Abilities{Proxy: true, Fanout: true}},
	} {
		if got := needs(Describe(tc.name)); got != tc.want {
			t.Errorf("needs(%s) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
