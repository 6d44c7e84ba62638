package loadgen

import (
	"sort"
	"testing"
	"time"
)

func TestConstantPacerIsEvenAndDriftFree(t *testing.T) {
	p := ConstantPacer{Rate: 3000}
	if got := p.Offset(3000); got != time.Second {
		t.Fatalf("Offset(3000) = %v, want 1s", got)
	}
	// Computed from n, not accumulated: a million requests in, still exact.
	if got := p.Offset(3_000_000); got != 1000*time.Second {
		t.Fatalf("Offset(3e6) = %v, want 1000s", got)
	}
	for n := uint64(1); n < 100; n++ {
		gap := p.Offset(n) - p.Offset(n-1)
		if gap < 333*time.Microsecond || gap > 334*time.Microsecond {
			t.Fatalf("gap %d = %v, want ~333us", n, gap)
		}
	}
}

func TestStridesInterleaveToTheGlobalSchedule(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		loops int
		d     time.Duration
		want  uint64
	}{
		{"happy one loop", 1000, 1, time.Second, 1000},
		{"happy two loops", 2000, 2, 2 * time.Second, 4000},
		{"happy uneven split", 1000, 3, time.Second, 1000},
		{"happy more loops than requests", 2, 4, time.Second, 2},
		{"happy fractional rate", 2.5, 2, 2 * time.Second, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ConstantPacer{Rate: tt.rate}
			var all []time.Duration
			var total uint64
			for i := range tt.loops {
				s := stride{p: p, step: uint64(tt.loops), phase: uint64(i)}
				n := s.count(tt.d)
				total += n
				for k := range n {
					all = append(all, s.offset(k))
				}
				if n > 0 && s.offset(n-1) >= tt.d {
					t.Fatalf("loop %d: last offset %v not before %v", i, s.offset(n-1), tt.d)
				}
				if s.offset(n) < tt.d {
					t.Fatalf("loop %d: offset %v after the count is still before %v", i, s.offset(n), tt.d)
				}
			}
			if total != tt.want {
				t.Fatalf("total = %d, want %d (rate x duration)", total, tt.want)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			for k, off := range all {
				if off != p.Offset(uint64(k)) {
					t.Fatalf("merged schedule[%d] = %v, want %v", k, off, p.Offset(uint64(k)))
				}
			}
		})
	}
}

func TestStrideCountSad(t *testing.T) {
	s := stride{p: ConstantPacer{Rate: 10}, step: 1}
	if n := s.count(0); n != 0 {
		t.Fatalf("count(0) = %d, want 0", n)
	}
	// A zero rate schedules nothing, rather than everything at once.
	if n := (stride{p: ConstantPacer{Rate: 0}, step: 1}).count(time.Second); n != 0 {
		t.Fatalf("zero rate count = %d, want 0", n)
	}
}
