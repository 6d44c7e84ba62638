package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"c10k/harness/results"
)

// Scenario names.
const (
	Idle        = "idle"
	Concurrency = "concurrency"
	Rate        = "rate"
	Wait        = "wait"
	CPU         = "cpu"
	Proxy       = "proxy"
	Gather      = "gather"
	Scale       = "scale"
)

// Names lists every scenario in the order a run goes through them.
var Names = []string{Idle, Concurrency, Rate, Wait, CPU, Proxy, Gather, Scale}

// everyDay is the scenarios of the quick and full grids: all but scale,
// which has a grid (and a make target) of its own.
var everyDay = Names[:len(Names)-1]

// Grid names.
const (
	Smoke = "smoke" // CI: idle 200, concurrency 10 and proxy 10, 2 s each: about half a minute for the models
	Quick = "quick" // the default: about 15 minutes on 2 cores
	Full  = "full"  // the larger grid, with repeats
	// ScaleGrid is idle connections from 10k to 1M, past one process's
	// descriptor limit: make bench-scale.
	ScaleGrid = "scale"
)

// ErrUnknown is returned (wrapped) for an unknown scenario or grid name.
var ErrUnknown = errors.New("scenario: unknown name")

// Probe of the idle scenario: a small open-loop load on a few connections,
// so latency under N idle connections is measured too.
const (
	probeConns = 4
	probeRate  = 500
	// connectRate opens the idle pool fast enough for 15,000 in 3 s and
	// slowly enough not to overflow somaxconn-sized accept queues (a
	// server would have to stall for most of a second).
	connectRate = 5000
	// rateConns carry the rate scenario's offered load: enough that, at
	// 100 us per answer, one connection per 1,000 req/s is free.
	rateConns = 100
	waitMS    = 10
	workUS    = 100
	// backendWaitMS is the proxy scenarios' backend answer delay, and
	// gatherConns the gather scenario's closed-loop connections.
	backendWaitMS = 10
	gatherConns   = 100
	// scaleConnectRate opens the scale scenario's 1M connections in under
	// a minute, spread over the load processes.
	scaleConnectRate = 25000
	// connsPerProc leaves a quarter of the 20,000-descriptor limit free in
	// each process: SO_REUSEPORT spreads connections by a hash, not evenly.
	connsPerProc = 15000
)

// Grid returns the scenario configurations of a grid, in run order.
func Grid(name string) ([]results.ScenarioConfig, error) {
	var (
		d, w  float64
		lv    map[string][]int
		order = everyDay
	)
	switch name {
	case Smoke:
		// One proxied level, so CI runs a real backend end to end.
		d, w = 1.5, 0.5
		lv = map[string][]int{Idle: {200}, Concurrency: {10}, Proxy: {10}}
		order = []string{Idle, Concurrency, Proxy}
	case Quick:
		// Rate lost its 5,000 and 20,000 req/s levels and cpu its C=1
		// level to make room for proxy, gather, C=4k and 10k and the uring
		// model within 15 minutes on 2 cores: low rates sit on the flat
		// part of every curve, and C=1 of the cpu scenario only restates
		// the work per request. For the same reason a level measures 1.5 s
		// (tens of thousands of requests at every level that is not
		// waiting on a backend) and idle has no 5,000 level between 1k
		// and 10k, where every curve is a straight line.
		d, w = 1.5, 0.5
		lv = map[string][]int{
			Idle:        {0, 1000, 10000, 15000},
			Concurrency: {1, 10, 100, 1000, 4000, 10000},
			Rate:        {50000, 100000, 200000},
			Wait:        {10, 100, 1000},
			CPU:         {10, 100},
			Proxy:       {10, 100, 1000, 4000},
			Gather:      {1, 4, 16},
		}
	case Full:
		d, w = 10, 2
		lv = map[string][]int{
			Idle:        {0, 100, 1000, 2500, 5000, 10000, 15000},
			Concurrency: {1, 10, 100, 1000, 5000, 10000},
			Rate:        {2000, 5000, 10000, 20000, 50000, 100000, 150000, 200000, 250000},
			Wait:        {10, 100, 1000, 5000},
			CPU:         {1, 10, 100, 1000},
			Proxy:       {10, 100, 1000, 4000, 10000},
			Gather:      {1, 4, 16, 64},
		}
	case ScaleGrid:
		// Long enough for the sample taken as the pool is whole to land in
		// the window: counting the sockets of a million connections takes
		// the kernel seconds (0.5 s at 200,000 here).
		d, w = 6, 0.5
		lv = map[string][]int{Scale: {10000, 20000, 50000, 100000, 200000, 500000, 1000000}}
		order = []string{Scale}
	default:
		return nil, fmt.Errorf("%w: grid %q (want %s, %s, %s or %s)", ErrUnknown, name, Smoke, Quick, Full, ScaleGrid)
	}
	out := make([]results.ScenarioConfig, 0, len(order))
	for _, n := range order {
		c := Describe(n)
		c.Levels = slices.Clone(lv[n])
		c.DurationS, c.WarmupS = d, w
		out = append(out, c)
	}
	return out, nil
}

