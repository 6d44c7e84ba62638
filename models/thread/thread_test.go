package thread_test

import (
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/thread"
)

func newServer(cfg server.Config) (server.Server, error) { return thread.New(cfg) }

func TestConformance(t *testing.T) {
	modeltest.Run(t, func(t *testing.T, cfg server.Config) server.Server {
		s, err := thread.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestHelperServe(t *testing.T) { modeltest.ServeChild(t, newServer) }

func TestFDExhaustion(t *testing.T) { modeltest.RunFDExhaustion(t, "TestHelperServe") }
