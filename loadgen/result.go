package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what one run measured. Its JSON form is the contract the
// harness decodes (DESIGN.md: requests, errors, duration_s, rps,
// latency_us, open_loop, idle_alive); fields are only ever added.
type Result struct {
	// URL is the target.
	URL string `json:"url"`
	// Requests is the number of complete responses in the measured window,
	// whatever their status (non-2xx/3xx are also counted under errors).
	// In open loop these are the requests scheduled inside the window.
	Requests int64 `json:"requests"`
	// Errors counts failures by kind: connect, read, write, timeout,
	// status, parse. Every kind is present, zero or not.
	Errors map[string]int64 `json:"errors"`
	// FirstErrors holds, for each kind of error counted in Errors, the
	// first message of that kind the run met: what a user acts on, e.g.
	// "connect: connection refused" or "wire: malformed response: bad
	// chunk size line at \"zz\\r\\n\"". Only the first of each kind
	// is kept, so failing requests cost no formatting.
	FirstErrors map[string]string `json:"first_errors"`
	// DurationS is the measured window in seconds (warm-up excluded);
	// shorter than asked when the run ended early.
	DurationS float64 `json:"duration_s"`
	// RPS is Requests / DurationS.
	RPS float64 `json:"rps"`
	// Latency is in microseconds. Open loop: from each request's intended
	// send time to its last response byte, so server stalls are counted
	// in full (no coordinated omission). Closed loop: from the actual send.
	Latency Latency `json:"latency_us"`
	// Uncorrected is the service time in microseconds: from the actual
	// send to the last response byte. In open loop the gap between this
	// and Latency is the time requests waited for the schedule to catch up.
	Uncorrected Latency `json:"uncorrected_latency_us"`
	// OpenLoop is true for a constant-rate run (-rate).
	OpenLoop bool `json:"open_loop"`
	// Rate is the asked global rate in requests per second; 0 in closed loop.
	Rate float64 `json:"rate"`
	// Scheduled is, in open loop, how many requests the schedule put in
	// the measured window; Requests falls short of it only by errors.
	Scheduled int64 `json:"scheduled"`
	// Late counts open-loop requests sent more than 1 ms after their
	// intended time (the generator or the connections could not keep up).
	Late int64 `json:"late"`
	// MaxLagUs is the longest an open-loop request waited to be sent, in
	// microseconds.
	MaxLagUs int64 `json:"max_lag_us"`
	// LoopBusy is the busiest event loop's share of the measured window
	// spent working rather than waiting for events (0 to 1; 0 when the
	// window did not run to its end). Near 1 the generator itself limits
	// the load. Unlike its CPU time, it stays true when a loop polls for
	// an imminent request instead of sleeping (Options.Spin).
	LoopBusy float64 `json:"loop_busy"`
	// BytesRead is the response bytes of the counted requests.
	BytesRead int64 `json:"bytes_read"`
	// Connections is the number of active connections used (-c, after any
	// cap for the file limit).
	Connections int `json:"connections"`
	// Pipeline is the number of requests in flight per active connection.
	Pipeline int `json:"pipeline"`
	// IdleRequested is -idle as asked; IdleOpened how many of them were
	// opened and answered their one request; IdleAlive how many of those
	// were still open at the end. A server closing idle connections is
	// data, not an error.
	IdleRequested int `json:"idle_requested"`
	IdleOpened    int `json:"idle_opened"`
	IdleAlive     int `json:"idle_alive"`
	// IdleErrors counts failures while opening the idle pool, by kind.
	IdleErrors map[string]int64 `json:"idle_errors"`
	// IdleFirstErrors is FirstErrors for IdleErrors.
	IdleFirstErrors map[string]string `json:"idle_first_errors"`
	// IdleOpenS is how long opening the idle pool took, in seconds.
	IdleOpenS float64 `json:"idle_open_s"`
	// ReleasedS is, for a run of several processes (c10k load -procs,
	// -hosts), the seconds from the command's start until they were all
	// connected and their loads started together: the warm-up begins
	// then. Starting processes on other hosts takes seconds (ssh, copying
	// the binary), which a caller placing the window must count. 0 for one
	// process.
	ReleasedS float64 `json:"released_s,omitempty"`
	// WarmupS is the warm-up that preceded the window, in seconds.
	WarmupS float64 `json:"warmup_s"`
	// Loops is the number of event loops (OS threads) that drove the load.
	Loops int `json:"loops"`
	// SpinUs is how close, in microseconds, an open-loop request had to
	// be due for a loop to poll for it instead of sleeping (Options.Spin);
	// 0: never, also when the loops had no spare scheduler slot.
	SpinUs int64 `json:"spin_us"`
	// Sources is the number of 127.0.0.x source addresses used, from
	// 127.0.0.(1+FirstSource).
	Sources     int `json:"sources"`
	FirstSource int `json:"first_source"`
	// FileLimit is RLIMIT_NOFILE (soft, after raising) during the run.
	FileLimit uint64 `json:"file_limit"`
	// Series has one point per second of the window.
	Series []Point `json:"series"`
	// Complete is false when the run ended early (server gone, cancelled);
	// the figures then cover only the part that ran.
	Complete bool `json:"complete"`
	// Message says why a run ended early, or what was capped; empty if
	// nothing needs saying.
	Message string `json:"message"`
	// Procs holds, for a run made by several processes side by side
	// (c10k load -procs), each process's own result, in order; the fields
	// above are then their merge (see Merge). A process that failed has
	// Complete false and its Message says how. Absent for one process.
	Procs []*Result `json:"procs,omitempty"`
	// Host is where a process of such a run ran (c10k load -hosts), as
	// given; empty for this machine.
	Host string `json:"host,omitempty"`

	hist *hdrhistogram.Histogram // all of Latency, for WriteHgrm and Merge
	svc  *hdrhistogram.Histogram // all of Uncorrected, for Merge
	log  *intervalLog            // second by second; nil without Options.IntervalLog
}

