package epoll

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"c10k/internal/eventloop"
	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// errTimeout is the failure of every call still out when an exchange's
// timer fires.
var errTimeout = fmt.Errorf("epoll: %w", upstream.ErrTimeout)

// proxy is the server's upstream side, on the loop like everything else:
// backend sockets are non-blocking Conns of the same loop, a request waits
// for its answers as an exchange that counts them, and the timeout is one
// loop timer per exchange. No thread or goroutine waits for anything.
type proxy struct {
	srv        *Server
	ups        *upstream.Set
	pool       *upstream.Pool[*upConn]
	connecting map[int]*upConn // fds whose non-blocking connect is under way
	onConnect  func(fd int, fired eventloop.Mask)
	proto      upProtocol
	free       []*exchange // finished exchanges, reused so a request allocates none
	out        []byte      // scratch for answers written from an exchange
}

func newProxy(s *Server, ups *upstream.Set) *proxy {
	px := &proxy{
		srv:        s,
		ups:        ups,
		pool:       upstream.NewPool[*upConn](len(ups.Targets)),
		connecting: make(map[int]*upConn),
	}
	px.onConnect = px.connected
	px.proto.px = px
	return px
}

// exchange is one client request waiting on its K backend calls.
type exchange struct {
	px      *proxy
	client  *eventloop.Conn // nil once the client has gone
	req     wire.Request    // what the answer needs: version, keep-alive, HEAD
	pending int             // calls not yet answered or failed
	err     error           // the first failure
	calls   []*upConn       // by slot; nil once a call is over
	timer   eventloop.TimerID
	expire  func() // ex.timeout, bound once
}

// upConn is one backend connection: connecting, carrying a call, or idle
// in the pool.
type upConn struct {
	target int
	fd     int
	conn   *eventloop.Conn // nil while connecting
	ex     *exchange       // the call's request; nil when none
	slot   int             // the call's index in ex.calls
	reused bool            // taken from the pool for this call
	idle   bool            // in the pool
}

// start sends the request's K calls and pauses the client connection until
// they are all over; the exchange then answers and resumes it, so
// pipelined requests behind this one wait their turn.
func (px *proxy) start(c *eventloop.Conn, req *wire.Request) {
	ex := px.exchange()
	ex.client = c
	ex.req = req.Detached() // req aliases a buffer the loop reuses before the answer goes out
	ex.pending = len(ex.calls)
	c.Context = ex
	c.Pause()
	ex.timer = px.srv.loop.AfterFunc(px.ups.Timeout, ex.expire)
	for slot := range ex.calls {
		px.send(ex, slot, px.ups.Pick(), true)
	}
}

func (px *proxy) exchange() *exchange {
	if n := len(px.free); n > 0 {
		ex := px.free[n-1]
		px.free = px.free[:n-1]
		return ex
	}
	ex := &exchange{px: px, calls: make([]*upConn, px.ups.Fanout)}
	ex.expire = ex.timeout
	return ex
}

// send makes call slot of ex to target, on an idle connection when
// pooled allows it and there is one, otherwise on a new one.
func (px *proxy) send(ex *exchange, slot, target int, pooled bool) {
	uc, ok := (*upConn)(nil), false
	if pooled {
		uc, ok = px.pool.Get(target)
	}
	if ok {
		uc.idle, uc.reused = false, true
	} else {
		var err error
		if uc, err = px.dial(target); err != nil {
			ex.callDone(err)
			return
		}
	}
	uc.ex, uc.slot = ex, slot
	ex.calls[slot] = uc
	if uc.conn != nil {
		// A failed write closes the Conn, and OnClose fails the call.
		_ = uc.conn.Write(px.ups.Targets[target].Request)
	}
}

// dial starts a non-blocking connect; the request is written once the
// socket is writable (connected), or at once if the connect completed.
func (px *proxy) dial(target int) (*upConn, error) {
	t := &px.ups.Targets[target]
	fd, connected, err := upstream.Dial(t, true, 0)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	uc := &upConn{target: target, fd: fd}
	if connected {
		if err := px.attach(uc); err != nil {
			return nil, err
		}
		return uc, nil
	}
	if err := px.srv.loop.Watch(fd, eventloop.Writable, px.onConnect); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("epoll: %w: %w", upstream.ErrConnect, err)
	}
	px.connecting[fd] = uc
	return uc, nil
}

func (px *proxy) attach(uc *upConn) error {
	conn, err := px.srv.loop.Attach(uc.fd, &px.proto)
	if err != nil {
		unix.Close(uc.fd)
		return fmt.Errorf("epoll: %w: %w", upstream.ErrConnect, err)
	}
	conn.Context = uc
	uc.conn = conn
	return nil
}

// connected runs when a connecting socket turns writable: the connect is
// over, one way or the other.
func (px *proxy) connected(fd int, _ eventloop.Mask) {
	uc := px.connecting[fd]
	delete(px.connecting, fd)
	if uc == nil {
		return
	}
	t := &px.ups.Targets[uc.target]
	if err := upstream.ConnectResult(t, fd); err != nil {
		_ = px.srv.loop.Unwatch(fd)
		unix.Close(fd)
		px.fail(uc, fmt.Errorf("epoll: %w", err))
		return
	}
	if err := px.attach(uc); err != nil {
		_ = px.srv.loop.Unwatch(fd)
		px.fail(uc, err)
		return
	}
	if uc.ex != nil {
		_ = uc.conn.Write(t.Request)
	}
}

