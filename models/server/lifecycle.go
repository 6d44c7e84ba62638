package server

import "sync"

// Lifecycle is the Serve and Close protocol the loop models share: Serve
// runs once, on the goroutine that calls it; Close may come from any
// other goroutine, before, during or after Serve, and more than once; and
// once Close has returned, the server's sockets are closed, so a dial is
// refused. The zero value is a server not yet served.
type Lifecycle struct {
	mu    sync.Mutex
	state lifeState
	done  chan struct{} // closed when a Serve has released everything
}

type lifeState int

const (
	lifeNew lifeState = iota
	lifeServing
	lifeClosed
)

// Serve runs run and then release, unless Close came first, when it
// returns nil at once. A second Serve returns errServing. The error is
// run's, else release's.
func (l *Lifecycle) Serve(errServing error, run, release func() error) error {
	l.mu.Lock()
	switch l.state {
	case lifeServing:
		l.mu.Unlock()
		return errServing
	case lifeClosed:
		l.mu.Unlock()
		return nil
	}
	l.state = lifeServing
	l.done = make(chan struct{})
	l.mu.Unlock()

	err := run()
	if rerr := release(); err == nil {
		err = rerr
	}
	close(l.done)
	return err
}

// Close ends the server. While Serve runs, it calls stop, which must make
// run return, and waits until Serve has released everything; before any
// Serve it calls release itself. Later calls return nil at once.
func (l *Lifecycle) Close(stop func(), release func() error) error {
	l.mu.Lock()
	switch l.state {
	case lifeClosed:
		l.mu.Unlock()
		return nil
	case lifeNew:
		l.state = lifeClosed
		l.mu.Unlock()
		return release()
	}
	l.state = lifeClosed
	done := l.done
	l.mu.Unlock()
	stop()
	<-done
	return nil
}
