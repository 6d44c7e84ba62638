package uring

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	iouring "c10k/internal/uring"
	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// ErrServing is returned by a second call to Serve.
var ErrServing = errors.New("uring: already serving")

// ErrUnavailable is wrapped by New's error, and by Available's, when this
// machine cannot run io_uring: no io_uring in the kernel (ENOSYS), a
// kernel older than 6.0, kernel.io_uring_disabled, or a seccomp filter
// (EPERM). The error says which.
var ErrUnavailable = iouring.ErrUnavailable

// Available reports whether the model can run here: nil, or an error
// wrapping ErrUnavailable that says why not. It probes once per process.
func Available() error { return iouring.Available() }

// sizes are the sizes of the ring and of its provided buffers.
type sizes struct {
	sq, cq           uint32
	bufFirst, bufMax int
}

// defaultSizes are the model's; tests shrink them to drive the paths a
// busy server takes (a full submission queue, an overflowing completion
// queue, running out of buffers) with a handful of connections.
var defaultSizes = sizes{
	sq: 1024,
	// The completion queue is generous: multishot requests post
	// completions without submissions, and a completion that finds the
	// queue full waits on the kernel's overflow list, which costs a flush.
	cq: 16384,
	// bufFirst buffers are provided at start and the count doubles each
	// time the kernel runs out (ENOBUFS), up to bufMax: the memory touched
	// is what the peak of receives in one pass needed, not a reservation.
	bufFirst: 64,
	bufMax:   4096,
}

const (
	bufGroup = 0
	// bufSize holds a burst of pipelined requests in one receive; a
	// request split across two is copied into the connection, the rare
	// case.
	bufSize = 4 << 10
)

// Server is the io_uring model. Build it with New, run it with Serve and
// stop it with Close.
type Server struct {
	cfg    server.Config
	resp   *wire.Responder
	ring   *iouring.Ring
	bufs   *iouring.BufRing
	lfd    int
	addr   *net.TCPAddr
	wakefd int
	conns  table
	acc    acceptor
	px     *proxy // nil: not a proxy
	pool   bufPool
	req    wire.Request // the request being answered; the loop answers one at a time
	waitTS unix.Timespec

	// Connections whose output goes out, and connections to resume, at
	// the end of this pass; resuming is the other half of a swapped pair.
	sendq, resumeq, resuming []*conn
	fatal                    error // set by a failed submission: the loop stops
	scratch                  iouring.SQE
	noBufs                   int  // receives ended by ENOBUFS, for tests
	shortOfBufs              bool // a receive of this pass ended with ENOBUFS
	batch                    batcher

	stopping atomic.Bool
	wakeMu   sync.Mutex // guards wakefd between Close's write and release's close
	life     server.Lifecycle
}

// New sets up the ring, listens on cfg.Addr (server.DefaultAddr when
// empty) and prepares the loop; Serve starts answering. Where io_uring is
// unavailable the error wraps ErrUnavailable.
func New(cfg server.Config) (*Server, error) { return newServer(cfg, defaultSizes) }

func newServer(cfg server.Config, sz sizes) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = server.DefaultAddr
	}
	ups, err := upstream.New(cfg.Upstreams, cfg.Fanout, cfg.UpstreamTimeout)
	if err != nil {
		return nil, fmt.Errorf("uring: %w", err)
	}
	s := &Server{cfg: cfg, resp: wire.NewResponder(cfg.BodySize), lfd: -1, wakefd: -1,
		waitTS: unix.NsecToTimespec(cfg.Wait.Nanoseconds())}
	s.acc = acceptor{srv: s, retryTS: unix.NsecToTimespec(acceptRetry.Nanoseconds())}
	if ups != nil {
		s.px = newProxy(s, ups)
	}
	if s.ring, err = iouring.New(sz.sq, sz.cq); err != nil {
		return nil, err
	}
	if s.bufs, err = s.ring.NewBufRing(bufGroup, uint32(sz.bufMax), bufSize, sz.bufFirst); err != nil {
		s.release()
		return nil, err
	}
	if s.wakefd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		s.release()
		return nil, fmt.Errorf("uring: %w", os.NewSyscallError("eventfd", err))
	}
	if s.lfd, s.addr, err = server.Listen(cfg.Addr, cfg.ReusePort()); err != nil {
		s.release()
		return nil, fmt.Errorf("uring: %w", err)
	}
	// Set on the listener, TCP_NODELAY is copied by Linux to every socket
	// accept returns: no setsockopt per connection. Nagle would hold the
	// second of two small pipelined answers for the client's delayed ACK.
	_ = unix.SetsockoptInt(s.lfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.addr }

