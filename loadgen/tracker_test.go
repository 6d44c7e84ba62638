package loadgen

import (
	"net"
	"sync"
)

// connTracker is a test server's accept loop and the connections it holds,
// so that shutting the server down closes every one of them and waits for
// their goroutines.
type connTracker struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// start accepts until the listener is closed, and runs serve on each
// connection in a goroutine of its own; the connection is closed and
// forgotten when serve returns.
func (t *connTracker) start(serve func(net.Conn)) {
	t.conns = map[net.Conn]struct{}{}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			c, err := t.ln.Accept()
			if err != nil {
				return
			}
			t.mu.Lock()
			t.conns[c] = struct{}{}
			t.mu.Unlock()
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				defer func() {
					c.Close()
					t.mu.Lock()
					delete(t.conns, c)
					t.mu.Unlock()
				}()
				serve(c)
			}()
		}
	}()
}

// shutdown closes the listener and every connection, then waits until
// every goroutine of the server has returned.
func (t *connTracker) shutdown() {
	t.ln.Close()
	t.mu.Lock()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}
