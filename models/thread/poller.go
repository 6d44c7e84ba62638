package thread

import (
	"fmt"
	"os"
)

// parkPoller keeps one goroutine parked in the runtime's network poller
// until stop is called, so that a thread with nothing to run sleeps in
// epoll_wait(2) rather than on its own.
//
// Why: when a connection thread hands its P off to block in read(2) and it
// was the last P running, the runtime's handoffp wakes a thread "to poll
// the network" unless one already sits in the poller; that thread finds
// nothing, and goes back to sleep: two context switches per request on
// top of the read's own, and the CPU they cost (doc.go). A thread waits in
// the poller only while some goroutine waits on it, and the thread model
// has none of its own: its sockets are plain blocking descriptors. A pipe
// that never receives a byte is that goroutine. It costs one goroutine,
// two descriptors and the one thread asleep in epoll_wait, whatever the
// connection count.
func parkPoller() (stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("parking a goroutine in the poller: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		r.Read(b[:]) // returns at stop, when the write end closes
		r.Close()
	}()
	return func() {
		w.Close()
		<-done
	}, nil
}
