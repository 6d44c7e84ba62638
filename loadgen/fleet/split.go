package fleet

import (
	"fmt"

	"c10k/loadgen"
)

// maxSources is the number of 127.0.0.x addresses a range may use
// (127.0.0.1 to .254).
const maxSources = 254

// Split shares the run o out between procs processes, as evenly as
// possible and with the remainders to the first ones:
//   - the active connections and the idle pool;
//   - the rate in proportion to the active connections, so every
//     connection carries the same load, and the connect rate in proportion
//     to the idle pool, so every pool takes as long to open; together the
//     processes keep both global figures, and a process without active
//     connections (or without an idle pool) gets none of the rate (or of
//     the connect rate);
//   - the event loops: cpus between the processes, at least one each,
//     unless o.Loops already says how many each runs;
//   - the source addresses: o.Sources between them, at least one each, or,
//     when it is 0, as many as sources(its connections) says each needs,
//     in ranges one after the other from o.SourceOffset, so that no two
//     processes share an address's ephemeral ports.
//
// Every process keeps its interval histograms (IntervalLog), which the
// merge needs. A process left with neither an active nor an idle
// connection is not started, so the list may be shorter than procs.
// Errors wrap loadgen.ErrOptions.
func Split(o loadgen.Options, procs, cpus int, sources func(conns int) int) ([]loadgen.Options, error) {
	if procs < 1 {
		return nil, fmt.Errorf("%w: -procs %d: at least 1", loadgen.ErrOptions, procs)
	}
	if o.Pacer != nil {
		return nil, fmt.Errorf("%w: a Pacer cannot be shared out between processes; give a -rate", loadgen.ErrOptions)
	}
	var out []loadgen.Options
	for i := range procs {
		p := o
		p.IntervalLog = true
		p.Connections, p.Idle = share(o.Connections, procs, i), share(o.Idle, procs, i)
		if p.Connections == 0 && p.Idle == 0 {
			continue
		}
		out = append(out, p)
	}
	connectRate := o.ConnectRate
	if connectRate <= 0 {
		connectRate = loadgen.DefaultConnectRate
	}
	next := o.SourceOffset
	for i := range out {
		p := &out[i]
		p.Rate, p.ConnectRate = 0, 0
		if p.Connections > 0 {
			p.Rate = o.Rate * float64(p.Connections) / float64(o.Connections)
		}
		if p.Idle > 0 {
			p.ConnectRate = connectRate * float64(p.Idle) / float64(o.Idle)
		}
		if o.Loops == 0 {
			p.Loops = max(share(cpus, len(out), i), 1)
		}
		p.Sources = max(share(o.Sources, len(out), i), 1)
		if o.Sources == 0 {
			p.Sources = max(sources(p.Connections+p.Idle), 1)
		}
		p.SourceOffset = next
		next += p.Sources
	}
	if next > maxSources {
		return nil, fmt.Errorf("%w: %d processes need source addresses up to 127.0.0.%d, past 127.0.0.%d; run fewer processes or fewer -sources",
			loadgen.ErrOptions, len(out), next, maxSources)
	}
	return out, nil
}

// share is the i-th of k near-equal parts of n, the remainder going to
// the first parts.
func share(n, k, i int) int {
	s := n / k
	if i < n%k {
		s++
	}
	return s
}
