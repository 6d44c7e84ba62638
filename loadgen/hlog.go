package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// serviceTag tags the service-time intervals of an interval log; the
// latency intervals are untagged, which is what HdrHistogram's tools read
// by default.
const serviceTag = "service"

// intervalLog is the measured window second by second, each interval a
// histogram stamped with its start and end (ms since the epoch): what
// WriteIntervalLog writes, ReadResult reads and Merge merges.
type intervalLog struct {
	start time.Time                 // when the window opened
	lat   []*hdrhistogram.Histogram // Latency, one per second
	svc   []*hdrhistogram.Histogram // Uncorrected in open loop; nil in closed loop, where it is lat
}

// service is the service-time intervals: lat's in closed loop.
func (l *intervalLog) service() []*hdrhistogram.Histogram {
	if l.svc == nil {
		return l.lat
	}
	return l.svc
}

// newIntervalLog gathers the loops' seconds into one interval per second
// of the window that ran (window long from start), and of any later
// second holding a result the window counted (an answer that arrived as
// the run was cut short): the intervals always add up to the whole run's
// histograms. The loops have stopped, so their histograms are adopted
// rather than copied.
func newIntervalLog(recs []*recorder, start time.Time, window time.Duration, openLoop bool) *intervalLog {
	n := int((window + time.Second - 1) / time.Second)
	for _, rec := range recs {
		for i := len(rec.series) - 1; i >= n; i-- {
			if rec.series[i].hist != nil {
				n = i + 1
				break
			}
		}
	}
	l := &intervalLog{start: start}
	end := start.Add(window)
	for i := range n {
		var lat, svc *hdrhistogram.Histogram
		for _, rec := range recs {
			if i >= len(rec.series) {
				continue
			}
			lat = mergeInto(lat, rec.series[i].hist)
			svc = mergeInto(svc, rec.series[i].svc)
		}
		from := start.Add(time.Duration(i) * time.Second)
		to := from.Add(time.Second)
		if end.After(from) && end.Before(to) {
			to = end
		}
		l.lat = append(l.lat, stamp(orEmpty(lat), from, to))
		if openLoop {
			l.svc = append(l.svc, stamp(orEmpty(svc), from, to))
		}
	}
	return l
}

// mergeInto adds from to into, adopting from when into is nil.
func mergeInto(into, from *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	switch {
	case from == nil:
		return into
	case into == nil:
		return from
	}
	into.Merge(from)
	return into
}

func orEmpty(h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if h == nil {
		return newHistogram()
	}
	return h
}

func stamp(h *hdrhistogram.Histogram, from, to time.Time) *hdrhistogram.Histogram {
	h.SetStartTimeMs(from.UnixMilli())
	h.SetEndTimeMs(to.UnixMilli())
	return h
}

// WriteIntervalLog writes the window's latency as an HdrHistogram
// interval log, in the format of HdrHistogram's HistogramLogWriter (log
// format 1.3): a StartTime and a BaseTime line, then one interval per
// second of the measured window (warm-up excluded), "start,length,max,
// compressed histogram", its start relative to BaseTime. Untagged
// intervals hold Latency; in open loop, intervals tagged "service" hold
// the service time (Uncorrected). Values are in microseconds, so
// HdrHistogram's HistogramLogProcessor prints milliseconds with
// -outputValueUnitRatio 1000, and the max column (the writer divides by
// 10^6) is in seconds. Logs of runs made side by side merge interval by
// interval (Merge, or HdrHistogram's own tools). It needs a run made with
// Options.IntervalLog, or a Result from ReadResult or Merge.
func (r *Result) WriteIntervalLog(w io.Writer) error {
	if r.log == nil {
		return ErrNoIntervals
	}
	bw := bufio.NewWriter(w)
	lw := hdrhistogram.NewHistogramLogWriter(bw)
	startMs := r.log.start.UnixMilli()
	// BaseTime is written in whole seconds: a base on a second boundary
	// keeps the relative timestamps exact when read back.
	base := startMs - startMs%1000
	lw.SetBaseTime(base)
	err := lw.OutputComment("[c10k load " + r.URL + ": latency in microseconds, from the intended send time in open loop; Tag=service: from the actual send]")
	for _, f := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(startMs) },
		func() error { return lw.OutputBaseTime(base) },
		lw.OutputLegend,
	} {
		if err == nil {
			err = f()
		}
	}
	for i, h := range r.log.lat {
		if err == nil {
			err = lw.OutputIntervalHistogram(h)
		}
		if err == nil && r.log.svc != nil {
			s := r.log.svc[i]
			s.SetTag(serviceTag)
			err = lw.OutputIntervalHistogram(s)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("loadgen: writing interval log: %w", err)
	}
	return nil
}

// ReadResult reads back a result written by WriteJSON together with the
// interval log WriteIntervalLog wrote for it, which restores what the
// JSON lacks for Merge, WriteHgrm and WriteIntervalLog: the histograms.
// The log must hold exactly the result's requests.
func ReadResult(jsonIn, logIn io.Reader) (*Result, error) {
	var r Result
	if err := json.NewDecoder(jsonIn).Decode(&r); err != nil {
		return nil, fmt.Errorf("loadgen: reading result: %w", err)
	}
	l, err := readIntervalLog(logIn)
	if err != nil {
		return nil, err
	}
	if !r.OpenLoop {
		l.svc = nil
	} else if len(l.svc) != len(l.lat) {
		return nil, fmt.Errorf("%w: %d latency intervals but %d service ones in open loop", ErrIntervalLog, len(l.lat), len(l.svc))
	}
	r.log = l
	r.hist, r.svc = newHistogram(), newHistogram()
	for i, h := range l.lat {
		r.hist.Merge(h)
		r.svc.Merge(l.service()[i])
	}
	if n := r.hist.TotalCount(); n != r.Requests {
		return nil, fmt.Errorf("%w: it holds %d latencies, the result %d requests", ErrIntervalLog, n, r.Requests)
	}
	return &r, nil
}

// readIntervalLog reads every interval with HdrHistogram's own reader:
// the untagged ones as latency, those tagged "service" as service time;
// other tags are skipped. The window starts with the first interval.
func readIntervalLog(in io.Reader) (*intervalLog, error) {
	lr := hdrhistogram.NewHistogramLogReader(in)
	l := &intervalLog{}
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIntervalLog, err)
		}
		if h == nil {
			break
		}
		switch h.Tag() {
		case "":
			l.lat = append(l.lat, h)
		case serviceTag:
			l.svc = append(l.svc, h)
		}
	}
	if len(l.lat) > 0 {
		l.start = time.UnixMilli(l.lat[0].StartTimeMs())
	}
	return l, nil
}
