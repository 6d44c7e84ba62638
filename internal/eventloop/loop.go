package eventloop

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Errors returned by the loop and its connections.
var (
	// ErrClosed: the loop or the connection is closed. It is also the error
	// OnClose receives for connections still open when the loop is closed.
	ErrClosed = errors.New("eventloop: closed")
	// ErrFdInUse: the fd is already watched or attached.
	ErrFdInUse = errors.New("eventloop: fd already in use")
	// ErrNotWatched: the fd is not watched with Watch (it is unknown, or it
	// belongs to a Conn, whose interest the Conn manages itself).
	ErrNotWatched = errors.New("eventloop: fd not watched")
	// ErrRunning: Close was called while Run is running, or Run twice.
	ErrRunning = errors.New("eventloop: loop is running")
)

const (
	// readBufferSize is the one read buffer of a loop, shared by all its
	// connections: an idle connection holds no buffer at all.
	readBufferSize = 64 << 10
	// eventsPerWait bounds how many ready fds one epoll_wait returns; the
	// rest are reported by the next wait (level-triggered), after timers ran.
	eventsPerWait = 512
	// maxSlots caps the fd table sized from RLIMIT_NOFILE (24 B a slot).
	maxSlots = 1 << 20
)

// slot is what the loop knows about one fd: ae's events[fd].
type slot struct {
	mask Mask
	fn   func(fd int, fired Mask) // set by Watch
	conn *Conn                    // set by Attach
}

// Loop is an event loop: one poller, a table of handlers indexed by fd, a
// heap of timers and a read buffer shared by every connection. All methods
// except Post and Stop must be called on the loop's goroutine: from Run's
// handlers, or before Run starts, or after it returns.
type Loop struct {
	poller *poller
	slots  []slot
	timers timers
	rbuf   []byte

	base time.Time // the loop clock counts ns from here (monotonic)
	now  int64     // cached once per iteration
	spin int64     // ns: a timer due this soon is polled for (SetSpin)

	// IdleTime's account: the wait time of iterations that found nothing
	// ready, and all of an iteration that did nothing at all.
	idle      int64 // ns
	lastAfter int64 // when the last wait returned
	lastEmpty bool  // the last iteration ran no handler, timer or resume

	// Connections whose processing must be re-run (Resume), and the slice
	// being drained: two buffers swapped so that neither reallocates.
	resumeq, resuming []*Conn

	// Functions posted from other goroutines (postq, under mu) and the
	// slice being run: two buffers swapped, as for resumes.
	postq, posting []func()

	stopping atomic.Bool
	running  atomic.Bool
	// mu orders Post's and Stop's wake-ups against Close, which closes the
	// poller's wake-up fd, and guards postq.
	mu     sync.Mutex
	closed bool // under mu
}

// New creates a loop. Its fd table is sized from RLIMIT_NOFILE, as ae sizes
// its events array from maxclients: untouched, the table costs address
// space, not memory, and it never has to be copied while connections pile
// up. It grows if the process raises its limit later.
func New() (*Loop, error) {
	size := 1024
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur > uint64(size) {
		size = int(min(rl.Cur, maxSlots))
	}
	p, err := newPoller(eventsPerWait)
	if err != nil {
		return nil, fmt.Errorf("eventloop: new: %w", err)
	}
	return &Loop{
		poller: p,
		slots:  make([]slot, size),
		rbuf:   make([]byte, readBufferSize),
		base:   time.Now(),
	}, nil
}

// Run runs the loop until Stop is called, then returns nil. It returns an
// error only if waiting for events fails.
//
// Run locks its goroutine to the OS thread for its whole duration. A loop
// blocked in epoll_wait is in a system call while it holds its Go scheduler
// slot (P); the runtime gets the P back only when sysmon notices the
// blocked thread (20 us to 10 ms later) and hands it off, and when the wait
// returns the loop must win a P again. Locking keeps the loop on one thread
// with a stable identity (what a CPU pin and the per-thread /proc figures
// need) and makes that hand-off the only scheduler cost; it does shape the
// tail latency when other goroutines compete for the Ps.
func (l *Loop) Run() error {
	if !l.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer l.running.Store(false)
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	l.tick()
	for !l.stopping.Load() {
		before := int64(time.Since(l.base))
		timeout := l.waitTimeout(before)
		if l.lastEmpty {
			l.idle += before - l.lastAfter
		}
		n, woken, blocked, err := l.poller.wait(timeout)
		if err != nil {
			return fmt.Errorf("eventloop: run: %w", err)
		}
		l.tick()
		if (n == 0 && !woken) || blocked {
			l.idle += l.now - before
		}
		l.lastAfter = l.now
		// Posts run before the batch's handlers: the order within a batch
		// was never promised, and the wake-up that announced them is the
		// poller's, with no slot in the fd table to be ordered by.
		posted := woken && l.runPosts()
		for i := 0; i < n; i++ {
			fd, fired := l.poller.event(i)
			if fd >= len(l.slots) {
				continue
			}
			// Copy: a handler may Watch a new fd and grow the table.
			s := l.slots[fd]
			fired &= s.mask
			switch {
			case fired == 0:
				// The interest changed earlier in this batch.
			case s.conn != nil:
				s.conn.ready(fired)
			case s.fn != nil:
				s.fn(fd, fired)
			}
		}
		fired := l.runTimers()
		resumed := l.runResumes()
		l.lastEmpty = n == 0 && !fired && !resumed && !posted
	}
	return nil
}

