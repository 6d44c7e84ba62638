package sampler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// tcpEstablished is TCP_ESTABLISHED as /proc/net/tcp prints it.
const tcpEstablished = "01"

// Conns is the kernel's view of the connections to one local port.
type Conns struct {
	Accepted int // ESTABLISHED with a file attached (inode != 0): the server accepted them
	Queued   int // ESTABLISHED, still in the accept queue (inode 0)
}

// CountConns counts the IPv4 TCP connections whose local address is
// 127.0.0.1:port, where every server under test listens. Matching the
// address and not only the port matters: the load generator spreads its
// connections over 127.0.0.x sources, and one of its sockets may well have
// the server's port number as its own ephemeral port on another source
// address. It asks the kernel through sock_diag, falling back to
// /proc/net/tcp on kernels without it.
func CountConns(port int) (Conns, error) { return CountConnsAt(loopback, port) }

// loopback is 127.0.0.1, where servers listen unless told otherwise.
var loopback = [4]byte{127, 0, 0, 1}

// CountConnsAt is CountConns for a server listening on addr:port (an
// IPv4 address: a server on a host of a multi-host run listens on the
// address its load comes to).
func CountConnsAt(addr [4]byte, port int) (Conns, error) {
	if !diagBroken.Load() {
		c, err := countDiag(addr, port)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errNoDiag) {
			return Conns{}, err
		}
		diagBroken.Store(true)
	}
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return Conns{}, fmt.Errorf("sampler: %w", err)
	}
	return parseTCP(b, addr, port)
}

// parseTCP parses /proc/net/tcp lines such as
//
//	0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  0  0 12345 1 ...
//
// (sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode).
func parseTCP(b []byte, addr [4]byte, port int) (Conns, error) {
	var c Conns
	// The address as /proc/net/tcp prints it, in host byte order (x86,
	// arm64: little-endian; 127.0.0.1 is 0100007F).
	want := []byte(fmt.Sprintf("%02X%02X%02X%02X:%04X", addr[3], addr[2], addr[1], addr[0], port))
	first := true
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if first {
			first = false // the header
			continue
		}
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return Conns{}, fmt.Errorf("%w: /proc/net/tcp line %q", ErrFormat, line)
		}
		if !bytes.Equal(f[1], want) || string(f[3]) != tcpEstablished {
			continue
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return Conns{}, fmt.Errorf("%w: /proc/net/tcp inode %q", ErrFormat, f[9])
		}
		if inode == 0 {
			c.Queued++
		} else {
			c.Accepted++
		}
	}
	return c, nil
}
