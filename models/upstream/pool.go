package upstream

import "sync"

// Pool keeps idle keep-alive connections, a stack per target: the most
// recently used connection is reused first, so a quiet period lets the
// others sit unused (and a backend's idle timeout close them) instead of
// spreading requests over all of them. C is a model's connection type.
// It is safe for concurrent use; the event loop pays an uncontended lock.
type Pool[C comparable] struct {
	mu     sync.Mutex
	idle   [][]C
	closed bool
}

// NewPool returns a pool for targets backends.
func NewPool[C comparable](targets int) *Pool[C] {
	return &Pool[C]{idle: make([][]C, targets)}
}

// Get takes an idle connection to target i, if there is one.
func (p *Pool[C]) Get(i int) (c C, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.idle[i]
	if len(s) == 0 {
		return c, false
	}
	c = s[len(s)-1]
	var zero C
	s[len(s)-1] = zero
	p.idle[i] = s[:len(s)-1]
	return c, true
}

// Put returns a connection to target i after a complete keep-alive answer.
// It reports false when the pool is full or closed: the caller closes c.
func (p *Pool[C]) Put(i int, c C) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[i]) >= MaxIdle {
		return false
	}
	p.idle[i] = append(p.idle[i], c)
	return true
}

// Remove forgets an idle connection that died while in the pool (the
// backend closed it) and reports whether it was there. It scans the stack
// from the top; it runs once per connection the backend drops, not per
// request.
func (p *Pool[C]) Remove(i int, c C) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.idle[i]
	for j := len(s) - 1; j >= 0; j-- {
		if s[j] == c {
			copy(s[j:], s[j+1:])
			var zero C
			s[len(s)-1] = zero
			p.idle[i] = s[:len(s)-1]
			return true
		}
	}
	return false
}

// Idle returns how many idle connections the pool holds to target i.
func (p *Pool[C]) Idle(i int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle[i])
}

// Close empties the pool and returns what it held, for the caller to
// close; from then on Put refuses every connection.
func (p *Pool[C]) Close() []C {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var all []C
	for i, s := range p.idle {
		all = append(all, s...)
		p.idle[i] = nil
	}
	return all
}
