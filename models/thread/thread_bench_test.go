package thread

import (
	"testing"

	"c10k/models/modeltest"
)

// TestNoAllocPerRequest counts allocations, process-wide, over keep-alive
// round trips: neither the model nor the test client may allocate per request.
func TestNoAllocPerRequest(t *testing.T) {
	_, addr := startServer(t)
	c := dialTest(t, addr)
	if err := c.roundTrip(); err != nil { // connection set up, buffers made
		t.Fatal(err)
	}
	var err error
	allocs := testing.AllocsPerRun(200, func() {
		if e := c.roundTrip(); e != nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs >= 1 {
		t.Fatalf("%.1f allocations per request, want 0", allocs)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	b.Cleanup(func() {
		s.Close()
		<-done
	})
	c := dialTest(b, s.Addr().String())
	b.ReportAllocs()
	for b.Loop() {
		if err := c.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
}
