package upstream

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/wire"
)

// Defaults applied by New to a zero Fanout or Timeout.
const (
	DefaultFanout  = 1
	DefaultTimeout = 2 * time.Second
)

// MaxFanout bounds the backend calls per client request: the gather
// scenario goes to 16, and a typo of 10000 should be an error, not a
// thousand sockets per request.
const MaxFanout = 256

// MaxResponse is the largest backend answer a model reads, head and body.
// Our backend sends a few hundred bytes; a 64 KiB cap keeps a backend that
// never ends its answer from growing a buffer without bound.
const MaxResponse = 64 << 10

// MaxIdle is how many idle connections the pool keeps per backend, like
// nginx's "keepalive" directive. It is high enough that the proxy
// scenario's 4,000 concurrent requests reuse their connections instead of
// churning through TIME_WAIT, and bounded so that a burst does not leave
// thousands of descriptors open for good.
const MaxIdle = 4096

// Errors of a backend call. Status maps them to the client's answer.
var (
	// ErrConnect: the backend refused the connection, or it could not be
	// opened at all.
	ErrConnect = errors.New("upstream: connect failed")
	// ErrClosed: the backend closed the connection (or reset it) before
	// its answer was complete.
	ErrClosed = errors.New("upstream: connection closed before the answer")
	// ErrMalformed: the answer cannot be framed, or is over MaxResponse.
	ErrMalformed = errors.New("upstream: malformed answer")
	// ErrTimeout: no complete answer within the timeout.
	ErrTimeout = errors.New("upstream: timed out")
	// ErrConfig: the upstream settings are invalid.
	ErrConfig = errors.New("upstream: bad configuration")
)

// Status is the HTTP status a client gets for a failed backend call:
// 504 for a timeout, 502 for anything else, 200 for nil.
func Status(err error) int {
	switch {
	case err == nil:
		return 200
	case errors.Is(err, ErrTimeout):
		return 504
	default:
		return 502
	}
}

// Target is one backend.
type Target struct {
	Addr     string             // as given, HOST:PORT
	Sockaddr unix.SockaddrInet4 // for connect(2)
	// Request is the GET the backend receives: built once, written as is.
	Request []byte
}

// Set is the backends a server proxies to and how: every client request
// makes Fanout calls, spread round-robin over Targets, each of which must
// answer within Timeout.
type Set struct {
	Targets []Target
	Fanout  int
	Timeout time.Duration
	next    atomic.Uint64
}

// New resolves addrs (IPv4 HOST:PORT, "localhost" allowed) and applies the
// defaults: a zero fanout is DefaultFanout, a zero timeout DefaultTimeout.
// It returns nil and no error when addrs is empty: the server does not
// proxy.
func New(addrs []string, fanout int, timeout time.Duration) (*Set, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	if fanout == 0 {
		fanout = DefaultFanout
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	switch {
	case fanout < 0 || fanout > MaxFanout:
		return nil, fmt.Errorf("%w: fanout %d: want 1 to %d", ErrConfig, fanout, MaxFanout)
	case timeout < 0:
		return nil, fmt.Errorf("%w: timeout %v: must not be negative", ErrConfig, timeout)
	}
	s := &Set{Fanout: fanout, Timeout: timeout}
	for _, a := range addrs {
		t, err := resolve(a)
		if err != nil {
			return nil, err
		}
		s.Targets = append(s.Targets, t)
	}
	return s, nil
}

func resolve(addr string) (Target, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Target{}, fmt.Errorf("%w: upstream %q: %w", ErrConfig, addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() || ip.IsUnspecified() {
		return Target{}, fmt.Errorf("%w: upstream %q: host must be an IPv4 address", ErrConfig, addr)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return Target{}, fmt.Errorf("%w: upstream %q: bad port", ErrConfig, addr)
	}
	return Target{
		Addr:     addr,
		Sockaddr: unix.SockaddrInet4{Port: int(p), Addr: ip.As4()},
		Request:  wire.AppendRequest(nil, addr, "/"),
	}, nil
}

// Pick returns the index of the target for the next call: round-robin
// over the whole process, so K calls of one request spread over K targets
// when there are that many.
func (s *Set) Pick() int {
	if len(s.Targets) == 1 {
		return 0
	}
	return int((s.next.Add(1) - 1) % uint64(len(s.Targets)))
}

// Frame frames the backend answer at the start of buf, with the contract
// of wire.ParseResponse: n > 0 once it is complete, 0 and nil to read
// more, ErrMalformed for bytes that can never be an answer or one larger
// than MaxResponse. keepAlive says whether the connection may be reused.
func Frame(buf []byte) (n int, keepAlive bool, err error) {
	var head wire.ResponseHead
	n, err = wire.ParseResponse(buf, &head)
	switch {
	case err != nil, head.Chunked:
		// Our backends answer with a Content-Length; a chunked answer is
		// one the pool does not expect (the load generator reads it).
		return 0, false, ErrMalformed
	case n > MaxResponse || n == 0 && len(buf) >= MaxResponse:
		return 0, false, ErrMalformed
	case n == 0:
		return 0, false, nil
	}
	return n, head.KeepAlive, nil
}

// Dial opens a TCP socket to t and starts connecting it. A blocking socket
// (the thread model) gets timeout as SO_SNDTIMEO and SO_RCVTIMEO, which
// bound the connect and each read and write; a non-blocking one returns
// at once with connected false while the connect is in progress: the
// caller waits for writability and calls ConnectResult. The fd is closed
// on error, which wraps ErrConnect or, for a connect that timed out,
// ErrTimeout.
func Dial(t *Target, nonblocking bool, timeout time.Duration) (fd int, connected bool, err error) {
	flags := unix.SOCK_STREAM | unix.SOCK_CLOEXEC
	if nonblocking {
		flags |= unix.SOCK_NONBLOCK
	}
	fd, err = unix.Socket(unix.AF_INET, flags, 0)
	if err != nil {
		return -1, false, fmt.Errorf("%w: %s: %w", ErrConnect, t.Addr, os.NewSyscallError("socket", err))
	}
	// The GET is small and must leave at once, not wait for an ACK (Nagle).
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if !nonblocking {
		tv := unix.NsecToTimeval(timeout.Nanoseconds())
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	}
	for {
		err = unix.Connect(fd, &t.Sockaddr)
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case err == nil:
		return fd, true, nil
	case err == unix.EINPROGRESS && nonblocking:
		return fd, false, nil
	}
	unix.Close(fd)
	return -1, false, connectError(t, err)
}

// ConnectResult reads how the non-blocking connect on fd ended, once the
// socket is writable: nil, or an error wrapping ErrConnect.
func ConnectResult(t *Target, fd int) error {
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrConnect, t.Addr, os.NewSyscallError("getsockopt SO_ERROR", err))
	}
	if errno != 0 {
		return connectError(t, unix.Errno(errno))
	}
	return nil
}

func connectError(t *Target, err error) error {
	kind := ErrConnect
	// A blocking connect past SO_SNDTIMEO fails with EINPROGRESS.
	if err == unix.EINPROGRESS || err == unix.ETIMEDOUT || err == unix.EAGAIN {
		kind = ErrTimeout
	}
	return fmt.Errorf("%w: %s: %w", kind, t.Addr, os.NewSyscallError("connect", err))
}
