package loadgen

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// run runs the generator against s and fails the test on a setup error.
func run(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func wantNoErrors(t *testing.T, r *Result) {
	t.Helper()
	if n := r.TotalErrors(); n != 0 {
		t.Fatalf("errors %v, want none", r.Errors)
	}
}

// A server that answers after 5 ms: closed-loop p50 must be 5 ms plus a
// little, never less. The upper bound is loose for a busy shared machine.
func TestClosedLoopMeasuresAKnownDelay(t *testing.T) {
	s := startServer(t, withDelay(5*time.Millisecond))
	r := run(t, Options{URL: s.url(), Connections: 4, Duration: time.Second, Loops: 1})
	wantNoErrors(t, r)
	if r.Latency.P50 < 5000 || r.Latency.P50 > 9000 {
		t.Fatalf("p50 = %.0f us, want 5-9 ms", r.Latency.P50)
	}
	if r.Uncorrected != r.Latency {
		t.Fatalf("closed loop: latency %+v and service time %+v must be the same", r.Latency, r.Uncorrected)
	}
	// 4 connections of ~5 ms each: ~800 req/s at most.
	if r.Requests < 200 || r.Requests > 800 {
		t.Fatalf("requests = %d, want 200-800", r.Requests)
	}
	if r.OpenLoop || !r.Complete || r.DurationS != 1 {
		t.Fatalf("open_loop %v complete %v duration %v", r.OpenLoop, r.Complete, r.DurationS)
	}
}

// Open loop: the count is the schedule's, exactly rate x duration, and the
// latency of an unloaded 5 ms server is still ~5 ms, whether the loops
// sleep on their ticker between requests or poll for them (Spin).
func TestOpenLoopCountMatchesRateTimesDuration(t *testing.T) {
	s := startServer(t, withDelay(5*time.Millisecond))
	tests := []struct {
		name     string
		loops    int
		spin     time.Duration
		wantSpin int64 // us
	}{
		{"sleeping on the ticker", 2, -1, 0},
		// Requests 2.5 ms apart: always within the horizon. One loop, so
		// that a scheduler slot is left for the test's own server.
		{"polling for every request", 1, 10 * time.Millisecond, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantSpin > 0 && runtime.GOMAXPROCS(0) <= tt.loops {
				t.Skipf("GOMAXPROCS %d leaves no slot beside %d loop: the generator would not poll", runtime.GOMAXPROCS(0), tt.loops)
			}
			r := run(t, Options{URL: s.url(), Connections: 8, Duration: 2 * time.Second, Rate: 400, Loops: tt.loops, Spin: tt.spin})
			wantNoErrors(t, r)
			if r.SpinUs != tt.wantSpin {
				t.Fatalf("spin_us = %d, want %d", r.SpinUs, tt.wantSpin)
			}
			if r.Requests != 800 || r.Scheduled != 800 {
				t.Fatalf("requests %d, scheduled %d, want 800 (400/s x 2 s)", r.Requests, r.Scheduled)
			}
			if r.Latency.P50 < 5000 || r.Latency.P50 > 9000 {
				t.Fatalf("p50 = %.0f us, want 5-9 ms", r.Latency.P50)
			}
			if !r.OpenLoop || r.Rate != 400 || r.RPS != 400 {
				t.Fatalf("open_loop %v rate %v rps %v", r.OpenLoop, r.Rate, r.RPS)
			}
			if len(r.Series) != 2 || r.Series[0].Requests != 400 || r.Series[1].Requests != 400 {
				t.Fatalf("series %+v, want 400 per second", r.Series)
			}
			// 400 requests/s leave a loop nearly idle, polling or not: a
			// loop that counted its polling as work would read ~100%.
			if r.LoopBusy <= 0 || r.LoopBusy > 0.75 {
				t.Fatalf("loop_busy = %.2f, want a small share above 0", r.LoopBusy)
			}
		})
	}
}

