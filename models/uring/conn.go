package uring

import (
	"golang.org/x/sys/unix"

	iouring "c10k/internal/uring"
)

const (
	// maxPendingOutput is the back-pressure mark, as in the epoll loop: a
	// connection with this much output the peer has not taken stops having
	// its input answered until it drains. Without it a client that
	// pipelines and never reads would make the server buffer answers
	// without bound.
	maxPendingOutput = 256 << 10
	// maxHeldInput is how much input a connection that is not being
	// answered (waiting on -wait or a backend, or backed up) may retain
	// before its receive is cancelled. A multishot receive cannot be
	// paused; cancelling it is how the loop stops reading, and the kernel's
	// socket buffer then holds the rest, as it does for epoll's Pause.
	maxHeldInput = 64 << 10
)

type connFlags uint16

const (
	fInUse    connFlags = 1 << iota // the slot holds a connection (open, or closed with requests in flight)
	fRecv                           // a multishot receive is armed: its last completion has not come
	fCancel                         // that receive is being cancelled
	fSend                           // a send is in flight
	fTimer                          // a -wait timeout is in flight
	fConnect                        // an upstream connect is in flight
	fHeld                           // the head request waits (-wait, or its backend calls): input is kept, not answered
	fWaitDone                       // the head request has had its -wait
	fDraining                       // close once the output is sent; input is read and dropped
	fEOF                            // the peer has closed its side
	fClosed                         // the fd is closed or being closed: completions are only accounted
	fQueued                         // in the send queue of this pass
	fResumeQ                        // in the resume queue of this pass
	fUpstream                       // a backend connection (proxy.go), not a client
)

// inFlight are the flags of requests whose completion is still to come;
// a closed connection keeps its slot until none is left.
const inFlight = fRecv | fSend | fTimer | fConnect

// conn is one connection, client or backend. An idle client connection is
// this struct and nothing else: no buffer, no timer, one armed receive in
// the kernel.
type conn struct {
	in      []byte // retained input: a partial request, or requests not yet answered
	out     []byte // answers not yet handed to the kernel
	sending []byte // the answers the kernel is sending, from sent on
	sent    int32
	fd      int32
	id      int32
	flags   connFlags
	seen    uint16    // the batcher's window in which c last had input
	ex      *exchange // a client's head request waiting on its backend calls
	up      *upConn   // set on a backend connection
}

// pending is the output the peer has not taken yet.
func (c *conn) pending() int { return len(c.out) + len(c.sending) - int(c.sent) }

func (c *conn) backedUp() bool {
	return c.pending() >= maxPendingOutput && c.flags&fDraining == 0
}

// answering reports whether input may be answered now.
func (c *conn) answering() bool {
	return c.flags&(fHeld|fClosed|fDraining) == 0 && !c.backedUp()
}

// wantsRecv reports whether the connection should have a receive armed:
// always while it answers (what it retains then is a partial request,
// bounded by the wire's limits) or drains, and while it holds up to
// maxHeldInput otherwise.
func (c *conn) wantsRecv() bool {
	if c.flags&(fClosed|fEOF) != 0 {
		return false
	}
	return c.flags&fDraining != 0 || c.answering() || len(c.in) <= maxHeldInput
}

// open takes a connected socket into a new slot and arms its receive.
func (s *Server) open(fd int, flags connFlags) *conn {
	c := s.conns.alloc()
	c.fd = int32(fd)
	c.flags = fInUse | flags
	s.armRecv(c)
	return c
}

func (s *Server) armRecv(c *conn) {
	s.sqe().PrepMultishotRecv(int(c.fd), s.bufs.Group(), pack(opRecv, c.id))
	c.flags |= fRecv
}

