package modeltest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"c10k/models/server"
	"c10k/models/wire"
)

// Timeouts of the suite's clients: far above what any check needs on a
// loaded machine, so that only a broken server reaches them. Variables so
// the suite's own tests of broken servers can shorten them.
var (
	// ioTimeout bounds every client connection.
	ioTimeout = 10 * time.Second
	// closeTimeout is how long a server may take to close a connection it
	// must close: it has nothing left to do but close(2).
	closeTimeout = 3 * time.Second
)

// stopTimeout is how long Serve may take to return after Close.
const stopTimeout = 5 * time.Second

// StartFunc makes a server for cfg whose Serve is not running yet. It may
// call t.Fatal; the suite runs Serve and closes the server.
type StartFunc func(t *testing.T, cfg server.Config) server.Server

// check is one conformance test: it talks to a running server and returns
// what is wrong with it, so that the suite's own tests can feed it broken
// servers and see it fail.
type check struct {
	name string
	cfg  func(*server.Config) // adjusts the default config; nil keeps it
	run  func(r *running) error
	// setup starts what the check needs besides the server (upstreams)
	// and adjusts the config to use it; nil needs nothing.
	setup func(t *testing.T, cfg *server.Config) []*backend
}

// config is the server config of check c, with its backends started.
func (c check) config(t *testing.T) (server.Config, []*backend) {
	cfg := DefaultConfig()
	var bs []*backend
	if c.setup != nil {
		bs = c.setup(t, &cfg)
	}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	return cfg, bs
}

// checks is the suite, in the order Run runs it.
var checks = slices.Concat(framingChecks, badInputChecks(), configChecks, slowlorisChecks, closeChecks, proxyChecks)

// DefaultConfig is the config each check starts from: loopback, a free
// port, the default body, no work and no wait.
func DefaultConfig() server.Config {
	return server.Config{Addr: "127.0.0.1:0", BodySize: len(wire.DefaultBody)}
}

// Run runs every conformance check against servers made by start, a fresh
// server per subtest; caps are what the model can do beyond the common
// ground (OverlapsFanout). The suite runs Serve in a goroutine, waits until the
// server answers a request, and closes it when the subtest ends, failing
// unless Close returns nil and Serve then returns nil within 5 s.
//
// Besides the wire behaviour, the suite requires of Close that it stops
// accepting (a new dial is refused) and closes the connections the server
// holds, so that a closed server leaks neither threads nor sockets.
func Run(t *testing.T, start StartFunc, caps ...Capability) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			cfg, bs := c.config(t)
			r := serve(t, start(t, cfg), cfg)
			r.backends, r.caps = bs, caps
			if err := c.run(r); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("lifecycle: Serve after Close returns nil at once", func(t *testing.T) {
		if err := serveAfterClose(start(t, DefaultConfig())); err != nil {
			t.Fatal(err)
		}
	})
}

// serveAfterClose closes s before it ever served: a harness that stops a
// server while it is still starting must not leave Serve blocked.
func serveAfterClose(s server.Server) error {
	if err := s.Close(); err != nil {
		return fmt.Errorf("Close before Serve = %v, want nil", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("Serve after Close = %v, want nil", err)
		}
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("Serve after Close did not return within %v", stopTimeout)
	}
}

// Serve runs s.Serve in a goroutine, waits until s answers a request, and
// registers a cleanup that closes s and checks that Close and Serve return
// nil. It returns the address to dial. Models use it in their own tests.
func Serve(t *testing.T, s server.Server) string {
	t.Helper()
	return serve(t, s, DefaultConfig()).addr
}

// running is a server under test.
type running struct {
	addr     string
	cfg      server.Config
	backends []*backend // the check's upstreams, if any
	caps     []Capability
	stop     func() error // closes the server once and waits for Serve
}

func serve(t *testing.T, s server.Server, cfg server.Config) *running {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	var once sync.Once
	var stopErr error
	r := &running{addr: s.Addr().String(), cfg: cfg}
	r.stop = func() error {
		once.Do(func() { stopErr = stopServer(s, done) })
		return stopErr
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Error(err)
		}
	})
	if err := ready(r.addr); err != nil {
		t.Fatalf("server on %s never answered: %v", r.addr, err)
	}
	return r
}

func stopServer(s server.Server, done <-chan error) error {
	closeErr := s.Close()
	select {
	case err := <-done:
		if closeErr != nil {
			return fmt.Errorf("Close: %w", closeErr)
		}
		if err != nil {
			return fmt.Errorf("Serve after Close returned %w, want nil", err)
		}
		return nil
	case <-time.After(stopTimeout):
		return errors.Join(closeErr, fmt.Errorf("Serve did not return within %v of Close", stopTimeout))
	}
}

// ready waits for the first answer: the listener accepts into its backlog
// from the moment it exists, so one full exchange is the real readiness test.
func ready(addr string) error {
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.close()
	_, err = c.roundTrip(get("/ready", ""))
	return err
}
