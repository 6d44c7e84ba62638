package epoll

import (
	"log"
	"time"

	"golang.org/x/sys/unix"

	"c10k/internal/eventloop"
)

const (
	// maxAcceptsPerEvent bounds the accepts done for one readiness event
	// of the listener, so that a connection storm cannot hold the loop away
	// from the connections it already serves; the backlog left over is
	// reported again by the next wait (level-triggered).
	maxAcceptsPerEvent = 128
	// acceptRetry is how long accepting stays off after the process ran
	// out of descriptors, unless a connection closes first.
	acceptRetry = 25 * time.Millisecond
)

// acceptor takes connections off the listener. Out of file descriptors it
// stops watching the listener instead of retrying at once: a listener with
// a non-empty backlog stays readable, so retrying on every wakeup is the
// 100%-CPU spin of Redis #246 and evio #61. Accepting comes back when a
// connection closes (an fd is free) or after acceptRetry (another part of
// the process may have freed one), and the backlog waits in the kernel.
type acceptor struct {
	srv    *Server
	paused bool // listener not watched: out of descriptors
	// starved spans an out-of-descriptors episode, logged once: from the
	// first EMFILE until the backlog is drained, not until the next
	// successful accept, so that a server at its limit with connections
	// churning logs two lines, not two per closed connection.
	starved bool
	retry   eventloop.TimerID // re-arms the listener while paused
	rearm   func()            // s.resume, bound once so pausing does not allocate
	stopped bool              // the server is shutting down: leave the listener be
}

func (a *acceptor) onReadable(lfd int, _ eventloop.Mask) {
	s := a.srv
	for i := 0; i < maxAcceptsPerEvent; i++ {
		fd, err := accept(lfd)
		switch err {
		case nil:
		case unix.EAGAIN:
			// The backlog is empty: whatever starved us is over.
			if a.starved {
				a.starved = false
				log.Printf("epoll: accepting again, backlog drained")
			}
			return
		case unix.EINTR, unix.ECONNABORTED, unix.EPROTO, unix.EPERM:
			// The connection died in the backlog, or a firewall said no:
			// nothing to do with the listener itself.
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			a.pause(err)
			return
		default:
			log.Printf("epoll: accept: %v", err)
			a.pause(err)
			return
		}
		// Nagle would hold the second of two small pipelined responses
		// for the client's delayed ACK; nginx sets it on keep-alive too.
		// Best effort: a socket without it is merely slower.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if _, err := s.loop.Attach(fd, s.http); err != nil {
			log.Printf("epoll: %v", err)
			unix.Close(fd)
		}
	}
}

// accept is accept4(2) without the peer address: unix.Accept4 builds a
// Sockaddr on the heap for every connection, and nothing here needs it.
func accept(lfd int) (int, error) {
	fd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd), 0, 0,
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// pause stops watching the listener and arms the retry timer. It logs once
// per episode: the first EMFILE, not every retry that meets it again.
func (a *acceptor) pause(err error) {
	s := a.srv
	if !a.starved {
		a.starved = true
		log.Printf("epoll: accept: %v; pausing accepts (retry in %v or when a connection closes)", err, acceptRetry)
	}
	if err := s.loop.SetMask(s.lfd, 0); err != nil {
		log.Printf("epoll: %v", err)
	}
	a.paused = true
	if a.rearm == nil {
		a.rearm = a.resume
	}
	if a.retry == 0 {
		a.retry = s.loop.AfterFunc(acceptRetry, a.rearm)
	}
}

// resume watches the listener again; the next wait reports the backlog.
func (a *acceptor) resume() {
	s := a.srv
	if a.retry != 0 {
		s.loop.CancelTimer(a.retry)
		a.retry = 0
	}
	if !a.paused {
		return
	}
	a.paused = false
	if err := s.loop.SetMask(s.lfd, eventloop.Readable); err != nil {
		log.Printf("epoll: %v", err)
	}
}

// connClosed is told of every closed connection: one fd is free again.
func (a *acceptor) connClosed() {
	if a.paused && !a.stopped {
		a.resume()
	}
}

// stop disarms the retry timer when the server shuts down.
func (a *acceptor) stop() {
	a.stopped = true
	if a.retry != 0 {
		a.srv.loop.CancelTimer(a.retry)
		a.retry = 0
	}
}
