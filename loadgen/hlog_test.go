package loadgen

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// readLog reads an interval log back with hdrhistogram-go's own reader and
// adds up its intervals by tag.
func readLog(t *testing.T, log []byte) (intervals, counts map[string]int64) {
	t.Helper()
	intervals, counts = map[string]int64{}, map[string]int64{}
	lr := hdrhistogram.NewHistogramLogReader(bytes.NewReader(log))
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("reading the log: %v\n%s", err, log)
		}
		if h == nil {
			return intervals, counts
		}
		intervals[h.Tag()]++
		counts[h.Tag()] += h.TotalCount()
	}
}

// A real run's interval log, read by HdrHistogram's reader, holds one
// interval a second of the window and exactly the run's requests, in open
// loop the service times beside them under their tag.
func TestIntervalLogHoldsTheRunsRequests(t *testing.T) {
	for _, tt := range []struct {
		name string
		rate float64
	}{
		{"happy closed loop", 0},
		{"happy open loop", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			r := run(t, Options{URL: s.url(), Connections: 2, Rate: tt.rate, Warmup: 200 * time.Millisecond,
				Duration: 1500 * time.Millisecond, Loops: 2, IntervalLog: true})
			wantNoErrors(t, r)
			var buf bytes.Buffer
			if err := r.WriteIntervalLog(&buf); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"#[Histogram log format version 1.3]", "#[StartTime: ", "#[BaseTime: ", "\"StartTimestamp\""} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, buf.String())
				}
			}
			intervals, counts := readLog(t, buf.Bytes())
			if intervals[""] != 2 || counts[""] != r.Requests || r.Requests == 0 {
				t.Fatalf("%d latency intervals holding %d values, want 2 seconds holding the run's %d requests", intervals[""], counts[""], r.Requests)
			}
			wantSvc := int64(0)
			if tt.rate > 0 {
				wantSvc = 2
			}
			if intervals[serviceTag] != wantSvc || (wantSvc > 0 && counts[serviceTag] != r.Requests) {
				t.Fatalf("%d service intervals holding %d values, want %d holding %d", intervals[serviceTag], counts[serviceTag], wantSvc, r.Requests)
			}
		})
	}
}

func TestIntervalLogNeedsTheOption(t *testing.T) {
	if err := sampleResult().WriteIntervalLog(&bytes.Buffer{}); !errors.Is(err, ErrNoIntervals) {
		t.Fatalf("err = %v, want ErrNoIntervals", err)
	}
	if _, err := Merge([]*Result{sampleResult()}); !errors.Is(err, ErrNoIntervals) {
		t.Fatalf("Merge err = %v, want ErrNoIntervals", err)
	}
}

// part is a synthetic open-loop run of n requests taking lat (from the
// intended time) and svc (from the send), spread over two seconds that
// start at start, with its histograms and intervals, as Run makes them.
func part(n int64, lat, svc time.Duration, start time.Time, busy float64, msg string) *Result {
	rec := newRecorder(0, int64(2*time.Second), true)
	rec.intervals = true
	step := int64(2*time.Second) / n
	for i := range n {
		rec.scheduled(i * step)
		rec.response(i*step, i*step+int64(lat-svc), i*step+int64(lat), 60, 200)
	}
	rec.countAt(0, ErrTimeout, 1)
	rec.first[ErrTimeout] = "timeout " + msg
	res := &Result{URL: "http://127.0.0.1:1/", OpenLoop: true, Rate: float64(n) / 2, Connections: 2, Pipeline: 1,
		Loops: 1, IdleRequested: 3, IdleOpened: 3, IdleAlive: 2, Complete: msg == "", Message: msg, LoopBusy: busy}
	res.merge([]*recorder{rec}, 2*time.Second)
	res.log = newIntervalLog([]*recorder{rec}, start, 2*time.Second, true)
	return res
}