// StartNote is the line `c10k serve` logs at start: what the ring got.
func (s *Server) StartNote() string {
	return fmt.Sprintf("io_uring set up with %s; %d receive buffers of %d KiB, growing to %d as needed",
		s.ring.Setup(), s.bufs.Provided(), bufSize>>10, s.bufs.Cap())
}

// Serve runs the loop on the calling goroutine, locked to its OS thread,
// until Close. It then closes the listener and every connection and
// returns nil. After Close it returns nil at once.
func (s *Server) Serve() error {
	err := s.life.Serve(ErrServing, s.run, s.release)
	if err == nil || err == ErrServing {
		return err
	}
	return fmt.Errorf("uring: serve: %w", err)
}

// Close stops the loop and waits until Serve has closed the listener and
// every connection, so that a dial after Close is refused. It may be
// called from any goroutine but the loop's, and more than once.
func (s *Server) Close() error { return s.life.Close(s.stop, s.release) }

// stop makes the loop return: it sees stopping at its next pass, which
// the eventfd's completion starts.
func (s *Server) stop() {
	s.stopping.Store(true)
	// Under wakeMu: release closes the eventfd under it too, so this
	// write cannot meet a closed (or reused) descriptor.
	s.wakeMu.Lock()
	if s.wakefd >= 0 {
		_, _ = unix.Write(s.wakefd, eventfdOne[:])
	}
	s.wakeMu.Unlock()
}

// eventfdOne is the 8-byte native-endian 1 a write adds to an eventfd.
var eventfdOne = [8]byte{1}

// release closes the connections, the listener and the ring; it runs once
// the loop has returned, or instead of Serve.
//
// Every socket is shut down before it is closed: the ring's requests hold
// references to them, so close(2) alone would leave them open until the
// kernel tears the ring down, after Close returned; shutdown ends them
// now (clients read end of file, the port refuses dials) and completes
// the receives, so no buffer is written after the buffers are unmapped.
func (s *Server) release() error {
	s.acc.stopped = true
	if s.px != nil {
		s.px.pool.Close()
	}
	var errs []error
	s.conns.each(func(c *conn) {
		if c.flags&fClosed == 0 {
			_ = unix.Shutdown(int(c.fd), unix.SHUT_RDWR)
			if err := unix.Close(int(c.fd)); err != nil {
				errs = append(errs, os.NewSyscallError("close", err))
			}
		}
		s.conns.release(c)
	})
	if s.lfd >= 0 {
		_ = unix.Shutdown(s.lfd, unix.SHUT_RDWR)
		if err := unix.Close(s.lfd); err != nil {
			errs = append(errs, os.NewSyscallError("close", err))
		}
		s.lfd = -1
	}
	s.wakeMu.Lock()
	if s.wakefd >= 0 {
		if err := unix.Close(s.wakefd); err != nil {
			errs = append(errs, os.NewSyscallError("close", err))
		}
		s.wakefd = -1
	}
	s.wakeMu.Unlock()
	if s.ring != nil {
		errs = append(errs, s.ring.Close())
	}
	if s.bufs != nil {
		errs = append(errs, s.bufs.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("uring: close: %w", err)
	}
	return nil
}
