package plottest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"c10k/harness/results"
	"c10k/loadgen"
)

// server is the made-up personality of one server in the fixture.
type server struct {
	name, kind string
	// idle scenario, per connection (bytes, counts) and fixed base
	pss, rss, kstack, ptables, threads, fds float64
	pssBase, threadsBase, fdsBase           float64
	idleLevels                              []int
	idleFail                                *results.Failure
	aliveFrac                               float64 // fraction of idle connections still open
	// concurrency scenario
	peak      float64 // req/s at its best
	tail      float64 // p99 / p50
	ctx       float64 // context switches per request at high concurrency
	concFail  *results.Failure
	concMax   int
	errorRate float64 // at C >= 1000
}

const kib = 1024

var servers = []server{
	{name: "thread", kind: results.KindModel, pss: 12 * kib, rss: 13 * kib, kstack: 16 * kib, ptables: 0.4 * kib, threads: 1, fds: 1,
		pssBase: 2 << 20, threadsBase: 3, fdsBase: 5, idleLevels: []int{0, 1000, 5000, 10000}, aliveFrac: 1,
		idleFail: &results.Failure{Level: 15000, Kind: results.FailureCrash, Exit: "exit status 2",
			Reason: "runtime: program exceeds 10000-thread limit", Stderr: []string{"fatal error: thread exhaustion"}},
		peak: 62000, tail: 9, ctx: 2.1, concMax: 1000,
		concFail: &results.Failure{Level: 10000, Kind: results.FailureCrash, Exit: "exit status 2", Reason: "runtime: program exceeds 10000-thread limit"}},
	{name: "goroutine", kind: results.KindModel, pss: 20 * kib, rss: 21 * kib, kstack: 0.05 * kib, ptables: 0.06 * kib, threads: 0, fds: 1,
		pssBase: 4 << 20, threadsBase: 5, fdsBase: 6, idleLevels: []int{0, 1000, 5000, 10000, 15000}, aliveFrac: 1,
		peak: 75000, tail: 6, ctx: 0.3, concMax: 10000},
	{name: "epoll", kind: results.KindModel, pss: 0.55 * kib, rss: 0.6 * kib, kstack: 0.01 * kib, ptables: 0.01 * kib, threads: 0, fds: 1,
		pssBase: 1.5 * (1 << 20), threadsBase: 3, fdsBase: 6, idleLevels: []int{0, 1000, 5000, 10000, 15000}, aliveFrac: 1,
		peak: 129000, tail: 3, ctx: 0.02, concMax: 10000},
	{name: "nginx", kind: results.KindPeer, pss: 0.5 * kib, rss: 0.6 * kib, kstack: 0.01 * kib, ptables: 0.01 * kib, threads: 0, fds: 1,
		pssBase: 3 << 20, threadsBase: 2, fdsBase: 12, idleLevels: []int{0, 1000, 5000, 10000, 15000}, aliveFrac: 1,
		peak: 136000, tail: 3, ctx: 0.03, concMax: 10000},
	{name: "apache-prefork", kind: results.KindPeer, pss: 229 * kib, rss: 4300 * kib, kstack: 16 * kib, ptables: 55 * kib, threads: 1, fds: 6,
		pssBase: 40 << 20, threadsBase: 6, fdsBase: 40, idleLevels: []int{0, 1000}, aliveFrac: 1,
		idleFail: &results.Failure{Level: 5000, Kind: results.FailureBudget, Reason: "timeout: 1,912 of 5,000 connections accepted in 60 s"},
		peak:     24000, tail: 20, ctx: 1.9, concMax: 10000, errorRate: 0.002},
	{name: "apache-worker", kind: results.KindPeer, pss: 59 * kib, rss: 64 * kib, kstack: 16 * kib, ptables: 4.7 * kib, threads: 1, fds: 1,
		pssBase: 12 << 20, threadsBase: 60, fdsBase: 30, idleLevels: []int{0, 1000, 5000, 10000, 15000}, aliveFrac: 1,
		peak: 25000, tail: 60, ctx: 1.6, concMax: 10000, errorRate: 0.03},
	{name: "apache-event", kind: results.KindPeer, pss: 45 * kib, rss: 50 * kib, kstack: 3.5 * kib, ptables: 1.4 * kib, threads: 0.22, fds: 1,
		pssBase: 12 << 20, threadsBase: 60, fdsBase: 30, idleLevels: []int{0, 1000, 5000, 10000, 15000}, aliveFrac: 0.9446,
		peak: 24000, tail: 15, ctx: 1.2, concMax: 10000},
}

