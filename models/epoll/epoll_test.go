package epoll_test

import (
	"testing"

	"c10k/models/epoll"
	"c10k/models/modeltest"
	"c10k/models/server"
)

func newServer(cfg server.Config) (server.Server, error) { return epoll.New(cfg) }

func TestConformance(t *testing.T) {
	modeltest.Run(t, func(t *testing.T, cfg server.Config) server.Server {
		s, err := epoll.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, modeltest.OverlapsFanout)
}

func TestHelperServe(t *testing.T) { modeltest.ServeChild(t, newServer) }

func TestFDExhaustion(t *testing.T) { modeltest.RunFDExhaustion(t, "TestHelperServe") }
