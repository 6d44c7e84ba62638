package results

import (
	"github.com/montanaflynn/stats"

	"c10k/loadgen"
)

// StatOf is the median and spread of xs. An empty input is the zero Stat
// (N 0), never an error: a level whose every repeat failed has nothing to
// summarise, and its failures say why.
func StatOf(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	d := stats.Float64Data(xs)
	// These cannot fail on a non-empty input.
	med, _ := d.Median()
	lo, _ := d.Min()
	hi, _ := d.Max()
	sd, _ := d.StandardDeviation()
	return Stat{Median: med, Min: lo, Max: hi, StdDev: sd, N: len(xs)}
}

// Summarize computes a level's Summary over its repeats.
func Summarize(ms []Measurement) Summary {
	pick := func(f func(m *Measurement) float64) Stat {
		xs := make([]float64, len(ms))
		for i := range ms {
			xs[i] = f(&ms[i])
		}
		return StatOf(xs)
	}
	med := func(f func(m *Measurement) float64) float64 { return pick(f).Median }
	s := Summary{
		RPS:    pick(func(m *Measurement) float64 { return m.Load.RPS }),
		P50US:  pick(func(m *Measurement) float64 { return m.Load.Latency.P50 }),
		P90US:  pick(func(m *Measurement) float64 { return m.Load.Latency.P90 }),
		P99US:  pick(func(m *Measurement) float64 { return m.Load.Latency.P99 }),
		P999US: pick(func(m *Measurement) float64 { return m.Load.Latency.P999 }),
		MaxUS:  pick(func(m *Measurement) float64 { return m.Load.Latency.Max }),
		ErrorRate: pick(func(m *Measurement) float64 {
			return ErrorRate(m.Load)
		}),
		ServerCPUPerReqUS: pick(func(m *Measurement) float64 { return m.ServerCPUPerReqUS }),
		CtxSwitchesPerReq: pick(func(m *Measurement) float64 { return m.CtxSwitchesPerReq }),
		PSS:               pick(func(m *Measurement) float64 { return float64(m.Point.PSS) }),
		RSS:               pick(func(m *Measurement) float64 { return float64(m.Point.RSS) }),
		Threads:           pick(func(m *Measurement) float64 { return float64(m.Point.Threads) }),
		FDs:               pick(func(m *Measurement) float64 { return float64(m.Point.FDs) }),
		IdleAlive:         pick(func(m *Measurement) float64 { return float64(m.Load.IdleAlive) }),
		ServerConns:       pick(func(m *Measurement) float64 { return float64(m.ServerConns) }),
		ConnectRate:       pick(func(m *Measurement) float64 { return ConnectRate(m.Load) }),
		ServerCPUUtil:     pick(func(m *Measurement) float64 { return m.ServerCPUUtil }),
		LoadCPUUtil:       pick(func(m *Measurement) float64 { return m.LoadCPUUtil }),
		LoadBusy:          pick(func(m *Measurement) float64 { return m.Load.LoopBusy }),
		OtherCPUUtil:      pick(func(m *Measurement) float64 { return m.OtherCPUUtil }),
		PerConn: PerConn{
			Conns:       int(med(func(m *Measurement) float64 { return float64(m.PerConn.Conns) })),
			PSSBytes:    med(func(m *Measurement) float64 { return m.PerConn.PSSBytes }),
			RSSBytes:    med(func(m *Measurement) float64 { return m.PerConn.RSSBytes }),
			KernelStack: med(func(m *Measurement) float64 { return m.PerConn.KernelStack }),
			PageTables:  med(func(m *Measurement) float64 { return m.PerConn.PageTables }),
			SocketBytes: med(func(m *Measurement) float64 { return m.PerConn.SocketBytes }),
			Threads:     med(func(m *Measurement) float64 { return m.PerConn.Threads }),
			FDs:         med(func(m *Measurement) float64 { return m.PerConn.FDs }),
			Processes:   med(func(m *Measurement) float64 { return m.PerConn.Processes }),
			TCPMemBytes: med(func(m *Measurement) float64 { return m.PerConn.TCPMemBytes }),
			KernelBytes: med(func(m *Measurement) float64 { return m.PerConn.KernelBytes }),
		},
	}
	for i := range ms {
		if ms[i].Noisy {
			s.Noisy++
		}
	}
	return s
}

// ConnectRate is how fast the load generator opened its idle pool, in
// connections per second; 0 without one.
func ConnectRate(l loadgen.Result) float64 {
	if l.IdleOpenS <= 0 {
		return 0
	}
	return float64(l.IdleOpened) / l.IdleOpenS
}

// ErrorRate is errors / (requests + errors) of one load result, 0 when
// nothing was attempted.
func ErrorRate(l loadgen.Result) float64 {
	errs := l.TotalErrors()
	if l.Requests+errs == 0 {
		return 0
	}
	return float64(errs) / float64(l.Requests+errs)
}
