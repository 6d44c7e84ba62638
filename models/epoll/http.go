package epoll

import (
	"c10k/internal/eventloop"
	"c10k/models/server"
	"c10k/models/wire"
)

// protocol is the HTTP server side of a connection. One value serves every
// connection: the only per-connection state is whether the request at the
// head of the input has had its -wait, kept in Conn.Context as a sentinel
// pointer, so an idle connection costs nothing here.
type protocol struct {
	srv *Server
	req wire.Request // the request being answered; the loop answers one at a time
	out []byte       // responses of one OnData call, written with one Write
}

// waitDone marks a connection whose head request was paused for -wait: when
// OnData sees it again, the wait is over.
var waitDone = new(struct{ _ byte })

// OnData answers every complete request in order (pipelining) with one
// write. A request with -wait stops the parse: the connection pauses on a
// timer, keeps the unanswered bytes, and OnData runs again on them when it
// fires, so responses never overtake each other.
func (p *protocol) OnData(c *eventloop.Conn, in []byte) int {
	s := p.srv
	out := p.out[:0]
	consumed := 0
	closing := false
	for consumed < len(in) {
		n, err := wire.Parse(in[consumed:], &p.req)
		if err != nil {
			// The rest of the stream cannot be framed: answer, then close
			// once the answer is out, so the client does read it.
			out = wire.AppendError(out, err)
			consumed, closing = len(in), true
			break
		}
		if n == 0 {
			break // a partial request: the Conn keeps it until more arrives
		}
		if s.cfg.Wait > 0 {
			if c.Context != waitDone {
				c.Context = waitDone
				c.ResumeAfter(s.cfg.Wait)
				break
			}
			c.Context = nil
		}
		if s.px != nil {
			consumed += n
			// Answers made so far leave first: the exchange may answer
			// before OnData returns, when every call fails at once.
			if len(out) > 0 {
				_ = c.Write(out)
				out = out[:0]
			}
			s.px.start(c, &p.req)
			break
		}
		// On the loop thread by design: one loop's one-core ceiling.
		server.Burn(s.cfg.Work)
		out = s.resp.Append(out, &p.req)
		consumed += n
		if !p.req.KeepAlive {
			consumed, closing = len(in), true
			break
		}
	}
	if len(out) > 0 {
		// On error the Conn is already closing and OnClose will follow.
		_ = c.Write(out)
	}
	if closing {
		c.CloseAfterFlush()
	}
	p.out = out[:0] // keep the grown scratch for the next call
	return consumed
}

// OnClose frees what the connection held and lets the acceptor know an fd
// is free again.
func (p *protocol) OnClose(c *eventloop.Conn, _ error) {
	if p.srv.px != nil {
		p.srv.px.clientClosed(c)
	}
	c.Context = nil
	p.srv.acc.connClosed()
}
