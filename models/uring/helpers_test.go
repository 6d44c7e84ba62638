package uring_test

import (
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/uring"
	"c10k/models/wire"
)

// skipUnavailable skips a test where io_uring cannot run, saying why.
func skipUnavailable(tb testing.TB) {
	tb.Helper()
	if err := uring.Available(); err != nil {
		tb.Skip(err)
	}
}

func newServer(cfg server.Config) (server.Server, error) { return uring.New(cfg) }

// start runs a uring server for cfg (on 127.0.0.1:0) until the test ends.
func start(tb testing.TB, cfg server.Config) string {
	tb.Helper()
	skipUnavailable(tb)
	cfg.Addr = "127.0.0.1:0"
	if cfg.BodySize == 0 {
		cfg.BodySize = len(wire.DefaultBody)
	}
	s, err := uring.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if t, ok := tb.(*testing.T); ok {
		return modeltest.Serve(t, s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	tb.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return s.Addr().String()
}
