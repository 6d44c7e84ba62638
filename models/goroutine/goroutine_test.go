package goroutine_test

import (
	"testing"

	"c10k/models/goroutine"
	"c10k/models/modeltest"
	"c10k/models/server"
)

func newServer(cfg server.Config) (server.Server, error) { return goroutine.New(cfg) }

func TestConformance(t *testing.T) {
	modeltest.Run(t, func(t *testing.T, cfg server.Config) server.Server {
		s, err := goroutine.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, modeltest.OverlapsFanout)
}

func TestHelperServe(t *testing.T) { modeltest.ServeChild(t, newServer) }

func TestFDExhaustion(t *testing.T) { modeltest.RunFDExhaustion(t, "TestHelperServe") }
