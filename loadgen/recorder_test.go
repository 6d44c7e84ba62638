package loadgen

import (
	"testing"
	"time"
)

const ms = int64(time.Millisecond)

func TestRecorderWindowFollowsTheReferenceTime(t *testing.T) {
	sec := int64(time.Second)
	tests := []struct {
		name     string
		openLoop bool
		intended int64
		now      int64
		counted  bool
	}{
		{"happy closed loop, done inside", false, sec - ms, sec + ms, true},
		{"sad closed loop, done in warm-up", false, 0, sec - ms, false},
		{"sad closed loop, done after the end", false, 2*sec - ms, 2*sec + ms, false},
		{"happy open loop, due inside, done after the end", true, 2*sec - ms, 2*sec + 500*ms, true},
		{"sad open loop, due in warm-up, done inside", true, sec - ms, sec + ms, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(sec, 2*sec, tt.openLoop)
			r.response(tt.intended, tt.intended, tt.now, 100, 200)
			if got := r.requests == 1; got != tt.counted {
				t.Fatalf("counted = %v, want %v", got, tt.counted)
			}
		})
	}
}

func TestRecorderSeparatesIntendedFromServiceTime(t *testing.T) {
	r := newRecorder(0, int64(2*time.Second), true)
	// Meant at 0, sent 300 ms late (the generator waited for a connection),
	// answered 5 ms after sending.
	r.sent(0, 300*ms)
	r.response(0, 300*ms, 305*ms, 10, 200)
	res := &Result{}
	res.merge([]*recorder{r}, 2*time.Second)
	if got := res.Latency.Max; got < 304_000 || got > 306_000 {
		t.Fatalf("latency max = %.0f us, want ~305000 (from the intended time)", got)
	}
	if got := res.Uncorrected.Max; got < 4_990 || got > 5_010 {
		t.Fatalf("service max = %.0f us, want ~5000", got)
	}
	if res.Late != 1 || res.MaxLagUs != 300_000 {
		t.Fatalf("late = %d, max lag = %d us; want 1, 300000", res.Late, res.MaxLagUs)
	}
}

func TestRecorderCountsStatusAndErrorsPerSecond(t *testing.T) {
	r := newRecorder(0, int64(3*time.Second), false)
	r.response(0, 0, 10*ms, 10, 200)
	r.response(0, 0, 20*ms, 10, 503)
	r.response(0, 0, 1500*ms, 10, 302) // 3xx is not an error, as in wrk
	r.countAt(2100*ms, ErrConnect, 3)
	r.countAt(5000*ms, ErrRead, 1) // outside the window: not counted
	res := &Result{}
	res.merge([]*recorder{r}, 3*time.Second)
	if res.Requests != 3 || res.Errors["status"] != 1 || res.Errors["connect"] != 3 || res.Errors["read"] != 0 {
		t.Fatalf("requests %d, errors %v", res.Requests, res.Errors)
	}
	if len(res.Series) != 3 {
		t.Fatalf("series has %d points, want 3", len(res.Series))
	}
	want := []Point{{T: 0, Requests: 2, Errors: 1}, {T: 1, Requests: 1}, {T: 2, Errors: 3}}
	for i, p := range res.Series {
		if p.T != want[i].T || p.Requests != want[i].Requests || p.Errors != want[i].Errors {
			t.Fatalf("series[%d] = %+v, want %+v", i, p, want[i])
		}
	}
	if p := res.Series[0].P99Us; p < 19_000 || p > 21_000 {
		t.Fatalf("second 0 p99 = %d us, want ~20000", p)
	}
}

func TestMergeAcrossRecorders(t *testing.T) {
	a := newRecorder(0, int64(time.Second), false)
	b := newRecorder(0, int64(time.Second), false)
	for i := range int64(900) {
		a.response(0, 0, ms+i, 10, 200) // ~1 ms
	}
	for i := range int64(100) {
		b.response(0, 0, 100*ms+i, 10, 200) // ~100 ms
	}
	res := &Result{}
	res.merge([]*recorder{a, b}, time.Second)
	if res.Requests != 1000 || res.RPS != 1000 {
		t.Fatalf("requests %d rps %v", res.Requests, res.RPS)
	}
	if res.Latency.P50 > 1_100 || res.Latency.P90 > 1_100 || res.Latency.P99 < 99_000 {
		t.Fatalf("percentiles %+v: want p50,p90 ~1ms and p99 ~100ms", res.Latency)
	}
	if res.Latency.Mean < 10_000 || res.Latency.Mean > 11_000 {
		t.Fatalf("mean %v us, want ~10.9 ms", res.Latency.Mean)
	}
}

func TestToMicrosClampsToTheHistogramRange(t *testing.T) {
	tests := []struct {
		name string
		ns   int64
		want int64
	}{
		{"happy", 5 * ms, 5000},
		{"sad negative", -5, 1},
		{"sad below a microsecond", 10, 1},
		{"sad above a minute", int64(2 * time.Minute), histHighest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toMicros(tt.ns); got != tt.want {
				t.Fatalf("toMicros(%d) = %d, want %d", tt.ns, got, tt.want)
			}
		})
	}
}