// Stop makes Run return after the handler it is running, if any. It may
// be called from any goroutine, before or during Run, and more than once.
// It wakes the loop the way Post does.
func (l *Loop) Stop() {
	l.stopping.Store(true)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.poller.wake()
	}
}

// Post queues f to run on the loop's goroutine and wakes the loop if it is
// blocked in the poller: asyncio's call_soon_threadsafe, and the only way
// another goroutine hands the loop work. It may be called from any
// goroutine, the loop's own included, and never blocks on the loop.
//
// Posted functions run in the order they were posted, early in the next
// iteration (before that iteration's fd handlers and timers). One posted
// before Run starts runs as soon as Run starts. Once Stop has been
// called, Post drops f: it neither blocks nor panics, and f never runs; a
// Post racing with Stop may or may not get in. Functions still queued
// when Run returns never run, and Close releases them. A nil f is ignored.
//
// Post does not allocate once the queue has grown to its working size;
// a closure built for the call may.
func (l *Loop) Post(f func()) {
	if f == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.stopping.Load() {
		return
	}
	l.postq = append(l.postq, f)
	l.poller.wake()
}

// runPosts runs the functions posted so far and reports whether there
// were any. Those posted while it runs wait for the next iteration, whose
// wait their wake-up cuts short: a goroutine posting in a tight loop
// cannot starve the loop's fds.
func (l *Loop) runPosts() (ran bool) {
	l.mu.Lock()
	q := l.postq
	l.postq = l.posting[:0]
	l.mu.Unlock()
	for i, f := range q {
		q[i] = nil
		f()
	}
	l.posting = q[:0]
	return len(q) > 0
}

