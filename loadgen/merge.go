package loadgen

import (
	"fmt"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines the results of runs made side by side against one target,
// each with its share of the load (c10k load -procs), into the result of
// the whole:
//   - counts, errors, bytes, connections, loops and the idle pool summed;
//     the first message of each error kind from the first part that met it;
//   - the histograms merged, so the percentiles are those of every request
//     (never an average of percentiles), and the intervals merged second
//     by second, each second of the window with the same second of every
//     part;
//   - DurationS the longest part's window, RPS the merged requests over it;
//   - LoopBusy, MaxLagUs and the idle pool's opening time the worst part's;
//   - Complete only if every part is, with each distinct Message kept.
//
// Each part needs its histograms: a Result from Run with
// Options.IntervalLog, from ReadResult, or from Merge; ErrNoIntervals
// otherwise. Procs is left to the caller.
func Merge(parts []*Result) (*Result, error) {
	m := &Result{Complete: true, hist: newHistogram(), svc: newHistogram(), log: &intervalLog{}}
	var errs, idleErrs [numKinds]int64
	var first, idleFirst [numKinds]string
	var msgs []string
	for i, p := range parts {
		if p.hist == nil || p.svc == nil || p.log == nil {
			return nil, fmt.Errorf("merging part %d: %w", i, ErrNoIntervals)
		}
		if i == 0 {
			m.URL, m.FirstSource, m.FileLimit = p.URL, p.FirstSource, p.FileLimit
		}
		m.Requests += p.Requests
		m.DurationS = max(m.DurationS, p.DurationS)
		m.OpenLoop = m.OpenLoop || p.OpenLoop
		m.Rate += p.Rate
		m.Scheduled += p.Scheduled
		m.Late += p.Late
		m.MaxLagUs = max(m.MaxLagUs, p.MaxLagUs)
		m.LoopBusy = max(m.LoopBusy, p.LoopBusy)
		m.BytesRead += p.BytesRead
		m.Connections += p.Connections
		m.Pipeline = max(m.Pipeline, p.Pipeline)
		m.IdleRequested += p.IdleRequested
		m.IdleOpened += p.IdleOpened
		m.IdleAlive += p.IdleAlive
		m.IdleOpenS = max(m.IdleOpenS, p.IdleOpenS)
		m.WarmupS = max(m.WarmupS, p.WarmupS)
		m.Loops += p.Loops
		m.SpinUs = max(m.SpinUs, p.SpinUs)
		m.Sources += p.Sources
		m.FirstSource = min(m.FirstSource, p.FirstSource)
		m.FileLimit = min(m.FileLimit, p.FileLimit)
		addKinds(&errs, &first, p.Errors, p.FirstErrors)
		addKinds(&idleErrs, &idleFirst, p.IdleErrors, p.IdleFirstErrors)
		m.hist.Merge(p.hist)
		m.svc.Merge(p.svc)
		m.Complete = m.Complete && p.Complete
		if p.Message != "" && !slices.Contains(msgs, p.Message) {
			msgs = append(msgs, p.Message)
		}
	}
	m.Errors, m.FirstErrors = kindMap(&errs), firstMap(&first, &errs)
	m.IdleErrors, m.IdleFirstErrors = kindMap(&idleErrs), firstMap(&idleFirst, &idleErrs)
	if m.DurationS > 0 {
		m.RPS = float64(m.Requests) / m.DurationS
	}
	m.Latency, m.Uncorrected = summarize(m.hist), summarize(m.svc)
	m.Message = strings.Join(msgs, "; ")
	m.mergeIntervals(parts)
	m.mergeSeries(parts)
	return m, nil
}

// addKinds adds one part's counts by kind, and its first messages for the
// kinds no earlier part met.
func addKinds(counts *[numKinds]int64, first *[numKinds]string, partCounts map[string]int64, partFirst map[string]string) {
	for _, k := range ErrorKinds() {
		counts[k] += partCounts[k.String()]
		if first[k] == "" {
			first[k] = partFirst[k.String()]
		}
	}
}

// mergeIntervals merges the parts' intervals by index: second i of the
// whole is second i of every part's window, stamped from the earliest
// part's start to the latest part's end. The parts' windows open within
// moments of each other, each after its own idle pool and connections.
func (r *Result) mergeIntervals(parts []*Result) {
	n := 0
	for _, p := range parts {
		n = max(n, len(p.log.lat))
		if s := p.log.start; !s.IsZero() && (r.log.start.IsZero() || s.Before(r.log.start)) {
			r.log.start = s
		}
	}
	for i := range n {
		lat := newHistogram()
		var svc *hdrhistogram.Histogram
		if r.OpenLoop {
			svc = newHistogram()
		}
		var from, to int64
		for _, p := range parts {
			if i >= len(p.log.lat) {
				continue
			}
			h := p.log.lat[i]
			lat.Merge(h)
			if svc != nil {
				svc.Merge(p.log.service()[i])
			}
			if from == 0 || h.StartTimeMs() < from {
				from = h.StartTimeMs()
			}
			to = max(to, h.EndTimeMs())
		}
		r.log.lat = append(r.log.lat, stamp(lat, time.UnixMilli(from), time.UnixMilli(to)))
		if svc != nil {
			r.log.svc = append(r.log.svc, stamp(svc, time.UnixMilli(from), time.UnixMilli(to)))
		}
	}
}

// mergeSeries adds the parts' seconds by index, and takes each second's
// p99 from the merged interval.
func (r *Result) mergeSeries(parts []*Result) {
	n := 0
	for _, p := range parts {
		n = max(n, len(p.Series))
	}
	r.Series = make([]Point, n)
	for i := range r.Series {
		pt := &r.Series[i]
		pt.T = i
		for _, p := range parts {
			if i < len(p.Series) {
				pt.Requests += p.Series[i].Requests
				pt.Errors += p.Series[i].Errors
			}
		}
		if i < len(r.log.lat) && r.log.lat[i].TotalCount() > 0 {
			pt.P99Us = r.log.lat[i].ValueAtPercentile(99)
		}
	}
}
