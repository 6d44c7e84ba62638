package goroutine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// ErrServing is returned by a second call to Serve.
var ErrServing = errors.New("goroutine: Serve already called")

// Accept back-off while out of descriptors or memory, as net/http does:
// the pending connection stays in the backlog and Accept fails at once
// until a descriptor is freed, so retrying without a pause spins a core.
// The cap bounds how long a freed descriptor waits for the next attempt.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = 200 * time.Millisecond
)

// Server is the goroutine-per-connection server. It implements server.Server.
type Server struct {
	cfg  server.Config
	resp *wire.Responder
	ln   net.Listener

	ups     *upstream.Set           // nil: not a proxy
	pool    *upstream.Pool[*upConn] // idle backend connections
	helpers *helpers                // goroutines for fanned-out calls

	mu      sync.Mutex
	serving bool
	closed  bool
	conns   map[net.Conn]struct{} // live connections, closed by Close
	wg      sync.WaitGroup        // connection goroutines

	acceptLog server.RateLog
}

var _ server.Server = (*Server)(nil)

// New listens on cfg.Addr with net.Listen, which on Linux sets
// SO_REUSEADDR itself (so a port held by a TIME_WAIT socket of the last run
// does not fail the start, as server.Listen guards against for the other
// models) and asks for the somaxconn backlog. With cfg.Procs above 1 it
// also sets SO_REUSEPORT, as server.Listen does.
func New(cfg server.Config) (*Server, error) {
	ups, err := upstream.New(cfg.Upstreams, cfg.Fanout, cfg.UpstreamTimeout)
	if err != nil {
		return nil, fmt.Errorf("goroutine: %w", err)
	}
	var lc net.ListenConfig
	if cfg.ReusePort() {
		lc.Control = server.ReusePortControl
	}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("goroutine: %w", err)
	}
	s := &Server{
		cfg:   cfg,
		resp:  wire.NewResponder(cfg.BodySize),
		ln:    ln,
		conns: make(map[net.Conn]struct{}),
		ups:   ups,
	}
	if ups != nil {
		s.pool = upstream.NewPool[*upConn](len(ups.Targets))
		s.helpers = newHelpers()
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections and serves each on its own goroutine. It
// returns nil once Close is called, after every connection has finished.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return ErrServing
	}
	s.serving = true
	s.mu.Unlock()

	err := s.acceptLoop()
	if err != nil {
		s.Close() // end the connections too: a failed server is a closed one
	}
	s.wg.Wait()
	s.closeUpstreams()
	return err
}

func (s *Server) acceptLoop() error {
	backoff := time.Duration(0)
	for {
		c, err := s.ln.Accept()
		if err == nil {
			backoff = 0
			s.start(c)
			continue
		}
		if s.isClosed() {
			return nil
		}
		if !isResourceError(err) {
			return fmt.Errorf("goroutine: accept: %w", err)
		}
		backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
		s.acceptLog.Printf("goroutine: accept: %v; retrying in %v", err, backoff)
		time.Sleep(backoff)
	}
}

// isResourceError reports the accept errors that a freed descriptor or
// some memory cures; the net package already retries the rest (EINTR,
// ECONNABORTED).
func isResourceError(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Server) start(c net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveConn(c)
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	cc := conn{c: c, s: s}
	cc.serve()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops accepting and closes every connection; goroutines blocked in
// Read or Write on them return at once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	if err != nil {
		return fmt.Errorf("goroutine: close listener: %w", err)
	}
	return nil
}
