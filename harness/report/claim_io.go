package report

import (
	"fmt"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/units"
)

// Claims 6 to 8: the essay's I/O claims, tested on the proxy and gather
// scenarios, where every request waits on a real backend.

// Figures of the proxy scenarios.
const (
	figProxy          = "13-proxy"
	figGather         = "14-gather"
	figProxyResources = "15-proxy-resources"
)

// Thresholds of the I/O verdicts.
const (
	// overlapped: throughput at this fraction of Little's law (C / wait)
	// or more means the server kept that many requests waiting at once.
	overlapped = 0.7
	// proxyTarget is the concurrency claim 6 is judged at: C / wait is
	// then 10,000 req/s with a 10 ms backend, within one core's reach, so
	// falling short of it is the waits' doing, not the CPU's.
	proxyTarget = 100
	// oneWait: a gather answered within this many backend waits made its
	// K calls at once; inSequence: at this fraction of K waits or more it
	// made them one after another.
	oneWait    = 2.0
	inSequence = 0.7
	// holdsThread: a server holding this many threads or processes per
	// in-flight request ties one to each request.
	holdsThread = 0.5
)

// Claim 6. A task waiting on I/O lets the others run.

// waitInput is what claim 6 is judged on.
type waitInput struct {
	Level   int     // concurrency compared at
	WaitMS  float64 // the backend's wait
	Have    bool
	LoopRPS float64 // the event loop's throughput at Level
	// LoopThreads is the threads (and processes) the loop held per
	// in-flight request; HaveThreads when measured.
	LoopThreads float64
	HaveThreads bool
}

// judgeWait: the loop's throughput at C in-flight requests is compared
// with C / wait, what a server that keeps every waiting request open at
// once can do. At overlapped of it or more with no thread per request, the
// waits let the other requests run: holds. Near it but with threads per
// request: partly. Far below: the waits held the others up: does not
// hold.
func judgeWait(in waitInput) (Verdict, string) {
	if !in.Have || in.WaitMS <= 0 || in.Level <= 0 {
		return NotMeasured, "the proxy scenario did not run for the event loop."
	}
	ideal := float64(in.Level) * 1000 / in.WaitMS
	frac := in.LoopRPS / ideal
	at := fmt.Sprintf("with C=%s requests waiting on a %s backend, the event loop served %s, %s of the %s that C / wait allows",
		units.Count(float64(in.Level)), fmtLatency(in.WaitMS*1000), fmtRate(in.LoopRPS), fmtPercent(frac), fmtRate(ideal))
	switch {
	case frac < overlapped:
		return DoesNotHold, at + ": the waits held the other requests up."
	case in.HaveThreads && in.LoopThreads >= noThreads:
		return Partly, fmt.Sprintf("%s, but it held %s threads per in-flight request to do it.", at, fmtRatio(in.LoopThreads))
	case !in.HaveThreads:
		return Holds, at + " (its threads were not measured)."
	}
	return Holds, at + ", on one thread: while one request waited, the others ran."
}

func waitClaim(v view) Claim {
	c := Claim{
		Title: "A request waiting on I/O lets the others run",
		Claim: "A task that waits on I/O hands control back to the loop, which runs other tasks meanwhile: " +
			"one thread keeps many requests in progress while each waits on its backend.",
	}
	cfg := v.run.ScenarioConfig("proxy")
	in := waitInput{WaitMS: cfg.BackendWaitMS, Level: v.common("proxy", proxyTarget, results.HasRPS, registry.Epoll)}
	if l, ok := v.at("proxy", registry.Epoll, in.Level, results.HasRPS); ok {
		in.Have, in.LoopRPS = true, l.Summary.RPS.Median
		if l.Summary.PerConn.Conns > 0 {
			in.HaveThreads = true
			in.LoopThreads = l.Summary.PerConn.Threads + l.Summary.PerConn.Processes
		}
	}
	if in.WaitMS <= 0 {
		in.WaitMS = proxyWaitOf(v)
	}
	c.Verdict, c.Because = judgeWait(in)
	if c.Verdict == NotMeasured {
		return c
	}
	for _, s := range v.scs["proxy"] {
		if l, ok := v.at("proxy", s.Server, in.Level, results.HasRPS); ok {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s at C=%s: %s, p50 %s, %s threads and %s descriptors per in-flight request.",
				s.Server, units.Count(float64(in.Level)), fmtRate(l.Summary.RPS.Median), fmtLatency(l.Summary.P50US.Median),
				fmtRatio(l.Summary.PerConn.Threads+l.Summary.PerConn.Processes), fmtRatio(l.Summary.PerConn.FDs)))
		}
	}
	if l, ok := v.at("proxy", registry.Thread, in.Level, results.HasRPS); ok {
		pc := l.Summary.PerConn
		if l.Summary.RPS.Median >= overlapped*float64(in.Level)*1000/in.WaitMS && pc.Conns > 0 && pc.Threads+pc.Processes >= holdsThread {
			c.Evidence = append(c.Evidence, fmt.Sprintf("The thread model kept up too (%s), by blocking a thread per waiting request (%s per in-flight request): "+
				"its waits let others run as well, at the price of a thread each.", fmtRate(l.Summary.RPS.Median), fmtRatio(pc.Threads+pc.Processes)))
		}
	}
	return c
}