// onRecv handles one completion of c's multishot receive.
func (s *Server) onRecv(c *conn, e iouring.CQE) {
	if !e.More() {
		c.flags &^= fRecv | fCancel
	}
	id, hasBuf := e.Buffer()
	switch {
	case e.Res > 0 && hasBuf:
		s.batch.saw(c)
		if c.flags&fUpstream != 0 {
			s.px.input(c, s.bufs.Bytes(id, int(e.Res)))
		} else {
			s.input(c, s.bufs.Bytes(id, int(e.Res)))
		}
		s.bufs.Recycle(id)
	case e.Res == 0:
		c.flags |= fEOF
		s.peerClosed(c)
	case e.Res == -int32(unix.ENOBUFS):
		// Every buffer is in use by completions of this pass; the next
		// pass gives the kernel more (growBufs), and the receive asked
		// again below runs with them.
		s.noBufs++
		s.shortOfBufs = true
	case e.Res == -int32(unix.ECANCELED):
		// Our cancel: the connection closed or holds enough input.
	case e.Res < 0:
		s.closeConn(c, unix.Errno(-e.Res))
	}
	if c.flags&fRecv == 0 && c.wantsRecv() {
		s.armRecv(c)
	}
	s.settle(c)
}

// peerClosed handles end of file: a client's answers already made still
// go out, then the connection closes; a backend connection fails its call.
func (s *Server) peerClosed(c *conn) {
	if c.flags&fUpstream != 0 {
		s.closeConn(c, nil)
		return
	}
	if c.flags&(fHeld|fClosed) == 0 && !c.backedUp() {
		s.closeAfterFlush(c)
	}
	// Held or backed up: resume closes it once the input it kept is answered.
}

// input takes bytes received for client c: answered at once from the
// buffer the kernel filled when nothing is retained, else appended to
// what is retained. Only a request split across receives, or input that
// arrives while the connection cannot answer, is copied.
func (s *Server) input(c *conn, data []byte) {
	if c.flags&(fClosed|fDraining) != 0 {
		return // closing: input is dropped
	}
	if len(c.in) == 0 && c.answering() {
		k := s.serve(c, data)
		if k < len(data) && c.flags&(fClosed|fDraining) == 0 {
			c.in = append(s.pool.get(), data[k:]...)
		}
		return
	}
	if c.in == nil {
		c.in = s.pool.get()
	}
	c.in = append(c.in, data...)
	if c.answering() {
		s.resume(c)
		return
	}
	if len(c.in) > maxHeldInput {
		s.cancelRecv(c)
	}
}

// resume answers what c retained, once it may answer again.
func (s *Server) resume(c *conn) {
	if !c.answering() {
		return
	}
	if len(c.in) > 0 {
		k := s.serve(c, c.in)
		if c.flags&(fClosed|fDraining) == 0 {
			c.in = c.in[:copy(c.in, c.in[k:])]
		}
		if len(c.in) == 0 {
			s.pool.put(c.in)
			c.in = nil
		}
	}
	switch {
	case c.flags&(fClosed|fDraining) != 0:
	case c.flags&fEOF != 0 && c.answering():
		s.closeAfterFlush(c)
	case c.flags&fRecv == 0 && c.wantsRecv():
		s.armRecv(c)
	}
}

// queueResume has resume run later in this pass, outside the handler
// that released c (an exchange that finishes while its request is being
// parsed).
func (s *Server) queueResume(c *conn) {
	if c.flags&fResumeQ == 0 {
		c.flags |= fResumeQ
		s.resumeq = append(s.resumeq, c)
	}
}

func (s *Server) cancelRecv(c *conn) {
	if c.flags&(fRecv|fCancel) != fRecv {
		return
	}
	e := s.sqe()
	e.PrepCancel(pack(opRecv, c.id), pack(opIgnore, 0))
	e.Flags |= iouring.SQECQESkipSuccess
	c.flags |= fCancel
}

// write queues b on c's output; the pass hands it to the kernel with
// everything else c answered in this pass, in one send.
func (s *Server) write(c *conn, b []byte) {
	if c.out == nil {
		c.out = s.pool.get()
	}
	c.out = append(c.out, b...)
	s.queueSend(c)
}

// outBuf is c's output buffer, for an answer appended in place; the caller
// stores the result back in c.out and calls queueSend.
func (s *Server) outBuf(c *conn) []byte {
	if c.out == nil {
		c.out = s.pool.get()
	}
	return c.out
}