// Describe returns a scenario's fixed settings, without levels or times.
func Describe(name string) results.ScenarioConfig {
	switch name {
	case Idle:
		return results.ScenarioConfig{Name: Idle, LevelName: "idle connections",
			Description: "N idle keep-alive connections held beside a small open-loop probe: memory, threads and fds per connection",
			ProbeConc:   probeConns, ProbeRate: probeRate, OpenLoop: true, ConnectRate: connectRate}
	case Scale:
		return results.ScenarioConfig{Name: Scale, LevelName: "idle connections",
			Description: "idle keep-alive connections from 10k to 1M, beside a small open-loop probe, past one process's descriptor limit: " +
				"server and load generator each spread over processes sharing a port; memory, kernel memory and descriptors per connection, and the connect rate",
			ProbeConc: probeConns, ProbeRate: probeRate, OpenLoop: true, ConnectRate: scaleConnectRate, ConnsPerProc: connsPerProc}
	case Concurrency:
		return results.ScenarioConfig{Name: Concurrency, LevelName: "concurrency",
			Description: "closed loop at C connections: throughput and latency as concurrency grows"}
	case Rate:
		return results.ScenarioConfig{Name: Rate, LevelName: "offered rate (req/s)",
			Description: "open loop at a constant offered rate up to saturation: latency without coordinated omission",
			OpenLoop:    true, Connections: rateConns}
	case Wait:
		return results.ScenarioConfig{Name: Wait, LevelName: "concurrency",
			Description: "closed loop, each request waits 10 ms on simulated backend I/O: blocked threads versus a loop that never blocks",
			WaitMS:      waitMS}
	case CPU:
		return results.ScenarioConfig{Name: CPU, LevelName: "concurrency",
			Description: "closed loop, each request burns 100 us of CPU, the server on every CPU: the single loop's one-core ceiling",
			WorkUS:      workUS, ServerAllCPUs: true}
	case Proxy:
		return results.ScenarioConfig{Name: Proxy, LevelName: "concurrency",
			Description:   "closed loop, every server proxies each request to a real backend that answers after 10 ms: a request waiting on I/O, in each server's own way",
			BackendWaitMS: backendWaitMS, Fanout: 1}
	case Gather:
		return results.ScenarioConfig{Name: Gather, LevelName: "backend calls per request K",
			Description:   "closed loop at C=100, each request makes K calls to a 10 ms backend and is answered after all K: overlapped waits against one after another",
			BackendWaitMS: backendWaitMS, FanoutLevels: true, Connections: gatherConns}
	}
	return results.ScenarioConfig{Name: name}
}

// Procs is how many processes a level of sc is spread over, in the server
// and in the load generator: 1 unless the scenario spreads its levels.
func Procs(sc results.ScenarioConfig, level int) int {
	if sc.ConnsPerProc <= 0 {
		return 1
	}
	return max(1, (Conns(sc, level)+sc.ConnsPerProc-1)/sc.ConnsPerProc)
}

// LoadProcs is how many load processes a level of sc needs: the server's
// count when the scenario spreads its levels, and in any scenario enough
// that none holds more connections than nofile descriptors allow (0:
// unknown, no limit).
func LoadProcs(sc results.ScenarioConfig, level int, nofile uint64) int {
	n := Procs(sc, level)
	if nofile > fdReserve {
		per := int(nofile) - fdReserve
		n = max(n, (Conns(sc, level)+per-1)/per)
	}
	return n
}

// Fanout is the backend calls per request (K) at one level of sc: the
// level itself when the levels are K, else the scenario's fixed K; 0 for
// a scenario without a backend.
func Fanout(sc results.ScenarioConfig, level int) int {
	switch {
	case sc.BackendWaitMS <= 0:
		return 0
	case sc.FanoutLevels:
		return level
	}
	return max(sc.Fanout, 1)
}

// Select keeps the scenarios named in list (comma-separated; "" or "all":
// every one), in grid order.
func Select(grid []results.ScenarioConfig, list string) ([]results.ScenarioConfig, error) {
	if list == "" || list == "all" {
		return grid, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(Names, n) {
			return nil, fmt.Errorf("%w: scenario %q (want some of %s)", ErrUnknown, n, strings.Join(Names, ","))
		}
		want[n] = true
	}
	var out []results.ScenarioConfig
	for _, c := range grid {
		if want[c.Name] {
			out = append(out, c)
			delete(want, c.Name)
		}
	}
	for n := range want {
		// A scenario this grid does not have (smoke has three): run it with
		// the quick grid's levels and this grid's times.
		q, _ := Grid(Quick)
		for _, c := range q {
			if c.Name == n {
				if len(grid) > 0 {
					c.DurationS, c.WarmupS = grid[0].DurationS, grid[0].WarmupS
				}
				out = append(out, c)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b results.ScenarioConfig) int {
		return slices.Index(Names, a.Name) - slices.Index(Names, b.Name)
	})
	return out, nil
}
