package report

import (
	"fmt"
	"math"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// Thresholds of the verdicts. They are deliberately coarse: a claim about
// "expensive" or "could not" should survive measurement noise of tens of
// percent, so a verdict flips only on a clear difference.
const (
	// costlyRatio: the thread model costs at least this many times the
	// event loop per connection (memory) or per request (switches) for
	// the cost to count as "expensive".
	costlyRatio = 2.0
	// slowerRatio: with switching costs, the thread model's throughput at
	// high concurrency must also fall to this fraction of the loop's.
	slowerRatio = 0.8
	// oneFD is the band of descriptors per connection read as "one per
	// connection"; noThreads is threads per connection read as "none".
	oneFDLow, oneFDHigh = 0.8, 1.5
	noThreads           = 0.05
	// refusedErrors and aliveMin: an Apache that answered fewer than
	// (1 - refusedErrors) of its requests, or kept fewer than aliveMin of
	// its idle connections, could not serve them.
	refusedErrors = 0.01
	aliveMin      = 0.95
	// Apache "served, but worse": p99 this many times nginx's, or
	// throughput this fraction of it, or memory per connection this many
	// times it.
	worseP99    = 3.0
	worseRPS    = 0.5
	worseMemory = 10.0
	// oneCoreHigh: a single loop above this fraction of the one-core
	// ceiling (1/work) would contradict the claim; multiCore: another
	// model this many times the loop shows it using more cores.
	oneCoreHigh = 1.3
	multiCore   = 1.5
	// thousands is the concurrency the nginx claim is about.
	thousands = 1000
)

// Figure names the claims point to.
const (
	figMemory      = "01-memory"
	figPerConn     = "02-memory-per-conn"
	figThreads     = "03-threads"
	figFDs         = "04-fds"
	figThroughput  = "05-throughput"
	figLatency     = "06-latency"
	figRate        = "07-rate-latency"
	figSpectrum    = "08-spectrum"
	figCPU         = "10-cpu"
	figCtxSwitches = "11-ctx-switches"
	figScale       = "17-scale"
)

// buildClaims tests the essay's claims one by one.
func buildClaims(v view, figs map[string]FigureRef) []Claim {
	cs := []Claim{
		threadCostClaim(v),
		fdClaim(v),
		loopMemoryClaim(v),
		peersClaim(v),
		oneCoreClaim(v),
		// The I/O claims, in claim_io.go.
		waitClaim(v),
		gatherClaim(v),
		proxyPeersClaim(v),
	}
	links := [][]string{
		{figPerConn, figThreads, figCtxSwitches, figThroughput},
		{figFDs, figThreads},
		{figScale, figMemory, figPerConn},
		{figThroughput, figLatency, figSpectrum, figPerConn},
		{figCPU},
		{figProxy, figProxyResources},
		{figGather},
		{figProxy, figProxyResources},
	}
	for i := range cs {
		cs[i].Num = i + 1
		cs[i].Because = capitalize(cs[i].Because)
		if cs[i].Verdict == NotMeasured {
			continue // no figure shows what was not measured
		}
		for _, name := range links[i] {
			if f, ok := figs[name]; ok && f.Present {
				cs[i].Figures = append(cs[i].Figures, f)
			}
		}
	}
	return cs
}

// Helpers shared by the claims.

// ratio is a/b, or +Inf when b is zero and a is not.
func ratio(a, b float64) float64 {
	if b <= 0 {
		if a > 0 {
			return inf
		}
		return 1
	}
	return a / b
}

var inf = math.Inf(1)

// failureList describes failures briefly: "15k idle connections: reason".
func failureList(scenario string, fs []results.Failure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("at %s (%s)", fmtLevel(scenario, f.Level), oneLine(f.Reason))
	}
	return strings.Join(parts, "; ")
}

// capitalize upper-cases the first letter of a sentence, unless it starts
// with a server's name, which keeps its own spelling (nginx).
func capitalize(s string) string {
	if s == "" {
		return s
	}
	first, _, _ := strings.Cut(s, " ")
	if _, ok := registry.Lookup(strings.TrimRight(first, ",.:;")); ok {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
