package epoll_test

import (
	"testing"

	"c10k/models/epoll"
	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/wire"
)

// start runs an epoll server for cfg (on 127.0.0.1:0) until the test ends.
func start(t testing.TB, cfg server.Config) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.BodySize == 0 {
		cfg.BodySize = len(wire.DefaultBody)
	}
	s, err := epoll.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tt, ok := t.(*testing.T)
	if ok {
		return modeltest.Serve(tt, s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Addr().String()
}