// proxyWaitOf is the backend wait recorded with the proxy levels, for a
// run.json that lacks the scenario's configuration.
func proxyWaitOf(v view) float64 {
	for _, sc := range v.scs["proxy"] {
		if sc.Config.BackendWaitMS > 0 {
			return sc.Config.BackendWaitMS
		}
	}
	return 0
}

// Claim 7. Gather overlaps the waits.

// gatherPoint is one server's median latency at the largest K.
type gatherPoint struct {
	Server string
	P50US  float64
	// Saturated: the CPUs the backend ran on were busy (backend and load
	// generator together at backendBusy or more), so time past one
	// wait may be queueing at the backend rather than waits in sequence.
	Saturated bool
	SideBusy  string // how busy, for the verdict
}

// gatherInput is what claim 7 is judged on.
type gatherInput struct {
	K      int
	WaitMS float64
	Loop   *gatherPoint // the event loop
	Others []gatherPoint
}

// overlap classifies a latency at K calls of wait each: "at once" within
// oneWait waits, "one after another" at inSequence x K waits or more,
// "partly" between.
func overlap(p50US float64, k int, waitMS float64) string {
	w := waitMS * 1000
	switch {
	case p50US <= oneWait*w:
		return "at once"
	case p50US >= inSequence*float64(k)*w:
		return "one after another"
	}
	return "partly overlapped"
}

// judgeGather: the event loop's K calls made at once (p50 within oneWait
// waits at the largest K) holds, unless another server that gathers by
// its nature (goroutines, nginx) did not: partly; calls partly overlapped:
// partly; one after another: does not hold.
func judgeGather(in gatherInput) (Verdict, string) {
	if in.Loop == nil || in.K < 2 || in.WaitMS <= 0 {
		return NotMeasured, "the gather scenario did not run for the event loop with K of 2 or more."
	}
	how := overlap(in.Loop.P50US, in.K, in.WaitMS)
	at := fmt.Sprintf("at K=%d calls of %s each, the event loop answered in %s at the median (%s)",
		in.K, fmtLatency(in.WaitMS*1000), fmtLatency(in.Loop.P50US), how)
	var behind []string
	for _, o := range in.Others {
		if o.Server == registry.Thread {
			continue // sequential by design: shown in the evidence, not judged
		}
		if h := overlap(o.P50US, in.K, in.WaitMS); h != "at once" {
			behind = append(behind, fmt.Sprintf("%s %s (%s)", o.Server, fmtLatency(o.P50US), h))
		}
	}
	switch {
	case how == "one after another":
		return DoesNotHold, at + ": the waits did not overlap."
	case how == "partly overlapped" && in.Loop.Saturated:
		return Holds, fmt.Sprintf("%s, %s under the %s of K waits in sequence: the calls overlapped, and the time past one wait was spent queueing at the backend, whose CPUs were saturated (%s).",
			at, fmtTimes(float64(in.K)*in.WaitMS*1000/in.Loop.P50US), fmtLatency(float64(in.K)*in.WaitMS*1000), in.Loop.SideBusy)
	case how == "partly overlapped":
		return Partly, at + ": the waits overlapped only in part."
	}
	if len(behind) > 0 {
		return Partly, at + ", but not every gathering server did: " + strings.Join(behind, ", ") + "."
	}
	return Holds, at + ": the K waits overlapped into about one."
}

// backendSaturated is the share of the backend's CPUs that were used
// during a level, with the load generator's when the two share them. A
// backend without a CPU of its own (a 2-core machine) becomes the
// bottleneck once K calls per request multiply its work.
const backendBusy = 0.9