// Latency is a latency distribution summary in microseconds. The
// percentiles are whole microseconds (HdrHistogram values) held as float64,
// like Mean: the JSON is the same as for integers, and the harness, which
// decodes this type, takes medians and ratios of them without converting.
type Latency struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	P9999 float64 `json:"p9999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Point is one second of the run: T is the second's start, in seconds
// from the start of the window; in open loop requests are binned by their
// intended send time.
type Point struct {
	T        int   `json:"t"`
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	P99Us    int64 `json:"p99_us"`
}

// TotalErrors sums Errors over every kind.
func (r *Result) TotalErrors() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Succeeded is the number of requests answered with a 2xx or 3xx status,
// the idle pool's included. When it is 0 nothing the server did can be
// measured, and c10k load exits with status 3.
func (r *Result) Succeeded() int64 {
	return r.Requests - r.Errors[ErrStatus.String()] +
		int64(r.IdleOpened) - r.IdleErrors[ErrStatus.String()]
}

// firstMap keeps the first message of each kind that was counted.
func firstMap(first *[numKinds]string, counts *[numKinds]int64) map[string]string {
	m := make(map[string]string)
	for k, msg := range first {
		if msg != "" && counts[k] > 0 {
			m[ErrorKind(k).String()] = msg
		}
	}
	return m
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("loadgen: writing json: %w", err)
	}
	return nil
}

// WriteHgrm writes the latency distribution in HdrHistogram's percentile
// text format (values in milliseconds, 5 ticks per half distance, as wrk2
// prints it), ready for HdrHistogram's plotter.
func (r *Result) WriteHgrm(w io.Writer) error {
	h := r.hist
	if h == nil {
		h = newHistogram()
	}
	if _, err := h.PercentilesPrint(w, 5, float64(time.Millisecond/time.Microsecond)); err != nil {
		return fmt.Errorf("loadgen: writing hgrm: %w", err)
	}
	return nil
}

func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentiles([]float64{50, 90, 99, 99.9, 99.99})
	return Latency{
		P50:   float64(v[50]),
		P90:   float64(v[90]),
		P99:   float64(v[99]),
		P999:  float64(v[99.9]),
		P9999: float64(v[99.99]),
		Max:   float64(h.Max()),
		Mean:  h.Mean(),
	}
}

func kindMap(counts *[numKinds]int64) map[string]int64 {
	m := make(map[string]int64, numKinds)
	for k, n := range counts {
		m[ErrorKind(k).String()] = n
	}
	return m
}

// merge folds the loops' recorders into r's statistics. window is the
// length of the measured window that actually ran.
func (r *Result) merge(recs []*recorder, window time.Duration) {
	lat, svc := newHistogram(), newHistogram()
	var errs [numKinds]int64
	var first [numKinds]string
	nsec := 0
	for _, rec := range recs {
		lat.Merge(rec.lat)
		svc.Merge(rec.svc)
		r.Requests += rec.requests
		r.BytesRead += rec.bytes
		r.Scheduled += rec.sched
		r.Late += rec.late
		r.MaxLagUs = max(r.MaxLagUs, rec.maxLag/int64(time.Microsecond))
		if b, ok := rec.busy(); ok {
			r.LoopBusy = max(r.LoopBusy, b)
		}
		for k, n := range rec.errs {
			errs[k] += n
			if first[k] == "" {
				first[k] = rec.first[k]
			}
		}
		nsec = max(nsec, len(rec.series))
	}
	// Only the seconds that ran; a partial last second is kept.
	nsec = min(nsec, int((window+time.Second-1)/time.Second))
	r.Series = make([]Point, nsec)
	for i := range r.Series {
		p := &r.Series[i]
		p.T = i
		var h *hdrhistogram.Histogram
		for _, rec := range recs {
			if i >= len(rec.series) {
				continue
			}
			s := rec.series[i]
			p.Requests += s.requests
			p.Errors += s.errors
			if s.hist != nil {
				if h == nil {
					h = hdrhistogram.New(histLowest, histHighest, secondHistDigit)
				}
				h.Merge(s.hist)
			}
		}
		if h != nil {
			p.P99Us = h.ValueAtPercentile(99)
		}
	}
	r.hist, r.svc = lat, svc
	r.Latency = summarize(lat)
	r.Uncorrected = summarize(svc)
	r.Errors = kindMap(&errs)
	r.FirstErrors = firstMap(&first, &errs)
	r.DurationS = window.Seconds()
	if r.DurationS > 0 {
		r.RPS = float64(r.Requests) / r.DurationS
	}
}
