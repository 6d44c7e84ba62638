package uring

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	iouring "c10k/internal/uring"
)

// What a request's user data names: an operation in the top byte and, for
// connections and exchanges, their index in the low 32 bits.
const (
	opIgnore      = iota // cancels and closes whose failure changes nothing
	opAccept             // the listener's multishot accept
	opAcceptRetry        // the accept back-off timeout
	opWake               // the poll on the wake-up eventfd: Close was called
	opRecv               // a connection's multishot receive
	opSend               // a connection's send
	opWait               // a client's -wait timeout
	opConnect            // a backend connection's connect
	opExpire             // an exchange's timeout
)

func pack(op uint8, idx int32) uint64 { return uint64(op)<<56 | uint64(uint32(idx)) }

func unpack(ud uint64) (op uint8, idx int32) { return uint8(ud >> 56), int32(uint32(ud)) }

// run is the loop: one pass is one io_uring_enter, which submits every
// send, re-arm and close the previous pass prepared and waits for the
// next completions (one, or a batch: batch.go), and then the handling of
// every completion posted.
// It runs on the calling goroutine, locked to its OS thread, which
// becomes the ring's only issuer.
func (s *Server) run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := s.ring.Enable(); err != nil {
		return err
	}
	s.acc.arm()
	s.armWake()
	for !s.stopping.Load() && s.fatal == nil {
		s.growBufs()
		s.flush()
		if s.fatal != nil {
			break
		}
		if err := s.ring.EnterBatch(s.batch.want(time.Now()), batchMinWait); err != nil {
			return err
		}
		for {
			e, ok := s.ring.NextCQE()
			if !ok {
				break
			}
			s.dispatch(e)
		}
	}
	// Submit the closes the last pass prepared, so that their fds go now.
	if _, err := s.ring.Submit(); err != nil && s.fatal == nil {
		s.fatal = err
	}
	return s.fatal
}

// growBufs doubles the receive buffers once after a pass in which
// receives ran out of them. Once a pass, not once a receive: a pass in
// which ten receives found none is one shortage, and growing for each
// took the ring from 64 buffers to its 4,096 (16 MiB) in one burst of
// connections (an idle run at 10k connections then held 1.8 KiB of
// memory per connection instead of 150 B).
func (s *Server) growBufs() {
	if s.shortOfBufs {
		s.bufs.Grow(s.bufs.Provided())
		s.shortOfBufs = false
	}
}

// flush runs the connections released in this pass and hands every
// connection's new output to the kernel, one send each: the batch the
// next Enter submits.
func (s *Server) flush() {
	for len(s.resumeq) > 0 {
		// resume may queue more: swap, as the epoll loop's queues do.
		q := s.resumeq
		s.resumeq = s.resuming[:0]
		for i, c := range q {
			c.flags &^= fResumeQ
			s.resume(c)
			s.settle(c)
			q[i] = nil
		}
		s.resuming = q[:0]
	}
	for i, c := range s.sendq {
		s.startSend(c)
		s.settle(c)
		s.sendq[i] = nil
	}
	s.sendq = s.sendq[:0]
}

func (s *Server) dispatch(e iouring.CQE) {
	op, idx := unpack(e.UserData)
	switch op {
	case opAccept:
		s.acc.onAccept(e)
	case opAcceptRetry:
		s.acc.onRetry()
	case opWake:
		if !s.stopping.Load() {
			s.armWake()
		}
	case opExpire:
		s.px.onExpire(idx, e)
	case opRecv, opSend, opWait, opConnect:
		c := s.conns.at(idx)
		switch op {
		case opRecv:
			s.onRecv(c, e)
		case opSend:
			s.onSend(c, e)
		case opWait:
			s.onWait(c, e)
		case opConnect:
			s.px.onConnect(c, e)
		}
		// A handler may have closed c, or seen its last request complete.
		s.settle(c)
	}
}

// armWake polls the eventfd that Close writes to: the one wake-up from
// another goroutine, and a completion like any other.
func (s *Server) armWake() {
	s.sqe().PrepPollAdd(s.wakefd, unix.POLLIN, pack(opWake, 0))
}

// sqe returns a submission entry. The ring submits by itself when its
// queue is full; should that submission fail, the loop stops with the
// error at the end of the pass and the entry returned is a scratch one,
// so that callers need not check.
func (s *Server) sqe() *iouring.SQE {
	e, err := s.ring.SQE()
	if err != nil {
		if s.fatal == nil {
			s.fatal = fmt.Errorf("uring: %w", err)
		}
		s.scratch = iouring.SQE{}
		return &s.scratch
	}
	return e
}
