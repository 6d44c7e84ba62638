package uring_test

import (
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/uring"
)

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
