package uring

import (
	iouring "c10k/internal/uring"
	"c10k/models/server"
	"c10k/models/wire"
)

// serve answers the complete requests at the start of in, in order
// (pipelining), appending the answers to c's output, and returns how many
// bytes it consumed. It stops at a partial request (the caller keeps it),
// at a request that must wait (-wait, or its backend calls: the
// connection is held and resumed when they are over, so answers never
// overtake each other), and after an answer that closes the connection.
func (s *Server) serve(c *conn, in []byte) int {
	consumed := 0
	out := s.outBuf(c)
	start := len(out)
	for consumed < len(in) {
		n, err := wire.Parse(in[consumed:], &s.req)
		if err != nil {
			// The rest of the stream cannot be framed: answer, then close
			// once the answer is out.
			out = wire.AppendError(out, err)
			c.out = out
			s.queueSend(c)
			s.closeAfterFlush(c)
			return len(in)
		}
		if n == 0 {
			break // a partial request: the caller keeps it
		}
		if s.cfg.Wait > 0 {
			if c.flags&fWaitDone == 0 {
				c.flags |= fWaitDone
				s.hold(c)
				break
			}
			c.flags &^= fWaitDone
		}
		if s.px != nil {
			consumed += n
			c.out = out // answers so far leave first
			s.px.start(c, &s.req)
			out = c.out
			break
		}
		// On the loop thread by design: one loop's one-core ceiling.
		server.Burn(s.cfg.Work)
		out = s.resp.Append(out, &s.req)
		consumed += n
		if !s.req.KeepAlive {
			c.out = out
			s.queueSend(c)
			s.closeAfterFlush(c)
			return len(in)
		}
	}
	c.out = out
	switch {
	case len(out) > start:
		s.queueSend(c)
	case len(out) == 0:
		s.pool.put(out) // nothing to say: an idle connection holds no buffer
		c.out = nil
	}
	return consumed
}

// hold keeps c's head request for -wait: a ring timeout, no thread and no
// timer of ours, resumes it.
func (s *Server) hold(c *conn) {
	c.flags |= fHeld | fTimer
	s.sqe().PrepTimeout(&s.waitTS, pack(opWait, c.id))
}

func (s *Server) onWait(c *conn, _ iouring.CQE) {
	c.flags &^= fTimer
	if c.flags&fClosed != 0 {
		s.settle(c)
		return
	}
	c.flags &^= fHeld
	s.resume(c)
}
