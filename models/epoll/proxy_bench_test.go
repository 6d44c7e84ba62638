package epoll_test

import (
	"testing"

	"c10k/models/modeltest"
)

func TestNoAllocPerProxiedRequest(t *testing.T) { modeltest.NoAllocPerProxiedRequest(t, newServer) }

func BenchmarkProxyRoundTrip(b *testing.B) { modeltest.BenchProxyRoundTrip(b, newServer) }
