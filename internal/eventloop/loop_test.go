package eventloop

import (
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestStopFromAnotherGoroutineEndsRun(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	time.Sleep(20 * time.Millisecond) // let it block in epoll_wait with no timer
	go l.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
}

func TestStopBeforeRun(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	l.Stop()
	l.Stop()
	if err := l.Run(); err != nil {
		t.Fatalf("Run after Stop = %v, want nil", err)
	}
}

func TestRunAfterClose(t *testing.T) {
	l := newLoop(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	l.Stop() // must not write to a closed eventfd
	if err := l.Run(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close = %v, want ErrClosed", err)
	}
}

func TestCloseWhileRunning(t *testing.T) {
	l := newLoop(t)
	onLoop := running(t, l)
	var err error
	onLoop(func() { err = l.Close() })
	if !errors.Is(err, ErrRunning) {
		t.Fatalf("Close during Run = %v, want ErrRunning", err)
	}
}

func TestWatchSetMaskUnwatch(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	nop := func(int, Mask) {}
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"happy: watch", func() error { return l.Watch(p[0], Readable, nop) }, nil},
		{"sad: watch twice", func() error { return l.Watch(p[0], Readable, nop) }, ErrFdInUse},
		{"sad: watch negative fd", func() error { return l.Watch(-1, Readable, nop) }, unix.EINVAL},
		{"sad: watch nil handler", func() error { return l.Watch(p[1], Writable, nil) }, unix.EINVAL},
		{"happy: empty mask", func() error { return l.SetMask(p[0], 0) }, nil},
		{"happy: re-arm", func() error { return l.SetMask(p[0], Readable) }, nil},
		{"sad: set mask unknown fd", func() error { return l.SetMask(p[1], Readable) }, ErrNotWatched},
		{"sad: set mask huge fd", func() error { return l.SetMask(1<<30, Readable) }, ErrNotWatched},
		{"happy: unwatch", func() error { return l.Unwatch(p[0]) }, nil},
		{"sad: unwatch twice", func() error { return l.Unwatch(p[0]) }, ErrNotWatched},
		{"happy: watch again", func() error { return l.Watch(p[0], Readable, nop) }, nil},
		{"sad: attach a regular file", func() error {
			f, err := unix.Open("/proc/self/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(f)
			_, err = l.Attach(f, newRecorder())
			return err
		}, unix.EPERM},
	}
	for _, tt := range tests {
		err := tt.op()
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestWatchedFdFires(t *testing.T) {
	l := newLoop(t)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	// Closed after the loop has stopped (cleanups run last-in first-out).
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	fired := make(chan Mask, 1)
	if err := l.Watch(p[0], Readable, func(fd int, m Mask) {
		var b [8]byte
		_, _ = unix.Read(fd, b[:])
		select {
		case fired <- m:
		default: // never block the loop
		}
	}); err != nil {
		t.Fatal(err)
	}
	running(t, l)
	if _, err := unix.Write(p[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-fired:
		if m != Readable {
			t.Errorf("fired %v, want r", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
	}
}

func TestNowIsCachedAndAdvances(t *testing.T) {
	l := newLoop(t)
	onLoop := running(t, l)
	var a, b, c time.Time
	onLoop(func() {
		a = l.Now()
		time.Sleep(5 * time.Millisecond)
		b = l.Now()
	})
	time.Sleep(5 * time.Millisecond)
	onLoop(func() { c = l.Now() })
	if !a.Equal(b) {
		t.Errorf("Now changed within one iteration: %v then %v", a, b)
	}
	if !c.After(a) {
		t.Errorf("Now did not advance across iterations: %v then %v", a, c)
	}
}

func TestMaskString(t *testing.T) {
	for m, want := range map[Mask]string{0: "", Readable: "r", Writable: "w", Readable | Writable: "rw"} {
		if got := m.String(); got != want {
			t.Errorf("Mask(%d).String() = %q, want %q", m, got, want)
		}
	}
}

// IdleTime must tell a loop that waits from one that works: the loadgen
// judges its own saturation by it.
func TestIdleTimeCountsWaitingNotWork(t *testing.T) {
	l := newLoop(t)
	onLoop := running(t, l)
	const span = 100 * time.Millisecond
	tests := []struct {
		name     string
		handler  func() // runs on the loop at the start of the span
		wantIdle func(idle time.Duration) bool
	}{
		{"waiting: blocked in the poller for the whole span", func() {},
			func(idle time.Duration) bool { return idle >= span/2 }},
		{"working: a handler busy for the whole span", func() {
			for t0 := time.Now(); time.Since(t0) < span; {
			}
		}, func(idle time.Duration) bool { return idle < span/2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var idle0, idle1 time.Duration
			done := make(chan struct{})
			onLoop(func() {
				idle0 = l.IdleTime()
				// The timer counts from the iteration's cached time: after a
				// busy handler it is already due, and no wait follows.
				l.AfterFunc(span, func() { close(done) })
				tt.handler()
			})
			<-done
			onLoop(func() { idle1 = l.IdleTime() })
			if idle := idle1 - idle0; !tt.wantIdle(idle) {
				t.Errorf("idle %v over a %v span", idle, span)
			}
		})
	}
}

func TestSpinFiresTimerOnTimeAndCountsAsIdle(t *testing.T) {
	l := newLoop(t)
	onLoop := running(t, l)
	const span = 50 * time.Millisecond
	var idle0, idle1 time.Duration
	var armed, fired time.Time
	done := make(chan struct{})
	onLoop(func() {
		l.SetSpin(2 * span) // the whole wait is spent polling
		idle0 = l.IdleTime()
		armed = l.Now()
		l.AfterFunc(span, func() { fired = time.Now(); close(done) })
	})
	<-done
	onLoop(func() { idle1 = l.IdleTime(); l.SetSpin(0) })
	if late := fired.Sub(armed); late < span {
		t.Errorf("timer fired %v after arming, before its %v", late, span)
	}
	if idle := idle1 - idle0; idle < span/2 {
		t.Errorf("idle %v over a %v span spent polling for a timer", idle, span)
	}
}

// waitFor fails the test unless ch is closed or sent to within 10 s.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
}

func TestPost(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, l *Loop)
	}{
		{"happy: a post from another goroutine wakes a loop blocked in epoll_wait", func(t *testing.T, l *Loop) {
			running(t, l)
			time.Sleep(20 * time.Millisecond) // blocked, no timer: only the wake-up ends the wait
			ran := make(chan struct{})
			go l.Post(func() { close(ran) })
			waitFor(t, ran, "post")
		}},
		{"happy: posts from one goroutine run in order", func(t *testing.T, l *Loop) {
			running(t, l)
			const n = 1000
			var got []int // touched only on the loop
			done := make(chan struct{})
			for i := range n {
				l.Post(func() { got = append(got, i) })
			}
			l.Post(func() { close(done) })
			waitFor(t, done, "posts")
			for i, v := range got {
				if v != i {
					t.Fatalf("post %d ran as number %d", v, i)
				}
			}
			if len(got) != n {
				t.Fatalf("%d posts ran, want %d", len(got), n)
			}
		}},
		{"happy: posts from many goroutines all run, each goroutine's in order", func(t *testing.T, l *Loop) {
			running(t, l)
			const senders, each = 8, 200
			last := make([]int, senders) // touched only on the loop
			bad := 0
			var wg sync.WaitGroup
			for g := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 1; i <= each; i++ {
						l.Post(func() {
							if i != last[g]+1 {
								bad++
							}
							last[g] = i
						})
					}
				}()
			}
			wg.Wait()
			done := make(chan struct{})
			l.Post(func() { close(done) })
			waitFor(t, done, "posts")
			ran := make(chan struct{})
			l.Post(func() {
				for g, v := range last {
					if v != each {
						t.Errorf("sender %d: last post %d ran, want %d", g, v, each)
					}
				}
				if bad > 0 {
					t.Errorf("%d posts ran out of their sender's order", bad)
				}
				close(ran)
			})
			waitFor(t, ran, "check")
		}},
		{"happy: a post before Run runs in Run's first iteration", func(t *testing.T, l *Loop) {
			ran := make(chan struct{})
			l.Post(func() { close(ran) })
			running(t, l)
			waitFor(t, ran, "post before Run")
		}},
		{"happy: a post from the loop itself runs in a later iteration", func(t *testing.T, l *Loop) {
			onLoop := running(t, l)
			ran := make(chan struct{})
			var inner, outer time.Time
			onLoop(func() {
				outer = l.Now()
				time.Sleep(time.Millisecond) // so the next iteration's clock differs
				l.Post(func() { inner = l.Now(); close(ran) })
			})
			waitFor(t, ran, "post from the loop")
			onLoop(func() {
				if !inner.After(outer) {
					t.Errorf("posted from the loop ran in the same iteration (Now %v, then %v)", outer, inner)
				}
			})
		}},
		{"sad: a post after Stop is dropped, without blocking or panicking", func(t *testing.T, l *Loop) {
			defer l.Close()
			done := make(chan error, 1)
			go func() { done <- l.Run() }()
			l.Stop()
			if err := <-done; err != nil {
				t.Fatalf("Run = %v", err)
			}
			ran := false
			for range 10_000 { // far more than an eventfd write could absorb if it blocked
				l.Post(func() { ran = true })
			}
			if err := l.Run(); err != nil { // stopped for good: returns at once
				t.Fatalf("Run after Stop = %v", err)
			}
			if ran {
				t.Error("a post after Stop ran")
			}
		}},
		{"sad: a post after Close does nothing", func(t *testing.T, l *Loop) {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l.Post(func() { t.Error("a post after Close ran") })
			l.Stop()
		}},
		{"sad: a nil post is ignored", func(t *testing.T, l *Loop) {
			onLoop := running(t, l)
			l.Post(nil)
			onLoop(func() {}) // the loop is still alive
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newLoop(t))
		})
	}
}

// The round trip's channel operations do not allocate, so any allocation
// counted is Post's or the wake-up's.
func TestPostDoesNotAllocate(t *testing.T) {
	l := newLoop(t)
	running(t, l)
	ran := make(chan struct{}, 1)
	f := func() { ran <- struct{}{} }
	roundTrip := func() {
		l.Post(f)
		<-ran
	}
	for range 10 { // grow the queues to their working size
		roundTrip()
	}
	if n := testing.AllocsPerRun(200, roundTrip); n != 0 {
		t.Errorf("Post round trip: %v allocations, want 0", n)
	}
}
