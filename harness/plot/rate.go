package plot

import (
	"c10k/harness/results"
	"c10k/harness/units"
)

// RateLatency draws figure 7, the hockey stick: p50 and p99 latency
// against the offered rate in open loop, where latency is measured from
// each request's intended send time, so a server that falls behind shows
// the queue it built rather than hiding it.
func RateLatency(rate []results.Scenario) (*Figure, error) {
	spec := func(title string) panelSpec {
		return panelSpec{
			Title: title,
			X:     axisSpec{Label: "offered rate (requests/s)", Format: units.Count},
			Y:     axisSpec{Label: "latency from intended send time", Format: units.Micros, Scale: scaleLog},
			Unit:  "req/s",
		}
	}
	return panelsFigure("07-rate-latency", "Latency vs offered rate, open loop (the hockey stick)", rate, []panelDef{
		{fromSummary(func(s results.Summary) results.Stat { return s.P50US }), spec("p50 (median)")},
		{fromSummary(func(s results.Summary) results.Stat { return s.P99US }), spec("p99")},
	}, "Open loop: requests leave on a fixed schedule whatever the server does; past its capacity a server builds a queue and latency turns up.")
}
