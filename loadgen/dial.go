package loadgen

import (
	"errors"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// maxSources is the number of 127.0.0.x addresses usable as sources (.1-.254).
const maxSources = 254

// sourceShare is the fraction of the ephemeral port range one source
// address is planned to use: the rest stays for TIME_WAIT sockets of
// earlier runs and for the rest of the machine.
const sourceShare = 2

// planSources returns the source addresses to spread conns over: the
// first, as an offset from 127.0.0.1, and how many, asked if set,
// otherwise as many as the port range needs, one when it is enough; never
// past 127.0.0.254. Only an IPv4 loopback target can be reached from
// 127.0.0.x; any other gets (0, 1), the kernel's choice.
func planSources(asked, first, conns, ports int, dst netip.Addr) (int, int) {
	if !dst.Is4() || !dst.IsLoopback() {
		return 0, 1
	}
	first = min(max(first, 0), maxSources-1)
	n := asked
	if n <= 0 {
		n = sourcesNeeded(conns, ports)
	}
	return first, min(n, maxSources-first)
}

// SourcesNeeded is how many 127.0.0.x source addresses conns connections
// to one loopback destination need with this machine's ephemeral port
// range: Options.Sources's default, which c10k load -procs uses to give
// each process a range of its own.
func SourcesNeeded(conns int) int {
	return min(sourcesNeeded(conns, ephemeralPorts()), maxSources)
}

// sourcesNeeded plans for sourceShare of the port range per address.
func sourcesNeeded(conns, ports int) int {
	per := max(ports/sourceShare, 1)
	return max((conns+per-1)/per, 1)
}

// dialer opens non-blocking TCP sockets to one target. With more than one
// source it binds each socket to the next 127.0.0.x with port 0 and
// IP_BIND_ADDRESS_NO_PORT, so the kernel picks the port at connect time
// from the full 4-tuple instead of reserving one per address at bind time:
// each source then has the whole port range to itself for this
// destination, which is what lifts the ~28k connection ceiling of one
// address (wrk issue #190, 2017). A dialer belongs to one loop.
type dialer struct {
	family  int
	dst     unix.Sockaddr
	sources []unix.SockaddrInet4 // empty: let the kernel choose
	next    int
}

// newDialer spreads connections over the sources addresses from
// 127.0.0.(1+first), starting with the next-th of them. One address from
// 127.0.0.1 is the kernel's own choice for a loopback destination, so it
// is left to the kernel; any other range is bound, so that processes given
// disjoint ranges (c10k load -procs) never share a source's ports.
func newDialer(dst netip.AddrPort, first, sources, next int) *dialer {
	d := &dialer{family: unix.AF_INET6, dst: &unix.SockaddrInet6{Port: int(dst.Port()), Addr: dst.Addr().As16()}}
	if dst.Addr().Is4() {
		d.family, d.dst = unix.AF_INET, &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}
	}
	if (sources > 1 || first > 0) && d.family == unix.AF_INET {
		for i := range sources {
			d.sources = append(d.sources, unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, byte(1 + first + i)}})
		}
		d.next = next % sources
	}
	return d
}

// dial starts a connection. It returns the fd and whether the connect
// already completed; otherwise the caller waits for writability and reads
// SO_ERROR. The fd is closed on error.
func (d *dialer) dial() (fd int, connected bool, err error) {
	fd, err = unix.Socket(d.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, false, os.NewSyscallError("socket", err)
	}
	// Requests are small and pipelined writes must not wait for an ACK.
	if err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, false, os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	if len(d.sources) > 0 {
		src := &d.sources[d.next]
		d.next = (d.next + 1) % len(d.sources)
		if err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
			unix.Close(fd)
			return -1, false, os.NewSyscallError("setsockopt IP_BIND_ADDRESS_NO_PORT", err)
		}
		if err = unix.Bind(fd, src); err != nil {
			unix.Close(fd)
			return -1, false, os.NewSyscallError("bind", err)
		}
	}
	err = unix.Connect(fd, d.dst)
	switch {
	case err == nil:
		return fd, true, nil
	case errors.Is(err, unix.EINPROGRESS), errors.Is(err, unix.EINTR):
		return fd, false, nil
	default:
		unix.Close(fd)
		return -1, false, os.NewSyscallError("connect", err)
	}
}

// connectResult reads the outcome of a non-blocking connect once the
// socket is writable (or hung up).
func connectResult(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", err)
	}
	if v != 0 {
		return os.NewSyscallError("connect", unix.Errno(v))
	}
	return nil
}