// backendSaturated reports whether l's backend CPUs were saturated, and
// how busy they were, from its first repeat that recorded a backend.
func backendSaturated(l results.Level, loadCPUs string) (bool, string) {
	for _, m := range l.Repeats {
		b := m.Backend
		if b == nil {
			continue
		}
		n := results.Run{Config: results.Config{ServerCPUs: b.CPUs}}.ServerCPUCount()
		if n <= 0 {
			return false, ""
		}
		busy, what := b.CPUUtil, fmt.Sprintf("backend %s", fmtPercent(b.CPUUtil))
		if b.CPUs == loadCPUs {
			busy += m.LoadCPUUtil
			what += fmt.Sprintf(" and load generator %s", fmtPercent(m.LoadCPUUtil))
		}
		return busy >= backendBusy*float64(n), fmt.Sprintf("%s of %d CPU(s), list %s", what, n, b.CPUs)
	}
	return false, ""
}

func gatherClaim(v view) Claim {
	c := Claim{
		Title: "Gathering several I/O calls overlaps their waits",
		Claim: "Waiting for several I/O operations together costs about as long as the slowest of them, " +
			"not their sum, when nothing blocks while they are outstanding.",
	}
	in := gatherInput{WaitMS: v.run.ScenarioConfig("gather").BackendWaitMS}
	for _, sc := range v.scs["gather"] {
		if in.WaitMS <= 0 {
			in.WaitMS = sc.Config.BackendWaitMS
		}
	}
	in.K = v.common("gather", 1<<30, results.HasLatency)
	for _, sc := range v.scs["gather"] {
		l, ok := v.at("gather", sc.Server, in.K, results.HasLatency)
		if !ok {
			continue
		}
		p := gatherPoint{Server: sc.Server, P50US: l.Summary.P50US.Median}
		p.Saturated, p.SideBusy = backendSaturated(l, v.run.Config.LoadCPUs)
		if sc.Server == registry.Epoll {
			in.Loop = &p
		} else {
			in.Others = append(in.Others, p)
		}
	}
	c.Verdict, c.Because = judgeGather(in)
	if c.Verdict == NotMeasured {
		return c
	}
	for _, sc := range v.scs["gather"] {
		var parts []string
		for _, l := range sc.Levels {
			if results.HasLatency(l) {
				parts = append(parts, fmt.Sprintf("K=%d: p50 %s, p99 %s", l.Level, fmtLatency(l.Summary.P50US.Median), fmtLatency(l.Summary.P99US.Median)))
			}
		}
		if len(parts) > 0 {
			c.Evidence = append(c.Evidence, sc.Server+": "+strings.Join(parts, "; ")+".")
		}
	}
	for _, o := range in.Others {
		if o.Server == registry.Thread {
			c.Evidence = append(c.Evidence, fmt.Sprintf("The thread model makes its calls one after another on its one thread (it would need a thread per call to overlap them): %s at K=%d against %s for K waits in sequence, %s.",
				fmtLatency(o.P50US), in.K, fmtLatency(float64(in.K)*in.WaitMS*1000), overlap(o.P50US, in.K, in.WaitMS)))
		}
	}
	for _, so := range v.run.SitOuts {
		if so.Scenario == "gather" {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s sat out: %s.", so.Server, so.Reason))
		}
	}
	return c
}

// Claim 8. nginx as a proxy against Apache.

// proxyPeer is one peer's proxy figures at the compared concurrency.
type proxyPeer struct {
	Server    string
	RPS       float64
	P99US     float64
	ErrorRate float64
	Threads   float64 // threads and processes per in-flight request
	Failure   string
}

// proxyPeersInput is what claim 8 is judged on.
type proxyPeersInput struct {
	Level   int
	Nginx   *proxyPeer
	Apaches []proxyPeer
}

// apacheShortfall says how an Apache did worse than nginx as a proxy, or
// "" when it kept up.
func apacheShortfall(a, n proxyPeer) string {
	var out []string
	switch {
	case a.Failure != "":
		out = append(out, "failed "+a.Failure)
	case a.ErrorRate > refusedErrors:
		out = append(out, fmtPercent(a.ErrorRate)+" of requests failed")
	}
	if a.RPS <= worseRPS*n.RPS {
		out = append(out, fmt.Sprintf("%s against %s", fmtRate(a.RPS), fmtRate(n.RPS)))
	}
	if n.P99US > 0 && a.P99US >= worseP99*n.P99US {
		out = append(out, fmt.Sprintf("p99 %s against %s", fmtLatency(a.P99US), fmtLatency(n.P99US)))
	}
	return strings.Join(out, ", ")
}