func TestMergeAddsCountsAndHistograms(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_250)
	a := part(100, 2*time.Millisecond, time.Millisecond, t0, 0.5, "")
	b := part(300, 8*time.Millisecond, 4*time.Millisecond, t0.Add(30*time.Millisecond), 0.7, "server gone")
	c := part(100, 2*time.Millisecond, time.Millisecond, t0.Add(10*time.Millisecond), 0.1, "server gone")
	m, err := Merge([]*Result{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 500 || m.hist.TotalCount() != 500 || m.svc.TotalCount() != 500 || m.Scheduled != 500 {
		t.Fatalf("requests %d, latencies %d, service times %d, scheduled %d: want 500 each", m.Requests, m.hist.TotalCount(), m.svc.TotalCount(), m.Scheduled)
	}
	// 300 of the 500 took 8 ms: the merged p50 is theirs, which no
	// average of the parts' p50s (2, 8, 2 ms) would give.
	if m.Latency.P50 < 7900 || m.Latency.P50 > 8100 || m.Uncorrected.P50 < 3900 || m.Uncorrected.P50 > 4100 {
		t.Fatalf("p50 %.0f us, service p50 %.0f us: want 8000 and 4000", m.Latency.P50, m.Uncorrected.P50)
	}
	if m.Errors["timeout"] != 3 || m.FirstErrors["timeout"] != "timeout " {
		t.Fatalf("errors %v, first %v: want 3 timeouts, the first part's message", m.Errors, m.FirstErrors)
	}
	if m.Connections != 6 || m.Loops != 3 || m.IdleRequested != 9 || m.IdleAlive != 6 || m.Rate != 250 {
		t.Fatalf("connections %d loops %d idle %d/%d rate %v: want sums 6 3 9/6 250", m.Connections, m.Loops, m.IdleRequested, m.IdleAlive, m.Rate)
	}
	if m.LoopBusy != 0.7 || m.DurationS != 2 || m.RPS != 250 {
		t.Fatalf("loop busy %v duration %v rps %v: want the busiest 0.7, 2 s, 250/s", m.LoopBusy, m.DurationS, m.RPS)
	}
	if m.Complete || m.Message != "server gone" {
		t.Fatalf("complete %v message %q: want incomplete, the message once", m.Complete, m.Message)
	}
	if len(m.Series) != 2 || m.Series[0].Requests+m.Series[1].Requests != 500 || m.Series[1].P99Us < 7900 {
		t.Fatalf("series %+v: want 2 seconds of 500 requests, p99 8 ms", m.Series)
	}
	if len(m.log.lat) != 2 || m.log.lat[0].StartTimeMs() != t0.UnixMilli() || m.log.lat[1].EndTimeMs() != t0.Add(2030*time.Millisecond).UnixMilli() {
		t.Fatalf("merged intervals: %d, first from %d, last to %d", len(m.log.lat), m.log.lat[0].StartTimeMs(), m.log.lat[1].EndTimeMs())
	}
}

// JSON and interval log written, then read back, then merged: what a
// parent does with its load processes' files.
func TestReadResultRestoresTheHistograms(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_250)
	var parts []*Result
	for _, r := range []*Result{part(100, 2*time.Millisecond, time.Millisecond, t0, 0, ""), part(50, 4*time.Millisecond, time.Millisecond, t0, 0, "")} {
		var js, log bytes.Buffer
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteIntervalLog(&log); err != nil {
			t.Fatal(err)
		}
		back, err := ReadResult(&js, &log)
		if err != nil {
			t.Fatal(err)
		}
		if back.Latency != r.Latency || back.Uncorrected != r.Uncorrected || !back.hist.Equals(r.hist) {
			t.Fatalf("read back latency %+v service %+v, wrote %+v %+v", back.Latency, back.Uncorrected, r.Latency, r.Uncorrected)
		}
		if back.log.start.UnixMilli() != t0.UnixMilli() || len(back.log.lat) != 2 || len(back.log.svc) != 2 {
			t.Fatalf("read back intervals from %v: %d latency, %d service", back.log.start, len(back.log.lat), len(back.log.svc))
		}
		parts = append(parts, back)
	}
	m, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := m.WriteIntervalLog(&log); err != nil {
		t.Fatal(err)
	}
	if _, counts := readLog(t, log.Bytes()); counts[""] != 150 || counts[serviceTag] != 150 {
		t.Fatalf("merged log holds %v, want 150 latencies and 150 service times", counts)
	}
}

func TestReadResultRejectsALogThatDoesNotMatch(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	var js, log bytes.Buffer
	if err := part(100, time.Millisecond, time.Millisecond, t0, 0, "").WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := part(60, time.Millisecond, time.Millisecond, t0, 0, "").WriteIntervalLog(&log); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResult(&js, &log); !errors.Is(err, ErrIntervalLog) {
		t.Fatalf("err = %v, want ErrIntervalLog", err)
	}
}