// fail ends uc's call, if it has one, with err.
func (px *proxy) fail(uc *upConn, err error) {
	ex := uc.ex
	if ex == nil {
		return
	}
	uc.ex = nil
	ex.calls[uc.slot] = nil
	ex.callDone(err)
}

// abandon drops a connection whose call timed out: its answer may still
// come, so it cannot carry another call.
func (px *proxy) abandon(uc *upConn) {
	if uc.conn != nil {
		uc.conn.Close()
		return
	}
	delete(px.connecting, uc.fd)
	_ = px.srv.loop.Unwatch(uc.fd)
	unix.Close(uc.fd)
}

// callDone counts one call over; the last one answers the client.
func (ex *exchange) callDone(err error) {
	if err != nil && ex.err == nil {
		ex.err = err
	}
	ex.pending--
	if ex.pending == 0 {
		ex.finish()
	}
}

// timeout fails every call still out with 504.
func (ex *exchange) timeout() {
	ex.timer = 0
	for slot, uc := range ex.calls {
		if uc == nil {
			continue
		}
		ex.calls[slot] = nil
		uc.ex = nil
		ex.px.abandon(uc)
		ex.callDone(errTimeout)
	}
}

// finish answers the client, if it is still there, and resumes it on the
// requests it pipelined behind this one.
func (ex *exchange) finish() {
	px := ex.px
	s := px.srv
	if ex.timer != 0 {
		s.loop.CancelTimer(ex.timer)
		ex.timer = 0
	}
	if c := ex.client; c != nil && !c.Closed() {
		out := px.out[:0]
		if status := upstream.Status(ex.err); status == 200 {
			server.Burn(s.cfg.Work)
			out = s.resp.Append(out, &ex.req)
		} else {
			out = wire.AppendGatewayError(out, status, &ex.req)
		}
		_ = c.Write(out)
		px.out = out[:0]
		c.Context = nil
		if ex.req.KeepAlive {
			c.Resume()
		} else {
			c.CloseAfterFlush()
		}
	}
	ex.client, ex.err = nil, nil
	px.free = append(px.free, ex)
}

// clientClosed forgets the client of an exchange still waiting on its
// calls: they finish, and their connections go back to the pool, but
// nobody is answered.
func (px *proxy) clientClosed(c *eventloop.Conn) {
	if ex, ok := c.Context.(*exchange); ok {
		ex.client = nil
	}
}

// close runs when the server shuts down, before the loop closes its Conns:
// connecting sockets are not Conns, so they are closed here.
func (px *proxy) close() {
	px.pool.Close()
	for fd := range px.connecting {
		_ = px.srv.loop.Unwatch(fd)
		unix.Close(fd)
	}
	clear(px.connecting)
}

// upProtocol reads backend answers. One value serves every backend Conn;
// the Conn's Context is its *upConn.
type upProtocol struct{ px *proxy }

func (p *upProtocol) OnData(c *eventloop.Conn, in []byte) int {
	px := p.px
	uc := c.Context.(*upConn)
	if uc.ex == nil {
		// Bytes nobody asked for: the stream is out of step.
		c.Close()
		return len(in)
	}
	n, keep, err := upstream.Frame(in)
	switch {
	case err != nil:
		c.Close()
		px.fail(uc, fmt.Errorf("epoll: %s: %w", px.ups.Targets[uc.target].Addr, err))
		return len(in)
	case n == 0:
		uc.reused = false // bytes arrived: a failure now is the backend's, not a stale connection's
		return 0
	}
	ex, slot := uc.ex, uc.slot
	uc.ex = nil
	ex.calls[slot] = nil
	if keep && n == len(in) && px.pool.Put(uc.target, uc) {
		uc.idle = true
	} else {
		c.Close()
	}
	ex.callDone(nil)
	return n
}

// OnClose fails the connection's call, if it carried one. A pooled
// connection that closes before a byte of the answer arrived was most
// likely closed by the backend while idle, which the call could not know:
// it is made once more on a new connection, as nginx does.
func (p *upProtocol) OnClose(c *eventloop.Conn, err error) {
	px := p.px
	uc := c.Context.(*upConn)
	c.Context = nil
	uc.conn = nil
	if uc.idle {
		uc.idle = false
		px.pool.Remove(uc.target, uc)
		return
	}
	ex := uc.ex
	if ex == nil {
		return
	}
	if uc.reused && !errors.Is(err, eventloop.ErrClosed) {
		uc.ex = nil
		ex.calls[uc.slot] = nil
		px.send(ex, uc.slot, uc.target, false)
		return
	}
	if err == nil {
		err = upstream.ErrClosed
	} else {
		err = fmt.Errorf("%w: %w", upstream.ErrClosed, err)
	}
	px.fail(uc, fmt.Errorf("epoll: %s: %w", px.ups.Targets[uc.target].Addr, err))
}
