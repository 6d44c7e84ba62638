package goroutine

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"c10k/models/upstream"
)

// upReadBufSize is a backend connection's first read buffer: our backend's
// answer is a few hundred bytes. It doubles up to upstream.MaxResponse for
// a larger one and stays grown, since the next answer is likely as large.
const upReadBufSize = 1 << 10

// upConn is a keep-alive connection to a backend.
type upConn struct {
	c   net.Conn
	buf []byte
}

// call is one backend call of a fanned-out request, run by a helper.
type call struct {
	s      *Server
	target int
	err    error
	wg     *sync.WaitGroup
}

// gather is a connection's fan-out state, made on its first proxied
// request and reused for every later one, so a request allocates nothing.
type gather struct {
	calls []call // K-1: the connection's own goroutine makes the Kth call
	wg    sync.WaitGroup
}

// proxy makes the request's K backend calls at once and waits for all of
// them: K-1 on helper goroutines and one on the connection's own, with a
// WaitGroup as the gather. It returns the status of the answer: 200, or
// the first failed call's 502 or 504.
func (c *conn) proxy() int {
	u := c.s.ups
	if u == nil {
		return 200
	}
	if u.Fanout == 1 {
		return upstream.Status(c.s.call(u.Pick()))
	}
	g := c.gather
	if g == nil {
		g = &gather{calls: make([]call, u.Fanout-1)}
		for i := range g.calls {
			g.calls[i] = call{s: c.s, wg: &g.wg}
		}
		c.gather = g
	}
	g.wg.Add(len(g.calls))
	for i := range g.calls {
		g.calls[i].target = u.Pick()
		c.s.helpers.run(&g.calls[i])
	}
	err := c.s.call(u.Pick())
	g.wg.Wait()
	for i := range g.calls {
		err = cmp(err, g.calls[i].err)
		g.calls[i].err = nil
	}
	return upstream.Status(err)
}

// cmp keeps the first error.
func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// helpers is a pool of goroutines that make backend calls. A `go`
// statement per call would allocate its closure on every request; a
// helper parked on an unbuffered channel takes the next call instead, and
// a new helper is started only when none is parked, so the pool grows to
// the peak number of calls in flight and stays there until Close.
type helpers struct {
	work chan *call
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newHelpers() *helpers {
	return &helpers{work: make(chan *call), quit: make(chan struct{})}
}

// run hands c to a parked helper, or starts one for it.
func (h *helpers) run(c *call) {
	select {
	case h.work <- c:
		return
	default:
	}
	h.wg.Add(1)
	go h.loop(c)
}

func (h *helpers) loop(c *call) {
	defer h.wg.Done()
	for {
		c.err = c.s.call(c.target)
		c.wg.Done()
		select {
		case c = <-h.work:
		case <-h.quit:
			return
		}
	}
}

// stop ends the parked helpers; one still in a call ends after it.
func (h *helpers) stop() { h.once.Do(func() { close(h.quit) }) }

// call sends one GET to target i on a pooled connection, or a new one, and
// reads the answer. A pooled connection that fails before a byte of the
// answer arrived may have been closed by the backend while idle, which
// the request could not know: that call is made once more on a new
// connection, as nginx and Go's http.Transport do.
func (s *Server) call(i int) error {
	t := &s.ups.Targets[i]
	uc, reused := s.pool.Get(i)
	for {
		if !reused {
			c, err := net.DialTimeout("tcp", t.Addr, s.ups.Timeout)
			if err != nil {
				return fmt.Errorf("goroutine: %w", upError(t, err, upstream.ErrConnect))
			}
			uc = &upConn{c: c, buf: make([]byte, upReadBufSize)}
		}
		keep, got, err := uc.roundTrip(t, s.ups.Timeout)
		if err == nil && keep && s.pool.Put(i, uc) {
			return nil
		}
		uc.c.Close()
		if err != nil && reused && got == 0 && !errors.Is(err, upstream.ErrTimeout) {
			reused = false
			continue
		}
		return err
	}
}

// roundTrip writes t's GET and reads one answer within timeout. It
// returns whether the connection may be reused and how many answer bytes
// arrived.
func (u *upConn) roundTrip(t *upstream.Target, timeout time.Duration) (keep bool, got int, err error) {
	if err := u.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return false, 0, fmt.Errorf("goroutine: %w", upError(t, err, upstream.ErrClosed))
	}
	if _, err := u.c.Write(t.Request); err != nil {
		return false, 0, fmt.Errorf("goroutine: %w", upError(t, err, upstream.ErrClosed))
	}
	n := 0
	for {
		if n == len(u.buf) {
			if n >= upstream.MaxResponse {
				return false, n, fmt.Errorf("goroutine: %s: %w", t.Addr, upstream.ErrMalformed)
			}
			bigger := make([]byte, min(2*len(u.buf), upstream.MaxResponse))
			copy(bigger, u.buf[:n])
			u.buf = bigger
		}
		r, err := u.c.Read(u.buf[n:])
		n += r
		if r > 0 {
			k, keepAlive, ferr := upstream.Frame(u.buf[:n])
			switch {
			case ferr != nil:
				return false, n, fmt.Errorf("goroutine: %s: %w", t.Addr, ferr)
			case k > 0:
				// Bytes past the answer were never asked for: the
				// stream cannot be trusted for the next call.
				return keepAlive && k == n, n, nil
			}
		}
		if err != nil {
			return false, n, fmt.Errorf("goroutine: %w", upError(t, err, upstream.ErrClosed))
		}
	}
}

// upError classifies a network error on a backend connection: a deadline
// or dial timeout is ErrTimeout, anything else is kind.
func upError(t *upstream.Target, err, kind error) error {
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		kind = upstream.ErrTimeout
	}
	return fmt.Errorf("%s: %w: %w", t.Addr, kind, err)
}

// closeUpstreams stops the helpers and closes the idle connections, once
// no connection goroutine is left to use them.
func (s *Server) closeUpstreams() {
	if s.ups == nil {
		return
	}
	s.helpers.stop()
	s.helpers.wg.Wait()
	for _, uc := range s.pool.Close() {
		uc.c.Close()
	}
}
