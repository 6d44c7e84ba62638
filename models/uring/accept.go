package uring

import (
	"time"

	"golang.org/x/sys/unix"

	iouring "c10k/internal/uring"
	"c10k/models/server"
)

// acceptRetry is how long accepting stays off after the process ran out
// of descriptors, unless a connection closes first.
const acceptRetry = 25 * time.Millisecond

// acceptor keeps one multishot accept armed on the listener: one request
// in the kernel that posts a completion per connection, instead of a
// readiness event and an accept(2) each.
//
// Out of file descriptors, the kernel ends the multishot request with
// EMFILE. Re-arming it at once would be the 100%-CPU spin of Redis #246
// and evio #61 moved into the kernel; instead accepting stays off until a
// connection closes (an fd is free) or a ring timeout of acceptRetry
// fires (another part of the process may have freed one), and the backlog
// waits in the kernel.
type acceptor struct {
	srv     *Server
	armed   bool // the multishot accept is in the kernel
	paused  bool // out of descriptors: not re-armed until resume
	retry   bool // the retry timeout is in the kernel
	stopped bool
	log     server.RateLog
	retryTS unix.Timespec // acceptRetry, kept here for the kernel to read at submission
}

func (a *acceptor) arm() {
	if a.armed || a.paused || a.stopped {
		return
	}
	a.armed = true
	a.srv.sqe().PrepMultishotAccept(a.srv.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, pack(opAccept, 0))
}

func (a *acceptor) onAccept(e iouring.CQE) {
	s := a.srv
	if !e.More() {
		a.armed = false
	}
	if e.Res >= 0 {
		if a.stopped {
			unix.Close(int(e.Res))
			return
		}
		// TCP_NODELAY comes from the listener: Linux copies it to the
		// sockets accept returns (see New), so no setsockopt per connection.
		s.open(int(e.Res), 0)
		a.arm()
		return
	}
	switch err := unix.Errno(-e.Res); err {
	case unix.ECANCELED:
		return
	case unix.EINTR, unix.EAGAIN, unix.ECONNABORTED, unix.EPROTO, unix.EPERM:
		// The connection died in the backlog, or a firewall said no:
		// nothing to do with the listener itself.
		a.arm()
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		a.pause(err)
	default:
		a.pause(err)
	}
}

// pause stops accepting and arms the retry timeout, logging at most once
// a second however often the limit is met.
func (a *acceptor) pause(err error) {
	a.log.Printf("uring: accept: %v; pausing accepts (retry in %v or when a connection closes)", err, acceptRetry)
	a.paused = true
	if !a.retry && !a.stopped {
		a.retry = true
		a.srv.sqe().PrepTimeout(&a.retryTS, pack(opAcceptRetry, 0))
	}
}

func (a *acceptor) onRetry() {
	a.retry = false
	a.resume()
}

func (a *acceptor) resume() {
	if !a.paused {
		return
	}
	a.paused = false
	a.arm()
}

// connClosed is told of every closed client connection: one fd is free,
// and the close is queued ahead of the accept in the same submission.
func (a *acceptor) connClosed() {
	if a.paused && !a.stopped {
		a.resume()
	}
}
