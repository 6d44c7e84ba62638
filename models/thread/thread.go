package thread

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// ErrServing is returned by a second call to Serve.
var ErrServing = errors.New("thread: Serve already called")

// Accept back-off while out of descriptors or memory: the pending
// connection stays in the backlog and accept(2) fails at once until a
// descriptor is freed, so retrying without a pause spins a core. The cap
// bounds how long a freed descriptor waits for the next attempt.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = 200 * time.Millisecond
)

type state int

const (
	idle state = iota
	serving
	closed
)

// Server is the thread-per-connection server. It implements server.Server.
type Server struct {
	cfg    server.Config
	resp   *wire.Responder
	lfd    int
	addr   *net.TCPAddr
	limits Limits
	ups    *upstream.Set           // nil: not a proxy
	pool   *upstream.Pool[*upConn] // idle backend connections
	mech   Mechanism

	mu        sync.Mutex
	state     state
	lfdClosed bool             // by Serve, on its way out
	conns     map[int]struct{} // live connection fds, shut down by Close
	wg        sync.WaitGroup   // connection goroutines

	maxProcs int         // bound on GOMAXPROCS for the mechanisms that grow it
	lpoll    unix.PollFd // the listener, for the acceptor's ppoll(2)

	refusedLog server.RateLog
	acceptLog  server.RateLog
}

var _ server.Server = (*Server)(nil)