// Grids of the fixture's scenarios.
var (
	idleLevels  = []int{0, 1000, 5000, 10000, 15000}
	concLevels  = []int{1, 10, 100, 1000, 10000}
	rateLevels  = []int{5000, 10000, 20000, 40000, 80000, 120000}
	waitLevels  = []int{1, 10, 100, 1000}
	cpuLevels   = []int{1, 10, 100}
	proxyLevels = []int{10, 100, 1000, 4000}
	// gatherLevels are K at gatherConns connections.
	gatherLevels = []int{1, 4, 16}
	gatherConns  = 100
	waitMS       = 10.0
	workUS       = 100.0
	socketBytes  = 10.0 * kib
	repeats      = 3
	models       = []string{"thread", "goroutine", "epoll"}
)

// SpectrumLevel is the concurrency level the fixture has .hgrm files at.
const SpectrumLevel = 1000

// Fixture returns the run and its scenarios. It is deterministic: the
// same call returns the same values, so golden images stay valid.
func Fixture() (results.Run, []results.Scenario) {
	var scs []results.Scenario
	var files []string
	for _, s := range servers {
		scs = append(scs, idle(s), concurrency(s), rate(s))
		if s.kind == results.KindModel {
			scs = append(scs, wait(s), cpu(s))
		}
		scs = append(scs, proxy(s))
		if s.kind == results.KindModel || s.name == "nginx" {
			scs = append(scs, gather(s))
			scs = append(scs, scale(s))
		}
	}
	for _, sc := range scs {
		files = append(files, FileName(sc))
	}
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	run := results.Run{
		ID:        "fixture",
		Started:   start,
		Finished:  start.Add(9*time.Minute + 30*time.Second),
		Status:    results.StatusComplete,
		Version:   "v0.0.0-fixture",
		GitCommit: "0123456789abcdef0123456789abcdef01234567",
		Env: results.Env{
			Kernel: "6.18.0-fixture", CPUModel: "AMD EPYC (fixture)", Cores: 2, GoVersion: "go1.26.8",
			NoFileSoft: 1048576, NoFileHard: 1048576, PidMax: 4194304, ThreadsMax: 191000, Somaxconn: 4096,
			PortRangeLow: 32768, PortRangeHigh: 60999, MemTotal: 24 << 30, Hostname: "fixture-box",
		},
		Config: results.Config{
			Repeats:    repeats,
			Scenarios:  scenarioConfigs(),
			Servers:    []string{"thread", "goroutine", "epoll", "nginx", "apache-prefork", "apache-worker", "apache-event"},
			ServerCPUs: "0",
			LoadCPUs:   "1",
			BodyBytes:  14,
		},
		Warnings: []string{"fixture: every number in this run is synthetic"},
		Skipped: []results.Skip{
			{Scenario: "idle", Server: "apache-prefork", Level: 10000, Reason: "a lower level failed"},
			{Scenario: "idle", Server: "apache-prefork", Level: 15000, Reason: "a lower level failed"},
		},
		Files:     files,
		WallTimeS: 570,
		Peers: map[string]string{
			"nginx": "nginx/1.22.1", "apache-prefork": "Apache/2.4.62", "apache-worker": "Apache/2.4.62", "apache-event": "Apache/2.4.62",
		},
	}
	return run, scs
}

