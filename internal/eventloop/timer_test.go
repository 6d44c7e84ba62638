package eventloop

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestTimersHeapOrder(t *testing.T) {
	var tm timers
	r := rand.New(rand.NewPCG(1, 2))
	type armed struct {
		when int64
		seq  int
	}
	var want []armed
	ids := map[int]TimerID{}
	for i := 0; i < 500; i++ {
		w := int64(r.IntN(100)) // many equal deadlines: tie order matters
		ids[i] = tm.arm(w, nil, nil)
		want = append(want, armed{w, i})
	}
	// Cancel every third one.
	kept := want[:0]
	for _, a := range want {
		if a.seq%3 == 0 {
			if !tm.cancel(ids[a.seq]) {
				t.Fatalf("cancel %d: not pending", a.seq)
			}
			continue
		}
		kept = append(kept, a)
	}
	slices.SortStableFunc(kept, func(a, b armed) int { return int(a.when - b.when) })
	var got []int64
	for {
		when, ok := tm.next()
		if !ok {
			break
		}
		if _, _, ok := tm.pop(when, tm.seq); !ok {
			t.Fatal("pop of a due timer failed")
		}
		got = append(got, when)
	}
	if len(got) != len(kept) {
		t.Fatalf("popped %d timers, want %d", len(got), len(kept))
	}
	for i := range got {
		if got[i] != kept[i].when {
			t.Fatalf("timer %d: deadline %d, want %d", i, got[i], kept[i].when)
		}
	}
}

func TestTimersCancel(t *testing.T) {
	var tm timers
	fired := tm.arm(1, nil, nil)
	if _, _, ok := tm.pop(1, tm.seq); !ok {
		t.Fatal("due timer not popped")
	}
	reused := tm.arm(5, nil, nil) // takes the freed slot
	tests := []struct {
		name string
		id   TimerID
		want bool
	}{
		{"sad: zero id", 0, false},
		{"sad: fired, slot reused", fired, false},
		{"sad: out of range", TimerID(1 << 20), false},
		{"happy: pending", reused, true},
		{"sad: already cancelled", reused, false},
	}
	for _, tt := range tests {
		if got := tm.cancel(tt.id); got != tt.want {
			t.Errorf("%s: cancel = %v, want %v", tt.name, got, tt.want)
		}
	}
	if tm.len() != 0 {
		t.Errorf("%d timers left", tm.len())
	}
}

func TestTimersNotDueStay(t *testing.T) {
	var tm timers
	tm.arm(10, nil, nil)
	if _, _, ok := tm.pop(9, tm.seq); ok {
		t.Error("timer popped before its deadline")
	}
	seq := tm.seq
	tm.arm(0, nil, nil)
	if _, _, ok := tm.pop(100, seq); ok {
		t.Error("timer armed after the pass began was popped in it")
	}
}

func TestAfterFuncFiresInOrderAndCancelled(t *testing.T) {
	l := newLoop(t)
	var order []int
	done := make(chan struct{})
	start := time.Now()
	// Armed out of order, two with the same delay, one cancelled.
	l.AfterFunc(60*time.Millisecond, func() { order = append(order, 3) })
	l.AfterFunc(20*time.Millisecond, func() { order = append(order, 1) })
	l.AfterFunc(40*time.Millisecond, func() { order = append(order, 2) })
	l.AfterFunc(40*time.Millisecond, func() { order = append(order, 22) })
	cancelled := l.AfterFunc(30*time.Millisecond, func() { order = append(order, -1) })
	if !l.CancelTimer(cancelled) {
		t.Fatal("CancelTimer of a pending timer returned false")
	}
	l.AfterFunc(80*time.Millisecond, func() { close(done) })
	onLoop := running(t, l)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("timers did not fire")
	}
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Errorf("last timer fired after %v, before its 80ms deadline", el)
	}
	var got []int
	onLoop(func() { got = slices.Clone(order) })
	if want := []int{1, 2, 22, 3}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
}

func TestTimerRearmingItselfDoesNotStarveIO(t *testing.T) {
	l := newLoop(t)
	var spins int
	var spin func()
	spin = func() { spins++; l.AfterFunc(0, spin) }
	l.AfterFunc(0, spin)
	onLoop := running(t, l)
	// The pipe behind onLoop is I/O: it must still get its turn.
	onLoop(func() {})
	onLoop(func() {
		if spins == 0 {
			t.Error("zero-delay timer never fired")
		}
	})
}
