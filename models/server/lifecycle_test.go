package server

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLoop is a server's loop: run blocks until stop.
type fakeLoop struct {
	stopc              chan struct{}
	runs, stops, frees atomic.Int32
}

func newFakeLoop() *fakeLoop { return &fakeLoop{stopc: make(chan struct{})} }

func (f *fakeLoop) run() error     { f.runs.Add(1); <-f.stopc; return nil }
func (f *fakeLoop) stop()          { f.stops.Add(1); close(f.stopc) }
func (f *fakeLoop) release() error { f.frees.Add(1); return nil }

var errTwice = errors.New("already serving")

func TestLifecycleCloseBeforeServe(t *testing.T) {
	var l Lifecycle
	f := newFakeLoop()
	if err := l.Close(f.stop, f.release); err != nil {
		t.Fatal(err)
	}
	if err := l.Serve(errTwice, f.run, f.release); err != nil {
		t.Fatalf("Serve after Close: %v, want nil", err)
	}
	if err := l.Close(f.stop, f.release); err != nil {
		t.Fatal(err)
	}
	if r, s, fr := f.runs.Load(), f.stops.Load(), f.frees.Load(); r != 0 || s != 0 || fr != 1 {
		t.Errorf("runs %d, stops %d, releases %d: want 0, 0, 1", r, s, fr)
	}
}

func TestLifecycleServeThenClose(t *testing.T) {
	var l Lifecycle
	f := newFakeLoop()
	served := make(chan error, 1)
	go func() { served <- l.Serve(errTwice, f.run, f.release) }()
	for f.runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := l.Serve(errTwice, f.run, f.release); err != errTwice {
		t.Errorf("a second Serve: %v, want %v", err, errTwice)
	}
	if err := l.Close(f.stop, f.release); err != nil {
		t.Fatal(err)
	}
	// Close has returned: Serve must have released everything already.
	if fr := f.frees.Load(); fr != 1 {
		t.Errorf("%d releases when Close returned, want 1", fr)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := l.Close(f.stop, f.release); err != nil {
		t.Fatal(err)
	}
	if r, s, fr := f.runs.Load(), f.stops.Load(), f.frees.Load(); r != 1 || s != 1 || fr != 1 {
		t.Errorf("runs %d, stops %d, releases %d: want 1 each", r, s, fr)
	}
}

func TestLifecycleServeReportsRunThenRelease(t *testing.T) {
	errRun, errRelease := errors.New("run"), errors.New("release")
	tests := []struct {
		name         string
		run, release error
		want         error
	}{
		{"both fine", nil, nil, nil},
		{"run fails", errRun, nil, errRun},
		{"release fails", nil, errRelease, errRelease},
		{"both fail: run's error", errRun, errRelease, errRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Lifecycle
			err := l.Serve(errTwice, func() error { return tt.run }, func() error { return tt.release })
			if err != tt.want {
				t.Errorf("Serve: %v, want %v", err, tt.want)
			}
		})
	}
}