func scenarioConfigs() []results.ScenarioConfig {
	return []results.ScenarioConfig{
		{Name: "idle", LevelName: "idle connections", Levels: idleLevels, DurationS: 5, WarmupS: 1, ProbeConc: 4, ProbeRate: 1000,
			Description: "idle keep-alive connections held beside a light probe load"},
		{Name: "concurrency", LevelName: "concurrency", Levels: concLevels, DurationS: 10, WarmupS: 2,
			Description: "closed-loop active connections"},
		{Name: "rate", LevelName: "offered rate (req/s)", Levels: rateLevels, DurationS: 10, WarmupS: 2, OpenLoop: true, Connections: 100,
			Description: "open-loop offered rate"},
		{Name: "wait", LevelName: "concurrency", Levels: waitLevels, DurationS: 10, WarmupS: 2, WaitMS: waitMS,
			Description: "each request waits on simulated backend I/O"},
		{Name: "cpu", LevelName: "concurrency", Levels: cpuLevels, DurationS: 10, WarmupS: 2, WorkUS: workUS,
			Description: "each request burns CPU"},
		{Name: "proxy", LevelName: "concurrency", Levels: proxyLevels, DurationS: 10, WarmupS: 2, BackendWaitMS: waitMS, Fanout: 1,
			Description: "every server proxies to a 10 ms backend"},
		{Name: "gather", LevelName: "backend calls per request K", Levels: gatherLevels, DurationS: 10, WarmupS: 2,
			BackendWaitMS: waitMS, FanoutLevels: true, Connections: gatherConns,
			Description: "K calls to a 10 ms backend per request"},
		{Name: "scale", LevelName: "idle connections", Levels: scaleLevels, DurationS: 2, WarmupS: 0.5, ProbeConc: 4, ProbeRate: 500,
			OpenLoop: true, ConnectRate: 25000, ConnsPerProc: 15000,
			Description: "idle connections toward a million, spread over processes"},
	}
}

func configOf(name string) results.ScenarioConfig {
	for _, c := range scenarioConfigs() {
		if c.Name == name {
			return c
		}
	}
	return results.ScenarioConfig{}
}

// FileName is the file a scenario is stored in: SCENARIO-SERVER.json.
func FileName(sc results.Scenario) string { return results.ScenarioFile(sc.Scenario, sc.Server) }

// stat is a median with a +-spread over the fixture's repeats.
func stat(v, spread float64) results.Stat {
	return results.Stat{Median: v, Min: v * (1 - spread), Max: v * (1 + spread), StdDev: v * spread / 2, N: repeats}
}

func one(v float64) results.Stat { return results.Stat{Median: v, Min: v, Max: v, N: repeats} }

func idle(s server) results.Scenario {
	sc := results.Scenario{Scenario: "idle", Server: s.name, Kind: s.kind, LevelName: "idle connections", Complete: true, Config: configOf("idle")}
	for _, n := range s.idleLevels {
		conns := float64(n) + 4 // the probe's connections
		pc := results.PerConn{}
		if n > 0 {
			pc = results.PerConn{
				Conns: n + 4, PSSBytes: s.pss, RSSBytes: s.rss, KernelStack: s.kstack, PageTables: s.ptables,
				SocketBytes: socketBytes, Threads: s.threads, FDs: s.fds,
			}
		}
		sum := results.Summary{
			RPS:       one(1000),
			P50US:     stat(90+float64(n)/500*s.tail, 0.05),
			P99US:     stat((90+float64(n)/500*s.tail)*s.tail/2, 0.1),
			P999US:    stat((90+float64(n)/500*s.tail)*s.tail, 0.15),
			PSS:       stat(s.pssBase+conns*s.pss, 0.02),
			RSS:       stat(s.pssBase*1.3+conns*s.rss, 0.02),
			Threads:   one(math.Round(s.threadsBase + conns*s.threads)),
			FDs:       one(math.Round(s.fdsBase + conns*s.fds)),
			PerConn:   pc,
			IdleAlive: one(math.Round(float64(n) * s.aliveFrac)),
		}
		sc.Levels = append(sc.Levels, level(n, sum, nil))
	}
	if s.idleFail != nil {
		sc.Failures = []results.Failure{*s.idleFail}
	}
	return sc
}

// throughput is the fixture's req/s of a server at concurrency c.
func throughput(s server, c int) float64 {
	// Latency-bound at low concurrency (one round trip of ~45 us per
	// connection), then the server's own ceiling, sagging a little.
	rps := math.Min(float64(c)*22000, s.peak)
	if c >= 1000 {
		rps *= 0.92
	}
	if c >= 10000 {
		rps *= 0.85
	}
	return rps
}

