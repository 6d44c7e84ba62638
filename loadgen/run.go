package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Run runs the load described by o and returns what it measured. It
// returns an error only when the run cannot start (bad options, no event
// loop); failures of the server under test are data in the Result:
// errors by kind, and Complete false with a Message when the run had to
// stop early. Cancelling ctx stops the run early the same way.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tgt, _ := parseTarget(o.URL) // Validate checked it
	if err := tgt.resolve(ctx); err != nil {
		return nil, err
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	conns, idle, capMsg, err := fitFileLimit(o.Connections, o.Idle, limit)
	if err != nil {
		return nil, err
	}
	loops := o.Loops
	if loops == 0 {
		loops = CPUs()
	}
	if conns > 0 {
		// In open loop every loop sends its share of the schedule, so each
		// needs a connection; in closed loop an empty loop is just waste.
		loops = min(loops, conns)
	}
	firstSource, sources := planSources(o.Sources, o.SourceOffset, conns+idle, ephemeralPorts(), tgt.addr.Addr())
	p := &plan{
		tgt:         tgt,
		headOnly:    o.method() == "HEAD",
		method:      o.method(),
		loops:       loops,
		firstSource: firstSource,
		sources:     sources,
		conns:       conns,
		idle:        idle,
		pipeline:    o.pipeline(),
		openLoop:    o.OpenLoop(),
		pacer:       o.Pacer,
		think:       int64(o.Think),
		timeout:     int64(o.timeout()),
		connectRate: o.connectRate(),
		spin:        int64(spinHorizon(o.spin(), loops)),
		intervals:   o.IntervalLog,
	}
	if p.openLoop && p.pacer == nil {
		p.pacer = ConstantPacer{Rate: o.Rate}
	}
	res := &Result{
		URL:           o.URL,
		OpenLoop:      p.openLoop,
		Rate:          o.Rate,
		Connections:   conns,
		Pipeline:      p.pipeline,
		IdleRequested: o.Idle,
		WarmupS:       o.Warmup.Seconds(),
		Loops:         loops,
		SpinUs:        p.spin / 1000,
		Sources:       p.sources,
		FirstSource:   p.firstSource,
		FileLimit:     limit,
		Complete:      true,
		Message:       capMsg,
	}
	c := &coordinator{p: p, o: &o, res: res}
	if err := c.start(); err != nil {
		return nil, err
	}
	c.run(ctx)
	return res, nil
}

// spinHorizon is the spin asked for, or 0 when the loops would take every
// scheduler slot (P). A polling loop makes raw system calls and never
// yields its P, so without a spare one every other goroutine of the
// process (the coordinator, a caller's own server in a test) would wait
// for the runtime's 10 ms preemption. c10k load sets GOMAXPROCS to loops+1.
func spinHorizon(spin time.Duration, loops int) time.Duration {
	if runtime.GOMAXPROCS(0) <= loops {
		return 0
	}
	return spin
}
