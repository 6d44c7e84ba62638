package uring

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestRing sets a ring up with the given flag sets on the test's
// goroutine, locked to its thread for the rest of the test (the ring's
// issuer), or skips when io_uring is unavailable here.
func newTestRing(t *testing.T, sets []uint32) *Ring {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	r, err := newRing(8, 64, sets)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := r.Enable(); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitCQE enters until a completion arrives, for at most a few seconds of
// passes (a completion that never comes fails the test, not hangs it).
func waitCQE(t *testing.T, r *Ring) CQE {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, ok := r.NextCQE(); ok {
			return c
		}
		if err := r.Enter(true); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no completion within 5 s")
	return CQE{}
}

// flagSetNames are the set-up fallbacks, each of which must work.
var flagSetNames = []struct {
	name string
	set  uint32
}{
	{"single issuer, deferred task run", flagSets[0]},
	{"single issuer, cooperative task run", flagSets[1]},
	{"cooperative task run", flagSets[2]},
	{"submit all", flagSets[3]},
	{"no flags", flagSets[4]},
}

func TestNopRoundTrip(t *testing.T) {
	for _, fs := range flagSetNames {
		t.Run(fs.name, func(t *testing.T) {
			r := newTestRing(t, []uint32{fs.set})
			if got := r.flags &^ setupCQSize; got != fs.set {
				t.Fatalf("set-up flags %#x, want %#x", got, fs.set)
			}
			for i := uint64(1); i <= 20; i++ { // over twice the SQ size: SQE submits when full
				e, err := r.SQE()
				if err != nil {
					t.Fatal(err)
				}
				e.PrepNop(i)
			}
			for want := uint64(1); want <= 20; want++ {
				c := waitCQE(t, r)
				if c.UserData != want || c.Res != 0 {
					t.Fatalf("completion %+v, want user data %d and result 0", c, want)
				}
			}
			if c, ok := r.NextCQE(); ok {
				t.Fatalf("extra completion %+v", c)
			}
		})
	}
}

func TestSetupAndClose(t *testing.T) {
	r := newTestRing(t, flagSets)
	if !r.SingleIssuer() || !r.DeferTaskrun() {
		t.Logf("kernel granted %s, not the single-issuer set", r.Setup())
	}
	if r.Fd() < 0 || len(r.sqes) < 8 || len(r.cqes) < 64 {
		t.Fatalf("fd %d, %d SQEs, %d CQEs", r.Fd(), len(r.sqes), len(r.cqes))
	}
	fd := r.Fd()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("ring fd %d still open after Close (fcntl: %v)", fd, err)
	}
}

// TestSingleIssuerRefusesOtherThreads is why the model enables its ring on
// the loop's locked thread: any other thread is refused.
func TestSingleIssuerRefusesOtherThreads(t *testing.T) {
	r := newTestRing(t, flagSets)
	if !r.SingleIssuer() {
		t.Skipf("kernel granted %s", r.Setup())
	}
	e, err := r.SQE()
	if err != nil {
		t.Fatal(err)
	}
	e.PrepNop(1)
	n := r.publish()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // a thread the ring has never seen; it exits with the goroutine
		_, err := sysEnter(r.fd, n, 0, 0, false)
		errc <- err
	}()
	if err := <-errc; err != unix.EEXIST {
		t.Fatalf("submit from another thread: %v, want EEXIST", err)
	}
	if c := waitCQE(t, r); c.UserData != 1 {
		t.Fatalf("completion %+v after the refused submit", c)
	}
}

// Timeouts for the kernel to read at submission: globals, since a local
// variable may move with the goroutine's stack (see the contract).
var (
	shortTS = unix.NsecToTimespec(int64(30 * time.Millisecond))
	longTS  = unix.NsecToTimespec(int64(time.Hour))
)

func TestTimeout(t *testing.T) {
	r := newTestRing(t, flagSets)
	e, err := r.SQE()
	if err != nil {
		t.Fatal(err)
	}
	e.PrepTimeout(&shortTS, 7)
	e, err = r.SQE()
	if err != nil {
		t.Fatal(err)
	}
	e.PrepTimeout(&longTS, 8)
	e, err = r.SQE()
	if err != nil {
		t.Fatal(err)
	}
	e.PrepTimeoutRemove(8, 9)
	t0 := time.Now()
	got := map[uint64]int32{}
	for len(got) < 3 {
		c := waitCQE(t, r)
		got[c.UserData] = c.Res
	}
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Errorf("timeout fired after %v, before its 30 ms", d)
	}
	want := map[uint64]int32{7: -int32(unix.ETIME), 8: -int32(unix.ECANCELED), 9: 0}
	for ud, res := range want {
		if got[ud] != res {
			t.Errorf("user data %d: result %d, want %d", ud, got[ud], res)
		}
	}
}

