package epoll

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"c10k/internal/eventloop"
	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// ErrServing is returned by a second call to Serve.
var ErrServing = errors.New("epoll: already serving")

// Server is the event-loop model. Build it with New, run it with Serve and
// stop it with Close.
type Server struct {
	cfg  server.Config
	resp *wire.Responder
	loop *eventloop.Loop
	lfd  int
	addr *net.TCPAddr
	http *protocol
	acc  acceptor
	px   *proxy // nil: not a proxy
	life server.Lifecycle
}

// New listens on cfg.Addr (server.DefaultAddr when empty) and prepares the
// loop; Serve starts answering.
func New(cfg server.Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = server.DefaultAddr
	}
	ups, err := upstream.New(cfg.Upstreams, cfg.Fanout, cfg.UpstreamTimeout)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	lfd, addr, err := server.Listen(cfg.Addr, cfg.ReusePort())
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	loop, err := eventloop.New()
	if err != nil {
		unix.Close(lfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	s := &Server{
		cfg:  cfg,
		resp: wire.NewResponder(cfg.BodySize),
		loop: loop,
		lfd:  lfd,
		addr: addr,
	}
	s.http = &protocol{srv: s}
	s.acc = acceptor{srv: s}
	if ups != nil {
		s.px = newProxy(s, ups)
	}
	if err := loop.Watch(lfd, eventloop.Readable, s.acc.onReadable); err != nil {
		loop.Close()
		unix.Close(lfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.addr }

// Serve runs the event loop on the calling goroutine, locked to its OS
// thread, until Close. It then closes the listener and every connection
// and returns nil. After Close it returns nil at once.
func (s *Server) Serve() error {
	err := s.life.Serve(ErrServing, s.loop.Run, s.release)
	if err == nil || err == ErrServing {
		return err
	}
	return fmt.Errorf("epoll: serve: %w", err)
}

// Close stops the loop and waits until Serve has closed the listener and
// every connection, so that a dial after Close is refused. It may be
// called from any goroutine but the loop's, and more than once.
func (s *Server) Close() error { return s.life.Close(s.loop.Stop, s.release) }

// release closes the listener, the connections and the loop; it runs on
// the loop's goroutine once Run has returned, or instead of Serve.
func (s *Server) release() error {
	s.acc.stop()
	if s.px != nil {
		s.px.close()
	}
	errUnwatch := s.loop.Unwatch(s.lfd)
	errLoop := s.loop.Close()
	var errListen error
	if err := unix.Close(s.lfd); err != nil {
		errListen = os.NewSyscallError("close", err)
	}
	if err := errors.Join(errUnwatch, errLoop, errListen); err != nil {
		return fmt.Errorf("epoll: close: %w", err)
	}
	return nil
}