// Close closes every attached connection (their OnClose gets ErrClosed)
// and releases the loop's own fds. Fds registered with Watch belong to the
// caller and stay open. Call it once Run has returned, or instead of Run;
// it returns ErrRunning while Run runs.
func (l *Loop) Close() error {
	if l.running.Load() {
		return ErrRunning
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	clear(l.postq)
	l.postq = nil
	l.mu.Unlock()
	l.stopping.Store(true)
	for fd := range l.slots {
		if c := l.slots[fd].conn; c != nil {
			c.closeNow(ErrClosed)
		}
	}
	if err := l.poller.close(); err != nil {
		return fmt.Errorf("eventloop: close: %w", err)
	}
	return nil
}

// Now returns the loop's clock, read once per iteration right after the
// wait returns (nginx's ngx_current_msec): every handler of one iteration
// sees the same time, and timers armed in it count from that time.
func (l *Loop) Now() time.Time {
	return l.base.Add(time.Duration(l.now))
}

func (l *Loop) tick() { l.now = int64(time.Since(l.base)) }

// IdleTime is how long Run has spent waiting with nothing to do: blocked
// in the poller, or polling and finding nothing ready (spinning for a
// timer, see SetSpin, is idle too). Over an interval, one minus its growth
// divided by the elapsed time is the loop's busy share: how close the loop
// is to being the bottleneck itself, which its CPU time cannot say once
// the loop polls instead of sleeping.
func (l *Loop) IdleTime() time.Duration {
	return time.Duration(l.idle)
}

// SetSpin makes the loop poll instead of sleep while its next timer is
// due within d: the timer then fires within microseconds of its time, not
// up to a millisecond late (epoll_wait's timeout is whole milliseconds),
// and no sleep and wake-up is paid for it, at the price of a busy CPU.
// For a load generator pacing requests; a server has no use for it.
// 0 (the default) never spins.
func (l *Loop) SetSpin(d time.Duration) {
	l.spin = int64(max(d, 0))
}

// AfterFunc arms a timer that calls f on the loop once d has elapsed from
// Now. Timers with the same deadline fire in the order they were armed.
func (l *Loop) AfterFunc(d time.Duration, f func()) TimerID {
	return l.timers.arm(l.now+int64(max(d, 0)), f, nil)
}

// CancelTimer disarms a timer; it reports whether the timer was still
// pending (false once it has fired, or for a stale or zero TimerID).
func (l *Loop) CancelTimer(id TimerID) bool {
	return l.timers.cancel(id)
}

// waitTimeout is the time to the nearest timer, rounded up to the next
// millisecond so the wait never returns just before a deadline and spins.
// It is 0 when resumed connections are waiting or the timer is due within
// the spin horizon (SetSpin), and -1 when nothing is scheduled: the loop
// then sleeps until an fd is ready, with no polling period.
func (l *Loop) waitTimeout(now int64) int {
	if len(l.resumeq) > 0 {
		return 0
	}
	when, ok := l.timers.next()
	if !ok {
		return -1
	}
	d := when - now
	if d <= 0 || d < l.spin {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// runTimers runs the timers that are due and reports whether there were any.
func (l *Loop) runTimers() (fired bool) {
	maxSeq := l.timers.seq
	for {
		f, c, ok := l.timers.pop(l.now, maxSeq)
		if !ok {
			return fired
		}
		fired = true
		if c != nil {
			c.timer = 0
			c.Resume()
		} else if f != nil {
			f()
		}
	}
}

// runResumes runs the queued connections and reports whether there were any.
func (l *Loop) runResumes() (ran bool) {
	for len(l.resumeq) > 0 {
		ran = true
		q := l.resumeq
		l.resumeq = l.resuming[:0]
		for i, c := range q {
			q[i] = nil
			c.flags &^= flagQueued
			c.resumeNow()
		}
		l.resuming = q[:0]
		if l.stopping.Load() {
			return ran
		}
	}
	return ran
}

// Watch registers a raw fd (a listener, a connecting socket, an eventfd)
// with interest mask; f runs on the loop with the conditions that fired.
// The fd stays the caller's: Unwatch it before closing it.
func (l *Loop) Watch(fd int, mask Mask, f func(fd int, fired Mask)) error {
	if fd < 0 || f == nil {
		return fmt.Errorf("eventloop: watch fd %d: %w", fd, unix.EINVAL)
	}
	l.grow(fd)
	s := &l.slots[fd]
	if s.fn != nil || s.conn != nil {
		return fmt.Errorf("eventloop: watch fd %d: %w", fd, ErrFdInUse)
	}
	if err := l.setMask(fd, mask); err != nil {
		return fmt.Errorf("eventloop: watch fd %d: %w", fd, err)
	}
	l.slots[fd].fn = f
	return nil
}

// SetMask changes the interest of a watched fd. An empty mask removes the
// fd from the poller but keeps its handler, so it can be re-armed later
// (the way to stop accepting for a while).
func (l *Loop) SetMask(fd int, mask Mask) error {
	if fd < 0 || fd >= len(l.slots) || l.slots[fd].fn == nil {
		return fmt.Errorf("eventloop: set mask of fd %d: %w", fd, ErrNotWatched)
	}
	if err := l.setMask(fd, mask); err != nil {
		return fmt.Errorf("eventloop: set mask of fd %d: %w", fd, err)
	}
	return nil
}

// Unwatch forgets a watched fd. It does not close it.
func (l *Loop) Unwatch(fd int) error {
	if fd < 0 || fd >= len(l.slots) || l.slots[fd].fn == nil {
		return fmt.Errorf("eventloop: unwatch fd %d: %w", fd, ErrNotWatched)
	}
	err := l.setMask(fd, 0)
	l.slots[fd] = slot{}
	if err != nil {
		return fmt.Errorf("eventloop: unwatch fd %d: %w", fd, err)
	}
	return nil
}

// setMask moves fd's registration from its current mask to mask, choosing
// add, modify or delete as the backend contract asks.
func (l *Loop) setMask(fd int, mask Mask) error {
	s := &l.slots[fd]
	old := s.mask
	var err error
	switch {
	case old == mask:
		return nil
	case old == 0:
		err = l.poller.add(fd, mask)
	case mask == 0:
		err = l.poller.del(fd)
	default:
		err = l.poller.modify(fd, mask)
	}
	if err != nil {
		return err
	}
	s.mask = mask
	return nil
}

func (l *Loop) grow(fd int) {
	if fd < len(l.slots) {
		return
	}
	n := max(2*len(l.slots), fd+1)
	slots := make([]slot, n)
	copy(slots, l.slots)
	l.slots = slots
}