func TestErrUnavailableWraps(t *testing.T) {
	err := Available()
	if err != nil && !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Available() = %v: not ErrUnavailable", err)
	}
	t.Logf("Available() = %v", err)
}

// TestEnableOnAnotherThread is how the model uses a ring: set up, with its
// buffer ring, by whichever thread runs New, then enabled and driven by
// the loop's locked thread.
func TestEnableOnAnotherThread(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	r, err := New(8, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.NewBufRing(0, 4, 64, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ours, peer := socketpair(t)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- func() error {
			if err := r.Enable(); err != nil {
				return err
			}
			e, err := r.SQE()
			if err != nil {
				return err
			}
			e.PrepMultishotRecv(ours, b.Group(), 1)
			if err := r.Enter(false); err != nil {
				return err
			}
			unix.Write(peer, []byte("ping"))
			for {
				if c, ok := r.NextCQE(); ok {
					if id, ok := c.Buffer(); !ok || string(b.Bytes(id, int(c.Res))) != "ping" {
						return errors.New("the receive did not deliver ping")
					}
					return nil
				}
				if err := r.Enter(true); err != nil {
					return err
				}
			}
		}()
	}()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no completion within 5 s")
	}
}

var linkTS = unix.NsecToTimespec(int64(20 * time.Millisecond))

// TestLinkTimeout bounds a poll that never fires with a linked timeout:
// the poll is cancelled, the timeout fires.
func TestLinkTimeout(t *testing.T) {
	r := newTestRing(t, flagSets)
	ours, _ := socketpair(t)
	e, err := r.SQE()
	if err != nil {
		t.Fatal(err)
	}
	e.PrepPollAdd(ours, unix.POLLIN, 1)
	e.Flags |= SQEIOLink
	if e, err = r.SQE(); err != nil {
		t.Fatal(err)
	}
	e.PrepLinkTimeout(&linkTS, 2)
	got := map[uint64]int32{}
	for len(got) < 2 {
		c := waitCQE(t, r)
		got[c.UserData] = c.Res
	}
	if got[1] != -int32(unix.ECANCELED) || got[2] != -int32(unix.ETIME) {
		t.Fatalf("poll %d, link timeout %d; want -ECANCELED and -ETIME", got[1], got[2])
	}
}

// TestEnterBatch checks the batched wait on each of its edges: a batch
// that is there returns it in one call, a batch that never fills still
// returns the completion that came, and a wait with nothing to come ends.
func TestEnterBatch(t *testing.T) {
	r := newTestRing(t, flagSets)
	if r.features&featMinTimeout == 0 {
		t.Skip("the kernel has no minimum wait (IORING_FEAT_MIN_TIMEOUT, 6.12): EnterBatch waits for one")
	}
	count := func() (n int) {
		for {
			if _, ok := r.NextCQE(); !ok {
				return n
			}
			n++
		}
	}
	prep := func(f func(e *SQE)) {
		e, err := r.SQE()
		if err != nil {
			t.Fatal(err)
		}
		f(e)
	}

	// Three no-ops complete as they are submitted: all three are there
	// when the one call returns.
	for i := uint64(1); i <= 3; i++ {
		prep(func(e *SQE) { e.PrepNop(i) })
	}
	if err := r.EnterBatch(3, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("a batch of 3 no-ops: %d completions after one EnterBatch, want 3", n)
	}

	// One timeout, and a batch of two asked for: the second never comes,
	// so the wait must end with the one that did.
	prep(func(e *SQE) { e.PrepTimeout(&shortTS, 7) })
	deadline := time.Now().Add(5 * time.Second)
	for n := 0; n == 0; n = count() {
		if time.Now().After(deadline) {
			t.Fatal("EnterBatch(2) never returned the one completion that came")
		}
		if err := r.EnterBatch(2, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}

	// Nothing to come: the wait ends by itself (4 minimum waits), empty.
	if err := r.EnterBatch(2, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d completions from an empty ring", n)
	}
}
