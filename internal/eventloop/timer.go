package eventloop

// TimerID names a timer armed by AfterFunc (or by Conn.ResumeAfter). The zero
// TimerID is never issued, so it can stand for "no timer".
type TimerID uint64

// timer is one slot of the timer slab. A slot is reused once its timer has
// fired or been cancelled; gen tells the reuses apart, so a stale TimerID
// cancels nothing.
type timer struct {
	when int64  // deadline on the loop clock, in ns
	seq  uint64 // arming order: equal deadlines fire first-armed first
	f    func()
	conn *Conn // set instead of f by ResumeAfter, so that path needs no closure
	gen  uint32
	pos  int32 // index in heap; -1 while the slot is free
}

// timers is a min-heap of deadlines over a slab of timer slots. Ae keeps its
// timers in a list and scans it linearly; a heap keeps arming, cancelling and
// finding the nearest deadline logarithmic with thousands of per-connection
// timers. Slots, free list and heap are reused, so arming allocates nothing
// once they have grown to the peak number of live timers.
type timers struct {
	slots []timer
	free  []int32
	heap  []int32 // slot indices ordered by (when, seq)
	seq   uint64
}

func (t *timers) len() int { return len(t.heap) }

func (t *timers) arm(when int64, f func(), c *Conn) TimerID {
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.slots = append(t.slots, timer{pos: -1})
		i = int32(len(t.slots) - 1)
	}
	t.seq++
	s := &t.slots[i]
	s.when, s.seq, s.f, s.conn = when, t.seq, f, c
	s.pos = int32(len(t.heap))
	t.heap = append(t.heap, i)
	t.up(int(s.pos))
	return TimerID(uint64(s.gen)<<32 | uint64(i+1))
}

// cancel disarms id and reports whether it was still pending.
func (t *timers) cancel(id TimerID) bool {
	i := int64(uint32(id)) - 1
	if i < 0 || i >= int64(len(t.slots)) {
		return false
	}
	s := &t.slots[i]
	if s.pos < 0 || s.gen != uint32(id>>32) {
		return false
	}
	t.remove(int(s.pos))
	return true
}

// next returns the nearest deadline.
func (t *timers) next() (when int64, ok bool) {
	if len(t.heap) == 0 {
		return 0, false
	}
	return t.slots[t.heap[0]].when, true
}

// pop removes the nearest timer if it is due at now and was armed no later
// than maxSeq. The maxSeq bound stops a callback that re-arms itself with a
// zero delay from keeping the loop in its timer phase forever: such a timer
// fires on the next iteration, after the poller has been checked.
func (t *timers) pop(now int64, maxSeq uint64) (f func(), c *Conn, ok bool) {
	if len(t.heap) == 0 {
		return nil, nil, false
	}
	s := &t.slots[t.heap[0]]
	if s.when > now || s.seq > maxSeq {
		return nil, nil, false
	}
	f, c = s.f, s.conn
	t.remove(0)
	return f, c, true
}

// remove takes the timer at heap index h out and frees its slot.
func (t *timers) remove(h int) {
	i := t.heap[h]
	last := len(t.heap) - 1
	if h != last {
		t.swap(h, last)
	}
	t.heap = t.heap[:last]
	if h != last {
		if !t.down(h) {
			t.up(h)
		}
	}
	s := &t.slots[i]
	s.f, s.conn, s.pos = nil, nil, -1
	s.gen++
	t.free = append(t.free, i)
}

func (t *timers) less(a, b int) bool {
	x, y := &t.slots[t.heap[a]], &t.slots[t.heap[b]]
	if x.when != y.when {
		return x.when < y.when
	}
	return x.seq < y.seq
}

func (t *timers) swap(a, b int) {
	t.heap[a], t.heap[b] = t.heap[b], t.heap[a]
	t.slots[t.heap[a]].pos = int32(a)
	t.slots[t.heap[b]].pos = int32(b)
}

func (t *timers) up(h int) {
	for h > 0 {
		parent := (h - 1) / 2
		if !t.less(h, parent) {
			break
		}
		t.swap(h, parent)
		h = parent
	}
}

// down sifts h towards the leaves and reports whether it moved.
func (t *timers) down(h int) bool {
	start := h
	n := len(t.heap)
	for {
		child := 2*h + 1
		if child >= n {
			break
		}
		if r := child + 1; r < n && t.less(r, child) {
			child = r
		}
		if !t.less(child, h) {
			break
		}
		t.swap(h, child)
		h = child
	}
	return h > start
}
