package thread

import (
	"testing"

	"c10k/models/modeltest"
)

func TestNoAllocPerProxiedRequest(t *testing.T) { modeltest.NoAllocPerProxiedRequest(t, newModel) }

func BenchmarkProxyRoundTrip(b *testing.B) { modeltest.BenchProxyRoundTrip(b, newModel) }
