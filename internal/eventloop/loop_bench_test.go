package eventloop

import "testing"

// BenchmarkPostRoundTrip posts a function from another goroutine and
// waits for the loop to run it: one wake-up, one drain, one call.
func BenchmarkPostRoundTrip(b *testing.B) {
	l := newLoop(b)
	running(b, l)
	ran := make(chan struct{}, 1)
	f := func() { ran <- struct{}{} }
	b.ReportAllocs()
	for b.Loop() {
		l.Post(f)
		<-ran
	}
}