// New opens the listening socket on cfg.Addr; the server accepts
// connections into the backlog from then on and serves them once Serve runs.
func New(cfg server.Config) (*Server, error) {
	ups, err := upstream.New(cfg.Upstreams, cfg.Fanout, cfg.UpstreamTimeout)
	if err != nil {
		return nil, fmt.Errorf("thread: %w", err)
	}
	mech, err := mechanismFromEnv()
	if err != nil {
		return nil, err
	}
	fd, addr, err := server.Listen(cfg.Addr, cfg.ReusePort())
	if err != nil {
		return nil, fmt.Errorf("thread: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		resp:     wire.NewResponder(cfg.BodySize),
		lfd:      fd,
		addr:     addr,
		limits:   ProcessLimits(cfg.Procs),
		mech:     mech,
		maxProcs: maxProcsFromEnv(),
		conns:    make(map[int]struct{}),
		ups:      ups,
		lpoll:    unix.PollFd{Fd: int32(fd), Events: unix.POLLIN},
	}
	if ups != nil {
		s.pool = upstream.NewPool[*upConn](len(ups.Targets))
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.addr }

// Limits reports the thread limits the server runs under.
func (s *Server) Limits() Limits { return s.limits }

// Serve accepts connections on the calling goroutine, locked to its thread
// and blocked in accept(2), and starts a thread for each. It returns nil
// once Close is called, after every connection thread has finished.
func (s *Server) Serve() error {
	s.mu.Lock()
	switch s.state {
	case closed:
		s.mu.Unlock()
		return nil
	case serving:
		s.mu.Unlock()
		return ErrServing
	}
	s.state = serving
	s.mu.Unlock()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := s.accepting()
	if err != nil {
		s.Close() // end the connections too: a failed server is a closed one
	}
	s.mu.Lock()
	unix.Close(s.lfd)
	s.lfdClosed = true
	s.mu.Unlock()
	s.wg.Wait()
	s.closeUpstreams()
	return err
}

// accepting sets the acceptor up for the mechanism and runs the accept loop.
func (s *Server) accepting() error {
	if s.mech.parksPoller() {
		stop, err := parkPoller()
		if err != nil {
			return fmt.Errorf("thread: %w", err)
		}
		defer stop()
	}
	// Blocking accept(2): the acceptor thread sleeps in the kernel. Under
	// the hand-off mechanisms it sleeps in ppoll(2) instead (accept).
	if err := unix.SetNonblock(s.lfd, s.mech.handsOff()); err != nil {
		return fmt.Errorf("thread: %w", os.NewSyscallError("fcntl", err))
	}
	return s.acceptLoop()
}

func (s *Server) acceptLoop() error {
	backoff := time.Duration(0)
	for {
		fd, err := s.accept()
		if err == nil {
			backoff = 0
			s.start(fd)
			continue
		}
		if s.isClosed() {
			return nil
		}
		switch err {
		case unix.EINTR, unix.ECONNABORTED, unix.EPROTO, unix.EPERM:
			// The pending connection died or was refused by a filter:
			// nothing to do but take the next one.
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			s.acceptLog.Printf("thread: accept: %v; retrying in %v", err, backoff)
			time.Sleep(backoff)
		default:
			return fmt.Errorf("thread: %w", os.NewSyscallError("accept4", err))
		}
	}
}

// accept takes the next connection, the thread blocked in accept(2) until
// there is one.
//
// Under the hand-off mechanisms the listener is non-blocking, and the
// thread sleeps in ppoll(2), P handed off, only when the backlog is empty.
// An accept that returns at once then keeps the P, as a C acceptor keeps
// its CPU through a burst of connections. Handing the P off on every
// accept, as a blocking accept(2) must, sent the acceptor to the back of
// the queue for a P after each connection: with 300 connection threads
// busy it took about 50 connections a second, and 700 of 1,000 waited in
// the backlog for the whole run.
func (s *Server) accept() (int, error) {
	for {
		fd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(s.lfd), 0, 0, unix.SOCK_CLOEXEC, 0, 0)
		if errno == 0 {
			return int(fd), nil
		}
		if errno != unix.EAGAIN || !s.mech.handsOff() {
			return -1, errno
		}
		if err := pollHandoff(&s.lpoll); err != nil && err != unix.EINTR {
			return -1, err
		}
	}
}

// start gives the connection its own thread, unless the process is at its
// thread limit: going past it would abort the whole process, so the
// connection is closed instead.
func (s *Server) start(fd int) {
	s.mu.Lock()
	if s.state == closed {
		s.mu.Unlock()
		unix.Close(fd)
		return
	}
	if len(s.conns) >= s.limits.MaxConns {
		n := len(s.conns)
		s.mu.Unlock()
		unix.Close(fd)
		s.refusedLog.Printf("thread: refusing connection: %d connection threads, limit %d (%s allows %d threads)",
			n, s.limits.MaxConns, s.limits.BoundBy, s.limits.MaxThreads)
		return
	}
	s.conns[fd] = struct{}{}
	n := len(s.conns)
	s.wg.Add(1)
	s.mu.Unlock()
	if s.mech.growsProcs() {
		s.growProcs(n + 1) // the acceptor is a thread too
	}
	go s.serveConn(fd)
}

// serveConn runs one connection on its own thread.
func (s *Server) serveConn(fd int) {
	// Never unlocked: when this goroutine returns, still locked, the
	// runtime terminates its thread, so the thread dies with the
	// connection. Unlocked serves unlocked and locks as it ends, to the
	// same effect. (Deferred calls run last-in first-out: this runs after
	// the connection is released.)
	if s.mech.locked() {
		runtime.LockOSThread()
	} else {
		defer runtime.LockOSThread()
	}
	defer s.wg.Done()
	defer s.release(fd)
	c := conn{fd: fd, s: s}
	c.serve()
}

// release forgets fd before closing it, under the lock Close holds while it
// shuts connections down, so Close never touches a reused descriptor.
func (s *Server) release(fd int) {
	s.mu.Lock()
	delete(s.conns, fd)
	s.mu.Unlock()
	unix.Close(fd)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == closed
}

// Close stops accepting and ends every connection. Closing a descriptor
// does not wake a thread blocked on it, shutdown(2) does: on the listener it
// makes the blocked accept(2) fail, on a connection it makes read(2) return
// 0 and write(2) fail, and each thread then closes its own descriptor.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.state
	if prev == closed {
		return nil
	}
	s.state = closed
	var err error
	if prev == serving && !s.lfdClosed {
		if e := unix.Shutdown(s.lfd, unix.SHUT_RD); e != nil {
			err = fmt.Errorf("thread: %w", os.NewSyscallError("shutdown listener", e))
		}
	} else {
		unix.Close(s.lfd)
	}
	for fd := range s.conns {
		unix.Shutdown(fd, unix.SHUT_RDWR)
	}
	return err
}
