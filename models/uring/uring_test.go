package uring_test

import (
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/uring"
)

// skipUnavailable skips a test where io_uring cannot run, saying why.
func skipUnavailable(tb testing.TB) {
	tb.Helper()
	if err := uring.Available(); err != nil {
		tb.Skip(err)
	}
}

func newServer(cfg server.Config) (server.Server, error) { return uring.New(cfg) }

func TestConformance(t *testing.T) {
	skipUnavailable(t)
	modeltest.Run(t, func(t *testing.T, cfg server.Config) server.Server {
		s, err := uring.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, modeltest.OverlapsFanout)
}

func TestHelperServe(t *testing.T) { modeltest.ServeChild(t, newServer) }

func TestFDExhaustion(t *testing.T) {
	skipUnavailable(t)
	modeltest.RunFDExhaustion(t, "TestHelperServe")
}