// A closed loop against a server that answers at once keeps its loop
// working all the time: that is what a saturated generator looks like.
func TestClosedLoopFlatOutIsBusy(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Connections: 4, Duration: 500 * time.Millisecond, Loops: 1, Pipeline: 8})
	wantNoErrors(t, r)
	if r.LoopBusy < 0.2 || r.LoopBusy > 1 {
		t.Fatalf("loop_busy = %.2f, want a loop kept at work", r.LoopBusy)
	}
}

// Warm-up is excluded: the window, the count and the series cover -d only.
func TestWarmupIsExcluded(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Connections: 2, Duration: 500 * time.Millisecond,
		Warmup: 500 * time.Millisecond, Rate: 200, Loops: 1})
	wantNoErrors(t, r)
	if r.Requests != 100 || r.DurationS != 0.5 || len(r.Series) != 1 {
		t.Fatalf("requests %d duration %v series %d: want 100 in 0.5 s, one point", r.Requests, r.DurationS, len(r.Series))
	}
	if got := s.requests.Load(); got < 190 {
		t.Fatalf("server saw %d requests, want the warm-up's too (~200)", got)
	}
}

// Pipelining keeps N requests in flight: against a server that answers
// each batch after 20 ms, one connection does ~16 per 20 ms instead of 1.
func TestPipelineKeepsNInFlight(t *testing.T) {
	s := startServer(t, withDelay(20*time.Millisecond))
	r := run(t, Options{URL: s.url(), Connections: 1, Duration: time.Second, Pipeline: 16, Loops: 1})
	wantNoErrors(t, r)
	if r.Requests < 300 { // unpipelined: at most 50
		t.Fatalf("requests = %d in 1 s, want >= 300 with 16 in flight", r.Requests)
	}
	if r.Pipeline != 16 {
		t.Fatalf("pipeline = %d", r.Pipeline)
	}
}

func TestThinkTimePacesAClosedLoop(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Connections: 1, Duration: time.Second, Think: 50 * time.Millisecond, Loops: 1})
	wantNoErrors(t, r)
	if r.Requests < 10 || r.Requests > 21 {
		t.Fatalf("requests = %d, want ~20 (one per 50 ms)", r.Requests)
	}
}

func TestCancelEndsTheRunWithPartialResults(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	begin := time.Now()
	r, err := Run(ctx, Options{URL: s.url(), Connections: 2, Duration: 20 * time.Second, Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("took %v after cancel", took)
	}
	if r.Complete || r.Message == "" || r.Requests == 0 || r.DurationS > 2 {
		t.Fatalf("complete %v message %q requests %d duration %v", r.Complete, r.Message, r.Requests, r.DurationS)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{URL: "http://127.0.0.1:1/", Duration: time.Second}); err == nil {
		t.Fatal("Run with no connections succeeded")
	}
}

// The gate is reached with every connection open, and the window opens
// only when it returns: what lets load processes start together.
func TestGateHoldsTheLoadUntilItReturns(t *testing.T) {
	s := startServer(t)
	var accepted, before, after int64
	r := run(t, Options{URL: s.url(), Connections: 2, Idle: 3, Duration: 300 * time.Millisecond, Loops: 1,
		Gate: func(ctx context.Context) error {
			before = s.requests.Load()
			time.Sleep(200 * time.Millisecond)
			accepted, after = s.accepted.Load(), s.requests.Load()
			return nil
		}})
	wantNoErrors(t, r)
	if accepted != 5 || before != 3 || after != 3 {
		t.Fatalf("at the gate: %d connections accepted, %d then %d requests; want 5, and only the idle pool's 3 requests",
			accepted, before, after)
	}
	if !r.Complete || r.Requests == 0 {
		t.Fatalf("complete %v, %d requests after the gate", r.Complete, r.Requests)
	}
}

func TestGateErrorStopsTheRun(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Connections: 2, Duration: 10 * time.Second, Loops: 1,
		Gate: func(ctx context.Context) error { return errors.New("the others are gone") }})
	if r.Complete || r.Requests != 0 || !strings.Contains(r.Message, "stopped before the load: the others are gone") {
		t.Fatalf("complete %v, %d requests, message %q: want a run stopped at the gate", r.Complete, r.Requests, r.Message)
	}
}
