package loadgen

import (
	"testing"
	"time"
)

// freezeDuring runs o against a server that stops answering for 500 ms,
// one second into the run.
func freezeDuring(t *testing.T, o Options) *Result {
	t.Helper()
	s := startServer(t, withDelay(time.Millisecond))
	o.URL = s.url()
	go func() {
		time.Sleep(time.Second)
		s.freeze(500 * time.Millisecond)
	}()
	return run(t, o)
}

// Coordinated omission. Open loop at 200 req/s for 3 s: the 100 requests
// due during the 500 ms freeze are still sent (queued when every
// connection is stuck) and each is timed from when it should have gone,
// so their latencies spread from ~500 ms down to ~0 and one in six
// requests is slower than 1 ms: p99 lands in the hundreds of ms, and the
// count is still exactly the schedule's.
//
// Closed loop with 4 connections hides it: each connection has one
// request stuck for the freeze and then simply sends nothing more, so 4
// slow requests sit among ~2,000 fast ones and p99 stays near the 1 ms
// service time. The generator politely stopped asking while the server
// was stuck, and the stall vanished from the percentiles; only max shows
// it. That is the difference the two runs assert.
func TestOpenLoopSeesTheFreezeClosedLoopHidesIt(t *testing.T) {
	open := freezeDuring(t, Options{Connections: 4, Duration: 3 * time.Second, Rate: 200, Loops: 1})
	wantNoErrors(t, open)
	if open.Requests != 600 || open.Scheduled != 600 {
		t.Fatalf("open loop: requests %d scheduled %d, want 600 (200/s x 3 s): the schedule is kept", open.Requests, open.Scheduled)
	}
	if open.Latency.P99 < 300_000 {
		t.Fatalf("open loop p99 = %.0f us, want hundreds of ms (the freeze)", open.Latency.P99)
	}
	if open.Late < 50 {
		t.Fatalf("open loop: %d requests sent late, want the ~100 due during the freeze", open.Late)
	}
	// What the server alone took: bounded by the freeze, but most of the
	// queued requests were sent after it and answered fast.
	if open.Uncorrected.P50 > 20_000 {
		t.Fatalf("open loop service p50 = %.0f us, want a few ms", open.Uncorrected.P50)
	}

	closed := freezeDuring(t, Options{Connections: 4, Duration: 3 * time.Second, Loops: 1})
	wantNoErrors(t, closed)
	if closed.Latency.Max < 300_000 {
		t.Fatalf("closed loop max = %.0f us: the freeze did not happen", closed.Latency.Max)
	}
	if closed.Latency.P99 > 100_000 {
		t.Fatalf("closed loop p99 = %.0f us, want it to hide the freeze (a few ms)", closed.Latency.P99)
	}
	t.Logf("p99 open loop %.0f us, closed loop %.0f us; max %.0f / %.0f us", open.Latency.P99, closed.Latency.P99, open.Latency.Max, closed.Latency.Max)
}
