package harness

import (
	"strconv"
	"strings"
	"testing"

	"c10k/harness/results"
	"c10k/harness/scenario"
)

func TestGuardStopsAtMemoryAndAfterAFailure(t *testing.T) {
	scale := scenario.Describe(scenario.Scale)
	epoll := scenario.Server{Name: "epoll"}
	step := func(level int) scenario.Step { return scenario.Step{Scenario: scale, Server: epoll, Level: level} }
	measured := func(before, at uint64, conns int) levelResult {
		return levelResult{m: &results.Measurement{ServerConns: conns,
			MachineBaseline: results.Machine{MemAvailable: before}, MachinePoint: results.Machine{MemAvailable: at}}}
	}
	const gib = 1 << 30

	t.Run("happy first level runs on the assumed cost", func(t *testing.T) {
		g := newGuard(24 * gib)
		if why := g.check(step(10000), 23*gib); why != "" {
			t.Errorf("stopped: %s", why)
		}
	})
	t.Run("sad measured cost leaves too little", func(t *testing.T) {
		g := newGuard(24 * gib)
		// 20 KiB per connection measured at 100k: 1M would need ~19.5 GiB
		// of the 20 GiB available, leaving under 20% of 24 GiB.
		g.after(step(100000), measured(22*gib, 22*gib-100000*20<<10, 100000))
		why := g.check(step(1000000), 20*gib)
		if !strings.HasPrefix(why, "memory:") || !strings.Contains(why, "measured at the previous level") {
			t.Errorf("check = %q, want a memory stop from the measured cost", why)
		}
		if again := g.check(step(2000000), 24*gib); again != why {
			t.Errorf("a stopped server ran again: %q", again)
		}
	})
	t.Run("happy measured cost fits", func(t *testing.T) {
		g := newGuard(24 * gib)
		g.after(step(100000), measured(22*gib, 22*gib-100000*4<<10, 100000))
		if why := g.check(step(1000000), 20*gib); why != "" {
			t.Errorf("stopped: %s", why)
		}
	})
	t.Run("sad a failed level stops the climb", func(t *testing.T) {
		g := newGuard(24 * gib)
		g.after(step(50000), levelResult{failure: &results.Failure{Reason: "too many open files"}})
		if why := g.check(step(100000), 23*gib); !strings.Contains(why, "too many open files") {
			t.Errorf("check = %q", why)
		}
	})
	t.Run("sad a level that opened too few stops the climb", func(t *testing.T) {
		g := newGuard(24 * gib)
		res := measured(22*gib, 21*gib, 73589)
		res.m.Load.IdleRequested, res.m.Load.IdleOpened = 100000, 73585
		res.m.Load.IdleFirstErrors = map[string]string{"timeout": "no answer", "connect": "connection timed out"}
		g.after(step(100000), res)
		why := g.check(step(200000), 21*gib)
		if !strings.Contains(why, "only 73.6k of 100k opened") || !strings.Contains(why, "connect: connection timed out") {
			t.Errorf("check = %q", why)
		}
	})
	t.Run("happy a low count at the point does not inflate the cost", func(t *testing.T) {
		g := newGuard(24 * gib)
		// 500k held, 5 GiB spent, but the point counted 1,284: the cost
		// is 10.5 KiB per connection, not 4 MiB.
		res := measured(20*gib, 15*gib, 1284)
		res.m.Load.IdleRequested, res.m.Load.IdleOpened, res.m.Load.IdleAlive = 500000, 500000, 500000
		g.after(step(500000), res)
		if why := g.check(step(1000000), 15*gib); why != "" {
			t.Errorf("stopped: %s", why)
		}
	})
	t.Run("happy other scenarios are not guarded", func(t *testing.T) {
		g := newGuard(24 * gib)
		st := scenario.Step{Scenario: scenario.Describe(scenario.Idle), Server: epoll, Level: 10000}
		if why := g.check(st, 1); why != "" {
			t.Errorf("idle guarded: %s", why)
		}
	})
}

func TestKernelNeeds(t *testing.T) {
	env := results.Env{MemTotal: 24 << 30}
	pages := uint64(24<<30) / 4096
	for _, tc := range []struct {
		name string
		want func(string, results.Env) string
		cur  string
		out  string
	}{
		{"file-max raised", atLeast(4 << 20), "2466112", "4194304"},
		{"file-max kept", atLeast(4 << 20), "9000000", ""},
		{"file-max unreadable", atLeast(4 << 20), "junk", ""},
		{"tcp_mem raised", scaleNeeds[1].want, "287892 383858 575784", "287892 " + itoa(pages/4) + " " + itoa(pages/2)},
		{"tcp_mem kept", scaleNeeds[1].want, "1 " + itoa(pages) + " " + itoa(pages), ""},
		{"tcp_mem malformed", scaleNeeds[1].want, "1 2", ""},
		{"recorded only", keep, "32768 60999", ""},
	} {
		if got := tc.want(tc.cur, env); got != tc.out {
			t.Errorf("%s: want(%q) = %q, want %q", tc.name, tc.cur, got, tc.out)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
