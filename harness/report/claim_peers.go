package report

import (
	"fmt"
	"strings"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/units"
)

// Claim 4. nginx kept serving where Apache did not.

// peerFigures is one peer's figures for claim 4.
type peerFigures struct {
	Server     string
	Have       bool
	RPS        float64
	P99        float64
	ErrorRate  float64
	HaveAlive  bool
	AliveFrac  float64
	AliveLevel int
	MemPerConn float64
	Failure    string
}

// peersInput is what claim 4 is judged on.
type peersInput struct {
	Level   int // concurrency compared at
	Nginx   peerFigures
	Apaches []peerFigures
}

// couldNot says why an Apache could not serve the load, or "".
func couldNot(a peerFigures) string {
	switch {
	case a.Failure != "":
		return "failed " + a.Failure
	case a.Have && a.ErrorRate > refusedErrors:
		return fmt.Sprintf("%s of requests failed", fmtPercent(a.ErrorRate))
	case a.HaveAlive && a.AliveFrac < aliveMin:
		return fmt.Sprintf("kept only %s of %s idle connections", fmtPercent(a.AliveFrac), units.Count(float64(a.AliveLevel)))
	}
	return ""
}

// worse says how an Apache that served the load did worse than nginx.
func worse(a, n peerFigures) []string {
	var out []string
	if a.Have && n.Have && n.P99 > 0 && a.P99 >= worseP99*n.P99 {
		out = append(out, fmt.Sprintf("p99 %s against %s", fmtLatency(a.P99), fmtLatency(n.P99)))
	}
	if a.Have && n.Have && a.RPS <= worseRPS*n.RPS {
		out = append(out, fmt.Sprintf("%s against %s", fmtRate(a.RPS), fmtRate(n.RPS)))
	}
	if a.MemPerConn > 0 && n.MemPerConn > 0 && a.MemPerConn >= worseMemory*n.MemPerConn {
		out = append(out, fmt.Sprintf("%s per idle connection against %s", fmtBytes(a.MemPerConn), fmtBytes(n.MemPerConn)))
	}
	return out
}

// judgePeers: every Apache MPM that could not serve the load (failed, more
// than refusedErrors of requests failed, or fewer than aliveMin of idle
// connections kept) while nginx did: holds. Some could not, or all served
// but clearly worse: partly. All served about as well: does not hold.
func judgePeers(in peersInput) (Verdict, string) {
	if !in.Nginx.Have || len(in.Apaches) == 0 {
		return NotMeasured, "nginx and Apache were not both measured in the concurrency scenario."
	}
	if why := couldNot(in.Nginx); why != "" {
		return DoesNotHold, "nginx itself could not serve the load: " + why + "."
	}
	var failed, served, worseOnes []string
	for _, a := range in.Apaches {
		if why := couldNot(a); why != "" {
			failed = append(failed, a.Server+" "+why)
			continue
		}
		served = append(served, a.Server)
		if w := worse(a, in.Nginx); len(w) > 0 {
			worseOnes = append(worseOnes, a.Server+": "+strings.Join(w, ", "))
		}
	}
	at := fmt.Sprintf("At C=%s nginx served %s (p99 %s)", units.Count(float64(in.Level)), fmtRate(in.Nginx.RPS), fmtLatency(in.Nginx.P99))
	switch {
	case len(served) == 0:
		return Holds, at + "; every Apache MPM fell short: " + strings.Join(failed, "; ") + "."
	case len(failed) > 0:
		s := at + "; " + strings.Join(failed, "; ") + ", but " + strings.Join(served, ", ") + " served the load"
		if len(worseOnes) > 0 {
			s += ", if worse (" + strings.Join(worseOnes, "; ") + ")"
		}
		return Partly, s + "."
	case len(worseOnes) > 0:
		return Partly, at + "; every Apache MPM served the load too, so \"could not\" is too strong, but each did worse: " + strings.Join(worseOnes, "; ") + "."
	}
	return DoesNotHold, at + "; every Apache MPM served the same load about as well."
}

func peersClaim(v view) Claim {
	c := Claim{
		Title: "nginx kept serving thousands of connections where Apache's process or thread per connection did not",
		Claim: "The event-driven nginx keeps serving at thousands of concurrent connections, where Apache, " +
			"with a process or a thread per connection, breaks down.",
	}
	apaches := apachesOf(v.servers())
	peers := append([]string{registry.Nginx}, apaches...)
	in := peersInput{Level: v.common("concurrency", 0, results.HasRPS, peers...)}
	idleLevel := results.PerConnLevel(v.scs["idle"])
	figures := func(server string) peerFigures {
		f := peerFigures{Server: server}
		if l, ok := v.at("concurrency", server, in.Level, results.HasRPS); ok {
			f.Have = true
			f.RPS, f.P99, f.ErrorRate = l.Summary.RPS.Median, l.Summary.P99US.Median, l.Summary.ErrorRate.Median
		}
		if l, ok := v.near("idle", server, 1<<30, hasIdleAlive); ok {
			f.HaveAlive = true
			f.AliveLevel = l.Level
			f.AliveFrac = l.Summary.IdleAlive.Median / float64(l.Level)
		}
		if l, ok := v.near("idle", server, idleLevel, results.HasPerConn); ok {
			f.MemPerConn = memPerConn(l.Summary.PerConn)
		}
		var fs []string
		for _, name := range []string{"idle", "concurrency"} {
			for _, fl := range v.failures(name, server) {
				fs = append(fs, fmt.Sprintf("in the %s scenario at %s (%s)", name, fmtLevel(name, fl.Level), oneLine(fl.Reason)))
			}
		}
		f.Failure = strings.Join(fs, "; ")
		return f
	}
	if _, ok := v.get("concurrency", registry.Nginx); ok {
		in.Nginx = figures(registry.Nginx)
	}
	for _, a := range apaches {
		if _, ok := v.get("concurrency", a); ok {
			in.Apaches = append(in.Apaches, figures(a))
		}
	}
	c.Verdict, c.Because = judgePeers(in)
	if c.Verdict != NotMeasured {
		if in.Level < thousands {
			c.Evidence = append(c.Evidence, fmt.Sprintf("The largest concurrency every peer ran was C=%s, short of the thousands the claim is about.", units.Count(float64(in.Level))))
		}
		for _, f := range append([]peerFigures{in.Nginx}, in.Apaches...) {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %s, p99 %s, %s of requests failed at C=%s; %s per idle connection.",
				f.Server, fmtRate(f.RPS), fmtLatency(f.P99), fmtPercent(f.ErrorRate), units.Count(float64(in.Level)), fmtBytes(f.MemPerConn)))
		}
		c.Evidence = append(c.Evidence, "Today's Apache event MPM is itself event-driven for idle keep-alive connections: "+
			"the contrast the claim draws is sharpest with prefork and worker.")
	}
	return c
}

// apachesOf lists the Apache MPMs among scs's servers, in their order.
func apachesOf(scs []results.Scenario) []string {
	var out []string
	for _, sc := range scs {
		if e, ok := registry.Lookup(sc.Server); ok && e.Peer != nil && e.Peer.MPM != "" {
			out = append(out, sc.Server)
		}
	}
	return out
}
