package goroutine

import (
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
)

func newModel(cfg server.Config) (server.Server, error) { return New(cfg) }

func TestNoAllocPerRequest(t *testing.T) { modeltest.NoAllocPerRequest(t, newModel) }

func BenchmarkRoundTrip(b *testing.B) { modeltest.BenchRoundTrip(b, newModel) }
