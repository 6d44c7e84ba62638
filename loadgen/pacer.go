package loadgen

import (
	"math"
	"time"
)

// Pacer is an open-loop schedule: Offset(n) is when the n-th request
// (counting from 0) is due, measured from the start of the load. Offsets
// never decrease. The schedule is absolute, so a generator that falls
// behind keeps it (every request is still sent, and its latency counted
// from its intended time) instead of drifting or skipping.
type Pacer interface {
	Offset(n uint64) time.Duration
}

// ConstantPacer spaces requests evenly at Rate per second.
type ConstantPacer struct {
	Rate float64 // requests per second, > 0
}

// Offset returns n/Rate seconds. It is computed from n, not accumulated, so
// rounding never drifts the schedule over a long run.
func (p ConstantPacer) Offset(n uint64) time.Duration {
	if p.Rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(float64(n) * 1e9 / p.Rate)
}

// stride is the share of a global schedule one of k loops sends: loop i
// takes requests i, i+k, i+2k... so the loops interleave and together keep
// the global rate exactly, without talking to each other.
type stride struct {
	p     Pacer
	step  uint64
	phase uint64
}

// offset is when this loop's n-th request is due.
func (s stride) offset(n uint64) time.Duration {
	return s.p.Offset(n*s.step + s.phase)
}

// count returns how many of this loop's requests are due strictly before
// end, found by binary search since the pacer only gives offsets.
func (s stride) count(end time.Duration) uint64 {
	lo, hi := uint64(0), uint64(1)
	for s.offset(hi) < end {
		lo = hi
		hi *= 2
		if hi > 1<<50 {
			return hi
		}
	}
	if s.offset(lo) >= end {
		return 0
	}
	// Invariant: offset(lo) < end <= offset(hi).
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if s.offset(mid) < end {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
