package report

import (
	"fmt"
	"math"
	"slices"

	"c10k/harness/results"
	"c10k/harness/units"
)

// Where a server wins or loses: within nearBest of the best figure is a
// win; farBehind times worse than the best (or the worst, when the spread
// is at least that) is a loss.
const (
	nearBest  = 0.10
	farBehind = 3.0
	// latencyErrorRate is the share of failed requests above which a
	// server's latency is not ranked: percentiles of the requests that got
	// through say nothing of the connections left waiting (in closed loop
	// a stuck connection sends nothing more, so it drops out of the
	// histogram instead of dragging its tail).
	latencyErrorRate = 0.001
)

// metric is one figure every server is ranked on.
type metric struct {
	name   string
	higher bool // higher is better
	format func(float64) string
	vals   map[string]float64
	// excluded holds servers measured but not ranked, and why: a loss
	// (their failed requests would flatter the figure).
	excluded map[string]string
	// unranked holds servers measured but not ranked through no fault of
	// theirs (the load generator saturated first), and why.
	unranked map[string]string
}

// buildStories says, per server, on which headline figures it is at or
// near the best and on which it is far behind, and where it failed.
func buildStories(v view) []Story {
	ms := storyMetrics(v)
	var out []Story
	for _, s := range v.servers() {
		st := Story{Server: s.Server, Kind: s.Kind}
		for _, m := range ms {
			if why, ok := m.excluded[s.Server]; ok {
				st.Loses = append(st.Loses, fmt.Sprintf("%s: not ranked, %s", m.name, why))
				continue
			}
			if why, ok := m.unranked[s.Server]; ok {
				st.Unranked = append(st.Unranked, fmt.Sprintf("%s: %s", m.name, why))
				continue
			}
			if len(m.vals) < 2 {
				continue
			}
			val, ok := m.vals[s.Server]
			if !ok {
				continue
			}
			bestName, best := extreme(m, true)
			worstName, worst := extreme(m, false)
			switch {
			case isNearBest(m, val, best):
				line := fmt.Sprintf("%s: %s", m.name, m.format(val))
				if s.Server == bestName {
					line += fmt.Sprintf(", the best of %d (worst: %s, %s)", len(m.vals), worstName, m.format(worst))
				} else {
					line += fmt.Sprintf(", near the best (%s, %s)", bestName, m.format(best))
				}
				st.Wins = append(st.Wins, line)
			case isFarBehind(m, val, best):
				st.Loses = append(st.Loses, fmt.Sprintf("%s: %s, %s the best (%s, %s)",
					m.name, m.format(val), behind(m, val, best), bestName, m.format(best)))
			}
		}
		for _, name := range scenarioOrder {
			for _, f := range v.failures(name, s.Server) {
				st.Loses = append(st.Loses, fmt.Sprintf("failed in the %s scenario at %s: %s", name, fmtLevel(name, f.Level), oneLine(f.Reason)))
			}
		}
		out = append(out, st)
	}
	return out
}

