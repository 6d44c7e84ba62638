package loadgen

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// The idle pool is really open on the server's side for the whole run, and
// counted alive at the end; the generator closes everything afterwards.
func TestIdlePoolIsHeldOpen(t *testing.T) {
	const k, c = 60, 2
	s := startServer(t)
	done := make(chan *Result, 1)
	go func() {
		r, err := Run(context.Background(), Options{URL: s.url(), Connections: c, Idle: k, Duration: 1500 * time.Millisecond, Loops: 2})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	deadline := time.Now().Add(1200 * time.Millisecond)
	for s.open.Load() < k+c && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.open.Load(); got != k+c {
		t.Errorf("server sees %d connections open during the run, want %d idle + %d active", got, k, c)
	}
	r := <-done
	if r == nil {
		t.FailNow()
	}
	wantNoErrors(t, r)
	if r.IdleRequested != k || r.IdleOpened != k || r.IdleAlive != k {
		t.Fatalf("idle requested %d opened %d alive %d, want %d each", r.IdleRequested, r.IdleOpened, r.IdleAlive, k)
	}
	if r.Requests == 0 {
		t.Fatal("no active requests beside the idle pool")
	}
	// One request each to prove they were alive, plus the active load.
	if got := s.requests.Load(); got < k+r.Requests {
		t.Fatalf("server answered %d requests, want >= %d", got, k+r.Requests)
	}
	waitFor(t, "the generator to close its connections", func() bool { return s.open.Load() == 0 })
}

// A server that closes idle keep-alive connections (as Apache event does
// under pressure) is data: idle_alive drops, nothing counts as an error.
func TestIdlePoolClosedByTheServerIsData(t *testing.T) {
	const k = 20
	s := startServer(t, withIdleKill(200*time.Millisecond))
	r := run(t, Options{URL: s.url(), Connections: 1, Idle: k, Duration: time.Second, Loops: 1})
	if r.IdleOpened != k {
		t.Fatalf("idle opened %d, want %d", r.IdleOpened, k)
	}
	if r.IdleAlive >= k {
		t.Fatalf("idle_alive = %d, want < %d after the server closed them", r.IdleAlive, k)
	}
	wantNoErrors(t, r)
	if n := sumKinds(r.IdleErrors); n != 0 {
		t.Fatalf("idle errors %v: a server closing idle connections is not an error", r.IdleErrors)
	}
}

// The pool is opened at the bounded connect rate: 40 connections at 100/s
// take ~0.4 s.
func TestIdlePoolRespectsTheConnectRate(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Idle: 40, ConnectRate: 100, Duration: 200 * time.Millisecond, Loops: 1})
	if r.IdleOpened != 40 || r.IdleAlive != 40 {
		t.Fatalf("opened %d alive %d, want 40", r.IdleOpened, r.IdleAlive)
	}
	if r.IdleOpenS < 0.35 || r.IdleOpenS > 3 {
		t.Fatalf("opening took %.2f s, want ~0.4 s at 100/s", r.IdleOpenS)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A server that takes connections but never answers holds every idle
// connection in flight: the loop opens no more than its window of them,
// whatever the connect rate asks, until timeouts free the window.
func TestIdleConnectsInFlightAreBounded(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	tr := &connTracker{ln: ln}
	tr.start(func(c net.Conn) {
		accepted.Add(1)
		io.Copy(io.Discard, c) // reads the request, never answers
	})
	defer tr.shutdown()
	done := make(chan *Result, 1)
	go func() {
		r, _ := Run(context.Background(), Options{URL: "http://" + ln.Addr().String() + "/", Idle: 3 * idleWindow,
			ConnectRate: 1e6, Duration: 100 * time.Millisecond, Timeout: time.Second, Loops: 1})
		done <- r
	}()
	waitFor(t, "the window to fill", func() bool { return accepted.Load() >= idleWindow })
	time.Sleep(300 * time.Millisecond) // well before the 1 s timeout frees any
	if n := accepted.Load(); n > idleWindow {
		t.Errorf("%d connections opened with none answered, want at most the window of %d", n, idleWindow)
	}
	r := <-done
	if r == nil || r.IdleOpened != 0 || r.IdleErrors[ErrTimeout.String()] == 0 {
		t.Errorf("result %+v: want every idle connection timed out, none opened", r)
	}
}
