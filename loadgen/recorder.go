package loadgen

import (
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: 1 us to 60 s at 3 significant digits, as wrk2 and
// the issue ask. The per-second series only needs a p99 per second, so its
// histograms use 2 digits (20 KiB each instead of 140 KiB).
const (
	histLowest      = 1
	histHighest     = int64(60 * time.Second / time.Microsecond)
	histDigits      = 3
	secondHistDigit = 2
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// recorder holds one loop's statistics. It is touched only by its loop, so
// the hot path takes no lock; Run merges the recorders once the loops stop.
//
// Times are nanoseconds since the run's base instant. A result belongs to
// the measured window when its reference time does: the intended send time
// in open loop (so the count is exactly what the schedule asked for in the
// window), the completion time in closed loop (as wrk counts).
type recorder struct {
	from, to int64 // measured window [from, to)
	openLoop bool
	// intervals: each second keeps full-precision histograms, its service
	// times too in open loop, for the interval log (Options.IntervalLog).
	intervals bool

	lat      *hdrhistogram.Histogram // from intended send time (== svc in closed loop)
	svc      *hdrhistogram.Histogram // from actual send time: what the server alone took
	requests int64
	sched    int64 // open loop: requests the schedule put in the window
	bytes    int64
	late     int64 // open loop: requests sent more than LateThreshold behind schedule
	maxLag   int64 // ns
	errs     [numKinds]int64
	first    [numKinds]string // the first message of each kind (worker.noteErr)
	series   []second

	// The loop's clock and idle time when the window opened and closed.
	winOpen, winClose   int64 // ns; winClose 0 while the window is open
	idleOpen, idleClose time.Duration
}

func (r *recorder) openWindow(now int64, idle time.Duration) {
	r.winOpen, r.idleOpen = now, idle
}

func (r *recorder) closeWindow(now int64, idle time.Duration) {
	if r.winOpen > 0 {
		r.winClose, r.idleClose = now, idle
	}
}

// busy is the share of the window the loop spent working rather than
// waiting, and false when the window did not run to its end.
func (r *recorder) busy() (float64, bool) {
	span := r.winClose - r.winOpen
	if r.winClose == 0 || span <= 0 {
		return 0, false
	}
	idle := float64(r.idleClose - r.idleOpen)
	return min(max(1-idle/float64(span), 0), 1), true
}

// second is one bucket of the time series.
type second struct {
	requests int64
	errors   int64
	hist     *hdrhistogram.Histogram // latency; allocated on first use
	svc      *hdrhistogram.Histogram // open loop with intervals: service time
}

func newRecorder(from, to int64, openLoop bool) *recorder {
	n := (to - from + int64(time.Second) - 1) / int64(time.Second)
	return &recorder{
		from:     from,
		to:       to,
		openLoop: openLoop,
		lat:      newHistogram(),
		svc:      newHistogram(),
		series:   make([]second, max(n, 0)),
	}
}

// newSecondHist is a histogram for one second's latencies: as precise as
// the run's with intervals, else just enough for the second's p99.
func (r *recorder) newSecondHist() *hdrhistogram.Histogram {
	if r.intervals {
		return newHistogram()
	}
	return hdrhistogram.New(histLowest, histHighest, secondHistDigit)
}

func (r *recorder) inWindow(t int64) bool { return t >= r.from && t < r.to }

func (r *recorder) secondOf(t int64) *second {
	i := (t - r.from) / int64(time.Second)
	if i < 0 || i >= int64(len(r.series)) {
		return nil
	}
	return &r.series[i]
}

// toMicros converts a duration in ns to a value the histograms accept:
// anything under a microsecond is 1 us, anything over 60 s is 60 s.
func toMicros(ns int64) int64 {
	us := ns / int64(time.Microsecond)
	return min(max(us, histLowest), histHighest)
}

// response records one complete response. intended is the reference time
// (equal to sent in closed loop), sent when its bytes were written, now
// when its last byte was read.
func (r *recorder) response(intended, sent, now int64, size int, status int) {
	ref := now
	if r.openLoop {
		ref = intended
	}
	if !r.inWindow(ref) {
		return
	}
	r.requests++
	r.bytes += int64(size)
	us := toMicros(now - intended)
	_ = r.lat.RecordValue(us) // cannot fail: toMicros clamps to the range
	_ = r.svc.RecordValue(toMicros(now - sent))
	s := r.secondOf(ref)
	s.requests++
	if s.hist == nil {
		s.hist = r.newSecondHist()
	}
	_ = s.hist.RecordValue(us)
	if r.intervals && r.openLoop {
		if s.svc == nil {
			s.svc = newHistogram()
		}
		_ = s.svc.RecordValue(toMicros(now - sent))
	}
	if status < 200 || status > 399 {
		r.countAt(ref, ErrStatus, 1)
		if r.first[ErrStatus] == "" {
			r.first[ErrStatus] = "HTTP status " + strconv.Itoa(status)
		}
	}
}

// scheduled records, in open loop, a request coming due at intended.
func (r *recorder) scheduled(intended int64) {
	if r.inWindow(intended) {
		r.sched++
	}
}

// sent records, in open loop, how far behind schedule a request went out.
func (r *recorder) sent(intended, now int64) {
	if !r.inWindow(intended) {
		return
	}
	lag := now - intended
	if lag > int64(LateThreshold) {
		r.late++
	}
	r.maxLag = max(r.maxLag, lag)
}

// countAt records n errors of kind k whose reference time is t: the
// intended time of a lost request in open loop, when it is known, and the
// moment of failure otherwise.
func (r *recorder) countAt(t int64, k ErrorKind, n int) {
	if n <= 0 || !r.inWindow(t) {
		return
	}
	r.errs[k] += int64(n)
	r.secondOf(t).errors += int64(n)
}
