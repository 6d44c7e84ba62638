package sampler

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Counting through sock_diag (netlink) instead of /proc/net/tcp: with
// 20,000 sockets on the box (both ends of 10,000 connections) plus the
// TIME_WAIT left by earlier levels, formatting /proc/net/tcp as text costs
// the kernel a good fraction of a CPU at four reads a second, on the very
// machine being measured. A sock_diag dump asks for ESTABLISHED sockets
// only and returns fixed binary records.

// Constants of linux/sock_diag.h and linux/inet_diag.h.
const (
	sockDiagByFamily = 20
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	diagReqLen       = 56 // struct inet_diag_req_v2
	tcpEstablishedSt = 1
	// The request's filter: an rtattr of type INET_DIAG_REQ_BYTECODE
	// holding two struct inet_diag_bc_op (code, yes, no: 4 bytes each).
	diagReqBytecode = 1
	bcSourceEq      = 11 // INET_DIAG_BC_S_EQ: the local port equals the next op's "no"
	bcLen           = 8
	rtaHdrLen       = 4
)

// errNoDiag marks a kernel without sock_diag for TCP; CountConns then
// falls back to /proc/net/tcp for good.
var errNoDiag = errors.New("sampler: sock_diag unavailable")

var diagBroken atomic.Bool

// countDiag counts ESTABLISHED IPv4 TCP sockets whose local address is
// addr:port, split by whether a file is attached (inode != 0).
func countDiag(addr [4]byte, port int) (Conns, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_INET_DIAG)
	if err != nil {
		return Conns{}, fmt.Errorf("%w: %v", errNoDiag, os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	// The kernel filters by local port before copying a record out: at a
	// million connections it walks two million sockets either way, but
	// returns only the server's half, and none of the other servers'.
	req := make([]byte, unix.NLMSG_HDRLEN+diagReqLen+rtaHdrLen+bcLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence
	r := req[unix.NLMSG_HDRLEN:]
	r[0] = unix.AF_INET
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<tcpEstablishedSt)
	bc := r[diagReqLen:]
	ne.PutUint16(bc[0:], rtaHdrLen+bcLen)
	ne.PutUint16(bc[2:], diagReqBytecode)
	// A match jumps to the end of the program (accept); a miss jumps past
	// it (reject), as iproute2's ss builds a single condition.
	bc[4], bc[5] = bcSourceEq, bcLen
	ne.PutUint16(bc[6:], bcLen+4)
	bc[8], bc[9] = 0, 0
	ne.PutUint16(bc[10:], uint16(port))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Conns{}, fmt.Errorf("%w: %v", errNoDiag, os.NewSyscallError("sendto", err))
	}
	var c Conns
	buf := make([]byte, 256<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Conns{}, os.NewSyscallError("recvfrom", err)
		}
		done, err := parseDiag(buf[:n], addr, port, &c)
		if err != nil || done {
			return c, err
		}
	}
}

// parseDiag adds the records of one netlink datagram to c; done reports
// the end of the dump.
func parseDiag(b []byte, addr [4]byte, port int, c *Conns) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return false, fmt.Errorf("%w: netlink message length %d", ErrFormat, l)
		}
		body := b[unix.NLMSG_HDRLEN:l]
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			code := int32(0)
			if len(body) >= 4 {
				code = int32(ne.Uint32(body))
			}
			return false, fmt.Errorf("%w: netlink error %v", errNoDiag, unix.Errno(-code))
		case sockDiagByFamily:
			if len(body) < inetDiagMsgLen {
				return false, fmt.Errorf("%w: inet_diag_msg of %d bytes", ErrFormat, len(body))
			}
			sport := int(binary.BigEndian.Uint16(body[4:]))
			src := body[8:12]
			if sport == port && [4]byte(src) == addr && body[1] == tcpEstablishedSt {
				if ne.Uint32(body[68:]) == 0 {
					c.Queued++
				} else {
					c.Accepted++
				}
			}
		}
		b = b[nlmAlign(l):]
	}
	return false, nil
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