func concurrency(s server) results.Scenario {
	sc := results.Scenario{Scenario: "concurrency", Server: s.name, Kind: s.kind, LevelName: "concurrency", Complete: true, Config: configOf("concurrency")}
	for _, c := range concLevels {
		if c > s.concMax {
			break
		}
		rps := throughput(s, c)
		p50 := float64(c) / rps * 1e6 // Little's law, microseconds
		errRate := 0.0
		if c >= 1000 {
			errRate = s.errorRate
		}
		ctx := s.ctx * math.Min(1, 0.2+float64(c)/200)
		sum := results.Summary{
			RPS:               stat(rps, 0.03),
			P50US:             stat(p50, 0.05),
			P90US:             stat(p50*math.Sqrt(s.tail), 0.08),
			P99US:             stat(math.Min(p50*s.tail, 2.5e6), 0.12),
			P999US:            stat(math.Min(p50*s.tail*2.5, 5e6), 0.2),
			MaxUS:             stat(math.Min(p50*s.tail*6, 1e7), 0.3),
			ErrorRate:         one(errRate),
			ServerCPUPerReqUS: stat(1e6/s.peak*0.97, 0.03),
			ServerCPUUtil:     stat(math.Min(0.99, rps/s.peak), 0.02),
			LoadCPUUtil:       stat(math.Min(0.99, rps/140000), 0.02),
			LoadBusy:          stat(math.Min(0.99, rps/140000), 0.02),
			CtxSwitchesPerReq: stat(ctx, 0.1),
			PSS:               stat(s.pssBase+float64(c)*s.pss*1.5, 0.02),
			RSS:               stat(s.pssBase*1.3+float64(c)*s.rss*1.5, 0.02),
			Threads:           one(math.Round(s.threadsBase + float64(c)*s.threads)),
			FDs:               one(math.Round(s.fdsBase + float64(c)*s.fds)),
		}
		var reps []results.Measurement
		if c == SpectrumLevel {
			for r := 0; r < repeats; r++ {
				m := results.Measurement{Repeat: r, HgrmFile: results.HgrmFile("concurrency", s.name, c, r)}
				m.Load.Latency = loadgen.Latency{P50: p50, P99: math.Min(p50*s.tail, 2.5e6) * (0.9 + 0.1*float64(r+1))}
				m.Load.RPS = rps
				m.Point.Threads = int(sum.Threads.Median)
				m.Point.CtxtAllThreads = true
				reps = append(reps, m)
			}
		}
		sc.Levels = append(sc.Levels, level(c, sum, reps))
	}
	if s.concFail != nil {
		sc.Failures = []results.Failure{*s.concFail}
	}
	return sc
}

func rate(s server) results.Scenario {
	sc := results.Scenario{Scenario: "rate", Server: s.name, Kind: s.kind, LevelName: "offered rate (req/s)", Complete: true, Config: configOf("rate")}
	capacity := s.peak * 0.95
	for _, r := range rateLevels {
		load := float64(r) / capacity
		var p50, p99 float64
		switch {
		case load < 0.7:
			p50 = 60 + 40*load
			p99 = p50 * (1 + s.tail/10)
		case load < 1:
			// Queueing: waits grow like 1/(1-load).
			p50 = 80 / (1 - load)
			p99 = p50 * (2 + s.tail/5)
		default:
			// Past capacity the queue grows for the whole run.
			p50 = 2e6 * math.Min(load-1, 2) / 2
			p99 = 4e6 * math.Min(load-1, 2) / 2
			p50, p99 = math.Max(p50, 5000), math.Max(p99, 20000)
		}
		sum := results.Summary{
			RPS:    stat(math.Min(float64(r), capacity), 0.01),
			P50US:  stat(p50, 0.05),
			P90US:  stat((p50+p99)/2, 0.08),
			P99US:  stat(p99, 0.1),
			P999US: stat(p99*2, 0.15),
		}
		sc.Levels = append(sc.Levels, level(r, sum, nil))
	}
	return sc
}