func (s *Server) queueSend(c *conn) {
	if c.flags&fQueued == 0 {
		c.flags |= fQueued
		s.sendq = append(s.sendq, c)
	}
}

// startSend hands c's output to the kernel unless a send is already in
// flight: one at a time per connection keeps the stream in order (two
// sends in flight may be retried out of order).
func (s *Server) startSend(c *conn) {
	c.flags &^= fQueued
	if c.flags&(fSend|fClosed) != 0 || len(c.out) == 0 {
		return
	}
	c.sending, c.out, c.sent = c.out, nil, 0
	s.sqe().PrepSend(int(c.fd), c.sending, unix.MSG_NOSIGNAL, pack(opSend, c.id))
	c.flags |= fSend
	s.batch.sent()
}

func (s *Server) onSend(c *conn, e iouring.CQE) {
	c.flags &^= fSend
	if c.flags&fClosed != 0 || e.Res < 0 {
		s.pool.put(c.sending)
		c.sending, c.sent = nil, 0
		if e.Res < 0 {
			s.closeConn(c, unix.Errno(-e.Res))
		}
		s.settle(c)
		return
	}
	wasBackedUp := c.backedUp()
	c.sent += e.Res
	if int(c.sent) < len(c.sending) {
		// A short send: the socket took part; the rest goes now.
		s.sqe().PrepSend(int(c.fd), c.sending[c.sent:], unix.MSG_NOSIGNAL, pack(opSend, c.id))
		c.flags |= fSend
		s.batch.sent()
		return
	}
	s.pool.put(c.sending)
	c.sending, c.sent = nil, 0
	switch {
	case len(c.out) > 0:
		s.queueSend(c)
	case c.flags&fDraining != 0:
		s.closeConn(c, nil)
		return
	}
	if wasBackedUp && !c.backedUp() {
		s.resume(c)
	}
}

// closeAfterFlush closes c once its answers are sent: after an error
// answer or "Connection: close". Until then its input is read and dropped,
// so that unread bytes do not turn the close into a reset that could
// destroy the answer in flight.
func (s *Server) closeAfterFlush(c *conn) {
	if c.flags&(fClosed|fDraining) != 0 {
		return
	}
	c.flags |= fDraining
	s.pool.put(c.in)
	c.in = nil
	if c.pending() == 0 {
		s.closeConn(c, nil)
		return
	}
	if c.flags&fRecv == 0 && c.wantsRecv() {
		s.armRecv(c) // keep draining input that a cancel had left in the socket
	}
}

// closeConn closes c now: its receive and send are cancelled and its fd
// closed, in this pass's submission. The slot stays taken until the last
// of its requests has completed (settle).
func (s *Server) closeConn(c *conn, err error) {
	if c.flags&fClosed != 0 {
		return
	}
	c.flags |= fClosed
	c.flags &^= fDraining | fHeld
	for _, r := range [...]struct {
		flag connFlags
		op   uint8
	}{{fSend, opSend}, {fConnect, opConnect}} {
		if c.flags&r.flag != 0 {
			e := s.sqe()
			e.PrepCancel(pack(r.op, c.id), pack(opIgnore, 0))
			e.Flags |= iouring.SQECQESkipSuccess
		}
	}
	s.cancelRecv(c)
	e := s.sqe()
	e.PrepClose(int(c.fd), pack(opIgnore, 0))
	e.Flags |= iouring.SQECQESkipSuccess
	s.pool.put(c.in)
	s.pool.put(c.out)
	c.in, c.out = nil, nil
	if c.flags&fUpstream != 0 {
		s.px.closed(c, err)
	} else {
		if c.ex != nil {
			c.ex.client = nil // its calls finish, and nobody is answered
			c.ex = nil
		}
		s.acc.connClosed()
	}
}

// settle frees a closed connection's slot once no request names it.
func (s *Server) settle(c *conn) {
	if c.flags&fClosed != 0 && c.flags&inFlight == 0 && c.flags&(fQueued|fResumeQ) == 0 {
		s.conns.release(c)
	}
}
