package loadgen

import "testing"

func TestRingFIFOAcrossWrapAndGrowth(t *testing.T) {
	r := newRing[int](2)
	next, want := 0, 0
	for round := range 50 {
		for range round % 7 {
			r.push(next)
			next++
		}
		for range round % 5 {
			if r.len() == 0 {
				break
			}
			if got := r.peek(); got != want {
				t.Fatalf("peek = %d, want %d", got, want)
			}
			if got := r.pop(); got != want {
				t.Fatalf("pop = %d, want %d", got, want)
			}
			want++
		}
		if r.len() != next-want {
			t.Fatalf("len = %d, want %d", r.len(), next-want)
		}
	}
	r.clear()
	if r.len() != 0 {
		t.Fatalf("len after clear = %d", r.len())
	}
}