// storyMetrics are the headline figures servers are ranked on.
func storyMetrics(v view) []metric {
	idleLevel := results.PerConnLevel(v.scs["idle"])
	concLevel := v.common("concurrency", results.ConcurrencyTarget, results.HasLatency)
	waitLevel := v.common("wait", 0, results.HasRPS)
	cpuLevel := v.common("cpu", 0, results.HasRPS)
	mem := metric{name: fmt.Sprintf("memory per idle connection at %s (user + kernel)", units.Count(float64(idleLevel))), format: fmtBytes, vals: map[string]float64{}}
	peak := metric{name: "peak throughput", higher: true, format: fmtRate, vals: map[string]float64{}, unranked: map[string]string{}}
	cpuReq := metric{name: fmt.Sprintf("server CPU per request at C=%s", units.Count(float64(concLevel))), format: fmtLatency, vals: map[string]float64{}}
	p99 := metric{name: fmt.Sprintf("p99 latency at C=%s", units.Count(float64(concLevel))), format: fmtLatency, vals: map[string]float64{}, excluded: map[string]string{}}
	ctx := metric{name: fmt.Sprintf("context switches per request at C=%s", units.Count(float64(concLevel))), format: fmtRatio, vals: map[string]float64{}}
	wait := metric{name: fmt.Sprintf("throughput with backend waits at C=%s", units.Count(float64(waitLevel))), higher: true, format: fmtRate, vals: map[string]float64{}}
	cpu := metric{name: fmt.Sprintf("throughput with CPU-bound requests at C=%s", units.Count(float64(cpuLevel))), higher: true, format: fmtRate, vals: map[string]float64{}}
	for _, s := range v.servers() {
		if l, ok := v.at("idle", s.Server, idleLevel, results.HasPerConn); ok {
			mem.vals[s.Server] = memPerConn(l.Summary.PerConn)
		}
		if sc, ok := v.get("concurrency", s.Server); ok {
			if l, ok := results.MaxLevel(sc, results.HasRPS, func(l results.Level) float64 { return l.Summary.RPS.Median }); ok {
				if l.Saturated() {
					peak.unranked[s.Server] = fmt.Sprintf("the load generator was saturated at its peak (%s at C=%s), so that figure ranks the client; it is ranked by server CPU per request instead",
						fmtRate(l.Summary.RPS.Median), units.Count(float64(l.Level)))
				} else {
					peak.vals[s.Server] = l.Summary.RPS.Median
				}
			}
		}
		if l, ok := v.at("concurrency", s.Server, concLevel, results.HasLatency); ok {
			if er := l.Summary.ErrorRate.Median; er > latencyErrorRate {
				p99.excluded[s.Server] = fmt.Sprintf("%.1f%% of its requests failed (the p99 of the rest would flatter it)", 100*er)
			} else {
				p99.vals[s.Server] = l.Summary.P99US.Median
			}
			if l.Summary.CtxSwitchesPerReq.N > 0 {
				ctx.vals[s.Server] = l.Summary.CtxSwitchesPerReq.Median
			}
			if results.HasCPUPerReq(l) {
				cpuReq.vals[s.Server] = l.Summary.ServerCPUPerReqUS.Median
			}
		}
		if l, ok := v.at("wait", s.Server, waitLevel, results.HasRPS); ok {
			wait.vals[s.Server] = l.Summary.RPS.Median
		}
		if l, ok := v.at("cpu", s.Server, cpuLevel, results.HasRPS); ok {
			cpu.vals[s.Server] = l.Summary.RPS.Median
		}
	}
	return []metric{mem, peak, cpuReq, p99, ctx, wait, cpu}
}

// extreme returns the best (or worst) server of a metric and its value;
// ties go to the server first in legend order.
func extreme(m metric, best bool) (string, float64) {
	names := make([]string, 0, len(m.vals))
	for n := range m.vals {
		names = append(names, n)
	}
	slices.SortFunc(names, compareServers)
	name, val := "", math.NaN()
	for _, n := range names {
		x := m.vals[n]
		better := x > val
		if !m.higher {
			better = x < val
		}
		if !best {
			better = !better && x != val
		}
		if name == "" || better {
			name, val = n, x
		}
	}
	return name, val
}

func isNearBest(m metric, v, best float64) bool {
	if m.higher {
		return v >= (1-nearBest)*best
	}
	return v <= (1+nearBest)*best
}

func isFarBehind(m metric, v, best float64) bool {
	if m.higher {
		return v*farBehind <= best
	}
	return v >= farBehind*best && v > 0
}

// behind says how far behind the best a value is, to be followed by
// "the best": "12x" (of a lower-is-better figure), "4.0x below".
func behind(m metric, v, best float64) string {
	if m.higher {
		return fmtTimes(best/v) + " below"
	}
	if best <= 0 {
		return "far above"
	}
	return fmtTimes(v / best)
}