// judgeProxyPeers: every Apache MPM fell clearly behind nginx as a proxy
// at the compared concurrency (failed, lost requests, half the throughput
// or three times the p99): holds; some did: partly; none: does not hold.
func judgeProxyPeers(in proxyPeersInput) (Verdict, string) {
	if in.Nginx == nil || len(in.Apaches) == 0 {
		return NotMeasured, "nginx and Apache were not both measured in the proxy scenario."
	}
	n := *in.Nginx
	if n.Failure != "" || n.ErrorRate > refusedErrors {
		return DoesNotHold, fmt.Sprintf("nginx itself could not proxy C=%s: %s.", units.Count(float64(in.Level)), apacheShortfall(n, n))
	}
	var behind, kept []string
	for _, a := range in.Apaches {
		if s := apacheShortfall(a, n); s != "" {
			behind = append(behind, a.Server+": "+s)
		} else {
			kept = append(kept, a.Server)
		}
	}
	at := fmt.Sprintf("Proxying C=%s requests, nginx served %s (p99 %s) with %s threads per in-flight request",
		units.Count(float64(in.Level)), fmtRate(n.RPS), fmtLatency(n.P99US), fmtRatio(n.Threads))
	switch {
	case len(kept) == 0:
		return Holds, at + "; every Apache MPM fell behind: " + strings.Join(behind, "; ") + "."
	case len(behind) > 0:
		return Partly, at + "; " + strings.Join(behind, "; ") + ", but " + strings.Join(kept, ", ") + " kept up."
	}
	return DoesNotHold, at + "; every Apache MPM kept up with it."
}

func proxyPeersClaim(v view) Claim {
	c := Claim{
		Title: "nginx as a proxy holds thousands of waiting requests where Apache ties a thread or process to each",
		Claim: "In front of a slow backend, an event-driven proxy keeps thousands of requests waiting on one loop, " +
			"while a server with a thread or process per request runs out of them and falls behind.",
	}
	apaches := apachesOf(v.scs["proxy"])
	in := proxyPeersInput{Level: v.common("proxy", 1<<30, results.HasRPS, append([]string{registry.Nginx}, apaches...)...)}
	figures := func(server string) (proxyPeer, bool) {
		p := proxyPeer{Server: server}
		l, ok := v.at("proxy", server, in.Level, results.HasRPS)
		if !ok {
			return p, false
		}
		p.RPS, p.P99US, p.ErrorRate = l.Summary.RPS.Median, l.Summary.P99US.Median, l.Summary.ErrorRate.Median
		p.Threads = l.Summary.PerConn.Threads + l.Summary.PerConn.Processes
		var fs []string
		for _, f := range v.failures("proxy", server) {
			if f.Level <= in.Level {
				fs = append(fs, fmt.Sprintf("at %s (%s)", fmtLevel("proxy", f.Level), oneLine(f.Reason)))
			}
		}
		p.Failure = strings.Join(fs, "; ")
		return p, true
	}
	if p, ok := figures(registry.Nginx); ok {
		in.Nginx = &p
	}
	for _, a := range apaches {
		if p, ok := figures(a); ok {
			in.Apaches = append(in.Apaches, p)
		}
	}
	c.Verdict, c.Because = judgeProxyPeers(in)
	if c.Verdict == NotMeasured {
		return c
	}
	for _, p := range append([]proxyPeer{*in.Nginx}, in.Apaches...) {
		ties := "no thread or process per request"
		if p.Threads >= holdsThread {
			ties = "a thread or process per request"
		}
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %s, p99 %s, %s of requests failed; %s threads or processes per in-flight request (%s).",
			p.Server, fmtRate(p.RPS), fmtLatency(p.P99US), fmtPercent(p.ErrorRate), fmtRatio(p.Threads), ties))
	}
	if in.Level < thousands {
		c.Evidence = append(c.Evidence, fmt.Sprintf("C=%s is short of the thousands of waiting requests the claim is about: read this verdict as provisional.", units.Count(float64(in.Level))))
	}
	if grid := maxLevel(v.run, "proxy"); grid > in.Level {
		c.Evidence = append(c.Evidence, fmt.Sprintf("C=%s is the largest level every peer measured; the grid went to C=%s.",
			units.Count(float64(in.Level)), units.Count(float64(grid))))
	}
	c.Evidence = append(c.Evidence, "Apache event hands idle keep-alive connections to its listener thread, but a request waiting on the backend still holds a worker thread.")
	return c
}
