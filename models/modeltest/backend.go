package modeltest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"c10k/models/wire"
)

// backendMode is how a test upstream behaves.
type backendMode int

const (
	backendOK      backendMode = iota // answers every GET after its delay
	backendDown                       // nothing listens: connections are refused
	backendSilent                     // reads requests and never answers
	backendGarbage                    // answers with bytes that are not HTTP
	backendMidBody                    // sends a head and part of the body, then closes
)

// midBodyAnswer promises 100 bytes of body and sends 7.
const midBodyAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"

// backend is an upstream for the proxy checks, on Go's net package. In
// backendOK mode it allocates nothing per request, so that allocation
// counts taken with it in the process are the proxy's.
type backend struct {
	mode     backendMode
	delay    time.Duration
	addr     string
	ln       net.Listener
	downFD   int // backendDown: the bound, not listening, socket holding the port
	answer   []byte
	requests atomic.Int64 // GETs received
	accepted atomic.Int64 // connections accepted

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startBackend runs a backend on 127.0.0.1:0 until close. A backendDown
// backend holds its port with a socket that is bound but does not listen,
// so connections are refused and no other test's listener can take the
// port meanwhile, as one freed could be under go test ./....
func startBackend(mode backendMode, delay time.Duration) (*backend, error) {
	if mode == backendDown {
		fd, addr, err := boundNotListening()
		if err != nil {
			return nil, fmt.Errorf("backend: %w", err)
		}
		return &backend{mode: mode, addr: addr, downFD: fd}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	b := &backend{mode: mode, delay: delay, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	b.ln = ln
	b.answer = wire.NewResponder(len("upstream\n")).Append(nil, &wire.Request{Method: []byte("GET"), Minor: 1, KeepAlive: true})
	b.wg.Go(b.acceptLoop)
	return b, nil
}

func (b *backend) acceptLoop() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.accepted.Add(1)
		b.mu.Lock()
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Go(func() { b.serve(c) })
	}
}

func (b *backend) serve(c net.Conn) {
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, 4096)
	n := 0
	var req wire.Request
	for {
		r, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += r
		for {
			k, err := wire.Parse(buf[:n], &req)
			if err != nil || (k == 0 && n == len(buf)) {
				return
			}
			if k == 0 {
				break
			}
			n = copy(buf, buf[k:n])
			b.requests.Add(1)
			if !b.respond(c) {
				return
			}
		}
	}
}

// respond answers one request as the mode says; false closes the connection.
func (b *backend) respond(c net.Conn) bool {
	switch b.mode {
	case backendSilent:
		return true
	case backendGarbage:
		_, err := c.Write([]byte("this is not http\r\n\r\n"))
		return err == nil
	case backendMidBody:
		c.Write([]byte(midBodyAnswer))
		return false
	}
	if b.delay > 0 {
		time.Sleep(b.delay)
	}
	_, err := c.Write(b.answer)
	return err == nil
}

// close stops the backend and ends its connections.
// boundNotListening returns a TCP socket bound to a free loopback port,
// not listening, and its address.
func boundNotListening() (int, string, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return -1, "", fmt.Errorf("bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return -1, "", fmt.Errorf("getsockname: %w", err)
	}
	return fd, fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port), nil
}

func (b *backend) close() {
	if b.mode == backendDown {
		syscall.Close(b.downFD)
		return
	}
	if b.ln == nil {
		return
	}
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