func wait(s server) results.Scenario {
	sc := results.Scenario{Scenario: "wait", Server: s.name, Kind: s.kind, LevelName: "concurrency", Complete: true, Config: configOf("wait")}
	ceiling := map[string]float64{"thread": 38000, "goroutine": 55000, "epoll": 90000}[s.name]
	for _, c := range waitLevels {
		rps := math.Min(float64(c)*1000/waitMS*0.97, ceiling)
		sum := results.Summary{
			RPS:   stat(rps, 0.02),
			P50US: stat(float64(c)/rps*1e6, 0.03),
			P99US: stat(float64(c)/rps*1e6*1.3, 0.05),
		}
		sc.Levels = append(sc.Levels, level(c, sum, nil))
	}
	return sc
}

func cpu(s server) results.Scenario {
	sc := results.Scenario{Scenario: "cpu", Server: s.name, Kind: s.kind, LevelName: "concurrency", Complete: true, Config: configOf("cpu")}
	eff := map[string]float64{"thread": 0.9, "goroutine": 0.93, "epoll": 0.96}[s.name]
	for _, c := range cpuLevels {
		rps := math.Min(float64(c)*1e6/(workUS+45), 1e6/workUS*eff)
		sum := results.Summary{
			RPS:               stat(rps, 0.02),
			P50US:             stat(float64(c)/rps*1e6, 0.03),
			P99US:             stat(float64(c)/rps*1e6*2, 0.05),
			ServerCPUPerReqUS: stat(workUS/eff, 0.02),
		}
		sc.Levels = append(sc.Levels, level(c, sum, nil))
	}
	return sc
}

// proxyShape is how a server proxies in the fixture: its ceiling in
// proxied requests a second, the threads and descriptors it holds per
// in-flight request, and where it fails.
var proxyShape = map[string]struct {
	ceiling, threads, fds, errRate4k float64
}{
	"thread":         {14000, 1, 2, 0},
	"goroutine":      {22000, 0, 2, 0},
	"epoll":          {34000, 0, 2, 0},
	"nginx":          {30000, 0, 2, 0},
	"apache-prefork": {6000, 1, 2.2, 0.02},
	"apache-worker":  {9000, 1, 2, 0.01},
	"apache-event":   {8300, 1, 2, 0.03},
}

// proxy is the fixture's proxy scenario: Little's law, C / 10 ms, up to
// the server's ceiling, then queueing.
func proxy(s server) results.Scenario {
	sc := results.Scenario{Scenario: "proxy", Server: s.name, Kind: s.kind, LevelName: "concurrency", Complete: true, Config: configOf("proxy")}
	sh := proxyShape[s.name]
	for _, c := range proxyLevels {
		rps := math.Min(float64(c)*1000/waitMS*0.95, sh.ceiling)
		p50 := float64(c) / rps * 1e6
		errRate := 0.0
		if c >= 4000 {
			errRate = sh.errRate4k
		}
		pc := results.PerConn{Conns: c, Threads: sh.threads, FDs: sh.fds, PSSBytes: 20 * kib * sh.threads}
		sum := results.Summary{
			RPS:       stat(rps, 0.03),
			P50US:     stat(p50, 0.04),
			P99US:     stat(p50*(1.3+s.tail/10), 0.08),
			ErrorRate: one(errRate),
			PerConn:   pc,
			Threads:   one(math.Round(s.threadsBase + float64(c)*sh.threads)),
			FDs:       one(math.Round(s.fdsBase + float64(c)*sh.fds)),
		}
		sc.Levels = append(sc.Levels, level(c, sum, nil))
	}
	return sc
}

// gather is the fixture's gather scenario: the thread model makes its K
// calls one after another, the others at once.
func gather(s server) results.Scenario {
	sc := results.Scenario{Scenario: "gather", Server: s.name, Kind: s.kind, LevelName: "backend calls per request K", Complete: true, Config: configOf("gather")}
	for _, k := range gatherLevels {
		lat := waitMS * 1000 * (1.15 + 0.02*float64(k))
		if s.name == "thread" {
			lat = waitMS * 1000 * float64(k) * 1.1
		}
		sum := results.Summary{
			RPS:   stat(float64(gatherConns)/lat*1e6, 0.03),
			P50US: stat(lat, 0.04),
			P99US: stat(lat*1.4, 0.08),
		}
		sc.Levels = append(sc.Levels, level(k, sum, nil))
	}
	return sc
}

