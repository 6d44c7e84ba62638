package uring

import (
	"sync"
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
)

// tinySizes make a few connections do what thousands do to the default
// ring: 8 submission entries fill within a pass (the ring submits in the
// middle of it), 16 completion entries overflow (the kernel keeps the
// rest on its overflow list), and 2 receive buffers, growing to 8, run
// out (receives end with ENOBUFS and are re-armed).
var tinySizes = sizes{sq: 8, cq: 16, bufFirst: 2, bufMax: 8}

// TestConformanceTinyRing runs the whole conformance suite on tiny rings
// and checks that running out of buffers happened and was survived.
func TestConformanceTinyRing(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	var mu sync.Mutex
	var servers []*Server
	t.Run("suite", func(t *testing.T) {
		modeltest.Run(t, func(t *testing.T, cfg server.Config) server.Server {
			s, err := newServer(cfg, tinySizes)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			servers = append(servers, s)
			mu.Unlock()
			return s
		}, modeltest.OverlapsFanout)
	})
	// Every server has stopped: Run closed each at the end of its check.
	noBufs := 0
	for _, s := range servers {
		noBufs += s.noBufs
	}
	t.Logf("%d receives ended by ENOBUFS over %d servers", noBufs, len(servers))
	if noBufs == 0 {
		t.Error("no receive ran out of buffers: the tiny ring did not exercise ENOBUFS")
	}
}
