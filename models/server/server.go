package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultAddr is where a server listens unless told otherwise: loopback only.
const DefaultAddr = "127.0.0.1:8080"

// Config is the work every model does per request, identical across models.
type Config struct {
	Addr     string        // host:port to listen on; port 0 picks a free one
	BodySize int           // response body size in bytes
	Work     time.Duration // CPU burned per request, on the serving thread
	Wait     time.Duration // simulated backend I/O per request

	// Procs is how many processes serve Addr together, each with a
	// listening socket of its own (c10k serve -procs, nginx's
	// worker_processes with reuseport). Above 1 the socket is opened with
	// SO_REUSEPORT, so the kernel spreads new connections between them;
	// 0 or 1: this process alone, without SO_REUSEPORT.
	Procs int

	// Upstreams, when set, makes every request a proxied one: the server
	// sends Fanout GETs to these backends (IPv4 HOST:PORT, round-robin)
	// over pooled keep-alive connections and answers once all have
	// answered, with 502 when one failed and 504 when one took longer
	// than UpstreamTimeout. See package upstream.
	Upstreams       []string
	Fanout          int           // backend calls per request; 0 means 1
	UpstreamTimeout time.Duration // per backend call; 0 means 2 s
}

// Server is one model's server. Serve blocks until Close is called (it then
// returns nil) or the server fails.
type Server interface {
	Addr() net.Addr
	Serve() error
	Close() error
}

// Burn spins the calling thread for d of wall time, reading the clock only
// every few iterations so the burn is mostly arithmetic, not vDSO calls.
// It stands for the CPU a real handler spends per request.
func Burn(d time.Duration) {
	if d <= 0 {
		return
	}
	deadline := time.Now().Add(d)
	x := uint64(1)
	for {
		for i := 0; i < 64; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if time.Now().After(deadline) {
			break
		}
	}
	burnSink.Store(x)
}

// burnSink keeps the burn from being optimised away. Atomic, because
// threads burning at once on several CPUs all store to it: a plain
// variable is a data race the race detector reports.
var burnSink atomic.Uint64

// ReusePort reports whether servers configured by c should open their
// listening sockets with SO_REUSEPORT: when they are one of several
// processes on the same address.
func (c Config) ReusePort() bool { return c.Procs > 1 }

// Listen opens a non-blocking IPv4 TCP listening socket on addr and returns
// its fd and the bound address. SO_REUSEADDR is set because a port inside
// the ephemeral range can still be held by a client socket in TIME_WAIT
// from the previous run; without it the next start fails with EADDRINUSE.
// With reusePort it also sets SO_REUSEPORT, so that other processes (of
// the same user) may listen on the same address and port, each accepting
// a share of the new connections (Config.Procs). The backlog is the
// kernel's maximum (somaxconn), as nginx asks for.
func Listen(addr string, reusePort bool) (fd int, bound *net.TCPAddr, err error) {
	fd, bound, err = bind(addr, reusePort)
	if err != nil {
		return -1, nil, err
	}
	if err = unix.Listen(fd, backlog()); err != nil {
		unix.Close(fd)
		return -1, nil, os.NewSyscallError("listen", err)
	}
	return fd, bound, nil
}

// Reserve binds a SO_REUSEPORT socket to addr without listening on it and
// returns its fd and the bound address, port 0 resolved. It is how the
// process that starts several servers on one port picks the port once:
// each server then listens on the bound address with Listen(addr, true)
// while the reserving socket holds the port against other programs.
// Reserve never listens because a listening socket that nobody accepts on
// would get its share of connections from the kernel and stall them; a
// socket that is only bound gets none.
func Reserve(addr string) (fd int, bound *net.TCPAddr, err error) {
	return bind(addr, true)
}

// bind is the socket Listen and Reserve share: their options must match
// for a reserved port to accept the listeners.
func bind(addr string, reusePort bool) (fd int, bound *net.TCPAddr, err error) {
	ap, err := resolve(addr)
	if err != nil {
		return -1, nil, err
	}
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, os.NewSyscallError("socket", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return -1, nil, os.NewSyscallError("setsockopt SO_REUSEADDR", err)
	}
	if reusePort {
		if err = setReusePort(fd); err != nil {
			return -1, nil, err
		}
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	if err = unix.Bind(fd, sa); err != nil {
		return -1, nil, fmt.Errorf("server: bind %s: %w", addr, os.NewSyscallError("bind", err))
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return -1, nil, os.NewSyscallError("getsockname", err)
	}
	in4, ok := got.(*unix.SockaddrInet4)
	if !ok {
		return -1, nil, errors.New("server: listener is not IPv4")
	}
	return fd, &net.TCPAddr{IP: net.IP(in4.Addr[:]), Port: in4.Port}, nil
}

func setReusePort(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return os.NewSyscallError("setsockopt SO_REUSEPORT", err)
	}
	return nil
}

// ReusePortControl is a net.ListenConfig Control function that sets
// SO_REUSEPORT before the bind, for the models that listen through Go's
// net package (see Listen).
func ReusePortControl(network, address string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) { err = setReusePort(int(fd)) }); cerr != nil {
		return cerr
	}
	return err
}

func resolve(addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("server: address %q: %w", addr, err)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() {
		return netip.AddrPort{}, fmt.Errorf("server: address %q: host must be an IPv4 address", addr)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("server: address %q: bad port", addr)
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// backlog reads somaxconn; the kernel caps any larger value to it anyway.
func backlog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 4096
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 4096
	}
	return n
}