// scaleLevels are the scale scenario's idle connections.
var scaleLevels = []int{10000, 20000, 50000, 100000, 200000, 500000, 1000000}

// scale is the fixture's scale scenario: per-connection costs flat as the
// count climbs, the thread model stopped by pid_max past 20k, and the
// connect rate falling a little as the tables grow.
func scale(s server) results.Scenario {
	sc := results.Scenario{Scenario: "scale", Server: s.name, Kind: s.kind, LevelName: "idle connections", Complete: true, Config: configOf("scale")}
	for _, n := range scaleLevels {
		if s.name == "thread" && n > 20000 {
			sc.Skipped = append(sc.Skipped, results.Skip{Scenario: "scale", Server: s.name, Level: n, Reason: "needs about 50004 threads; pid_max 32768"})
			continue
		}
		pc := results.PerConn{Conns: n + 4, PSSBytes: s.pss, RSSBytes: s.rss, KernelStack: s.kstack, PageTables: s.ptables,
			SocketBytes: socketBytes, Threads: s.threads, FDs: s.fds, KernelBytes: s.kstack + s.ptables + socketBytes}
		sum := results.Summary{
			RPS:         one(500),
			PSS:         stat(s.pssBase+float64(n)*s.pss, 0.02),
			PerConn:     pc,
			IdleAlive:   one(float64(n)),
			ServerConns: one(float64(n + 4)),
			ConnectRate: stat(30000/(1+math.Log10(float64(n)/10000)/4), 0.05),
		}
		sc.Levels = append(sc.Levels, level(n, sum, nil))
	}
	return sc
}

func level(n int, sum results.Summary, reps []results.Measurement) results.Level {
	if reps == nil {
		for r := 0; r < repeats; r++ {
			m := results.Measurement{}
			m.Load.RPS = sum.RPS.Median
			m.Load.Latency = loadgen.Latency{P50: sum.P50US.Median, P99: sum.P99US.Median}
			m.Point.Threads = int(sum.Threads.Median)
			m.Point.CtxtAllThreads = true
			m.PerConn = sum.PerConn
			reps = append(reps, m)
		}
	}
	return results.Level{Level: n, Repeats: reps, Summary: sum}
}

// WriteFixture writes the fixture as a results directory: run.json, one
// SCENARIO-SERVER.json per scenario, and the .hgrm files the concurrency
// scenario names, generated with hdrhistogram-go from a fixed seed.
func WriteFixture(dir string) error {
	run, scs := Fixture()
	if err := writeJSON(filepath.Join(dir, "run.json"), run); err != nil {
		return err
	}
	for _, sc := range scs {
		if err := writeJSON(filepath.Join(dir, FileName(sc)), sc); err != nil {
			return err
		}
		for _, l := range sc.Levels {
			for _, m := range l.Repeats {
				if m.HgrmFile == "" {
					continue
				}
				if err := writeHgrm(filepath.Join(dir, filepath.FromSlash(m.HgrmFile)), m.Load.Latency, sc.Server); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("plottest: encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("plottest: %w", err)
	}
	return nil
}

// writeHgrm records a log-normal latency distribution with the given p50
// and roughly the given p99 (microseconds), and prints its percentile
// distribution in milliseconds, as the load generator does.
func writeHgrm(path string, lat loadgen.Latency, server string) error {
	h := hdrhistogram.New(1, 60_000_000, 3)
	seed := uint64(len(server))*7919 + uint64(lat.P50)
	rng := rand.New(rand.NewPCG(seed, 42))
	sigma := math.Log(lat.P99/lat.P50) / 2.326 // z of the 99th percentile
	for range 20000 {
		v := lat.P50 * math.Exp(sigma*rng.NormFloat64())
		if err := h.RecordValue(int64(math.Max(1, v))); err != nil {
			return fmt.Errorf("plottest: recording %v: %w", v, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plottest: %w", err)
	}
	var b strings.Builder
	if _, err := h.PercentilesPrint(&b, 5, 1000); err != nil {
		return fmt.Errorf("plottest: printing %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("plottest: %w", err)
	}
	return nil
}
