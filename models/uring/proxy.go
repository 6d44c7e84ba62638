package uring

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	iouring "c10k/internal/uring"
	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// errTimeout is the failure of every call still out when an exchange's
// timeout fires.
var errTimeout = fmt.Errorf("uring: %w", upstream.ErrTimeout)

// proxy is the server's upstream side, in the ring like everything else:
// a backend connection is a conn whose connect, sends and multishot
// receive are ring requests; a request waits for its answers as an
// exchange that counts them; its timeout is one ring timeout, removed
// when the answers are in. No thread or goroutine waits for anything.
type proxy struct {
	srv   *Server
	ups   *upstream.Set
	pool  *upstream.Pool[*conn]
	addrs []unix.RawSockaddrInet4 // per target, for connect entries: the kernel reads them at submission
	exs   []*exchange             // by index: an exchange's timeout names it
	free  []*exchange             // exchanges over, with no timeout in the kernel
	ts    unix.Timespec           // the upstream timeout, read by the kernel at submission
}

func newProxy(s *Server, ups *upstream.Set) *proxy {
	px := &proxy{
		srv:  s,
		ups:  ups,
		pool: upstream.NewPool[*conn](len(ups.Targets)),
		ts:   unix.NsecToTimespec(ups.Timeout.Nanoseconds()),
	}
	for _, t := range ups.Targets {
		raw := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: t.Sockaddr.Addr}
		port := (*[2]byte)(unsafe.Pointer(&raw.Port))
		port[0], port[1] = byte(t.Sockaddr.Port>>8), byte(t.Sockaddr.Port) // network byte order
		px.addrs = append(px.addrs, raw)
	}
	return px
}

// exchange is one client request waiting on its K backend calls.
type exchange struct {
	px      *proxy
	idx     int32
	client  *conn        // nil once the client has gone
	req     wire.Request // what the answer needs: version, keep-alive, HEAD
	pending int          // calls not yet answered or failed
	err     error        // the first failure
	calls   []*conn      // backend connection by call slot; nil once the call is over
	timer   bool         // its timeout is in the kernel: the completion is still to come
	over    bool         // answered; reusable once the timeout's completion is in
}

// upConn is what a backend connection adds to its conn: its target and
// the call it carries, if any.
type upConn struct {
	target int
	ex     *exchange // the call's request; nil when none
	slot   int       // the call's index in ex.calls
	reused bool      // taken from the pool for this call, no byte of the answer yet
	idle   bool      // in the pool
}

// start makes the request's K calls and holds the client until they are
// all over; the exchange then answers and resumes it, so pipelined
// requests behind this one wait their turn.
func (px *proxy) start(c *conn, req *wire.Request) {
	s := px.srv
	ex := px.exchange()
	ex.client = c
	ex.req = req.Detached() // req aliases a buffer the loop reuses before the answer goes out
	ex.pending = len(ex.calls)
	ex.timer, ex.over = true, false
	c.ex = ex
	c.flags |= fHeld
	s.sqe().PrepTimeout(&px.ts, pack(opExpire, ex.idx))
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
	ex := &exchange{px: px, idx: int32(len(px.exs)), calls: make([]*conn, px.ups.Fanout)}
	px.exs = append(px.exs, ex)
	return ex
}

// send makes call slot of ex to target, on an idle connection when pooled
// allows it and there is one, otherwise on a new one.
func (px *proxy) send(ex *exchange, slot, target int, pooled bool) {
	s := px.srv
	u, ok := (*conn)(nil), false
	if pooled {
		u, ok = px.pool.Get(target)
	}
	if ok {
		u.up.idle, u.up.reused = false, true
	} else {
		var err error
		if u, err = px.dial(target); err != nil {
			ex.callDone(err)
			return
		}
	}
	u.up.ex, u.up.slot = ex, slot
	ex.calls[slot] = u
	if u.flags&fConnect == 0 {
		s.write(u, px.ups.Targets[target].Request)
	}
	// Connecting: onConnect writes the request.
}

// dial opens a socket and submits its connect; the request follows once
// it completes.
func (px *proxy) dial(target int) (*conn, error) {
	s := px.srv
	t := &px.ups.Targets[target]
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("uring: %w: %s: %w", upstream.ErrConnect, t.Addr, os.NewSyscallError("socket", err))
	}
	// The GET is small and must leave at once, not wait for an ACK (Nagle).
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	u := s.conns.alloc()
	u.fd = int32(fd)
	u.flags = fInUse | fUpstream | fConnect
	u.up = &upConn{target: target}
	s.sqe().PrepConnect(fd, &px.addrs[target], pack(opConnect, u.id))
	return u, nil
}

func (px *proxy) onConnect(u *conn, e iouring.CQE) {
	s := px.srv
	u.flags &^= fConnect
	if u.flags&fClosed != 0 {
		return
	}
	if e.Res < 0 {
		t := &px.ups.Targets[u.up.target]
		px.fail(u, fmt.Errorf("uring: %w: %s: %w", upstream.ErrConnect, t.Addr, os.NewSyscallError("connect", unix.Errno(-e.Res))))
		s.closeConn(u, nil)
		return
	}
	s.armRecv(u)
	if u.up.ex != nil {
		s.write(u, px.ups.Targets[u.up.target].Request)
	}
}

// input frames a backend's answer from what its connection received.
func (px *proxy) input(u *conn, data []byte) {
	s := px.srv
	if u.flags&fClosed != 0 {
		return
	}
	if u.up.ex == nil {
		// Bytes nobody asked for: the stream is out of step.
		s.closeConn(u, nil)
		return
	}
	buf := data
	if len(u.in) > 0 {
		u.in = append(u.in, data...)
		buf = u.in
	}
	n, keep, err := upstream.Frame(buf)
	switch {
	case err != nil:
		px.fail(u, fmt.Errorf("uring: %s: %w", px.ups.Targets[u.up.target].Addr, err))
		s.closeConn(u, nil)
		return
	case n == 0:
		u.up.reused = false // bytes arrived: a failure now is the backend's, not a stale connection's
		if len(u.in) == 0 {
			u.in = append(s.pool.get(), data...)
		}
		return
	}
	ex, slot := u.up.ex, u.up.slot
	u.up.ex = nil
	ex.calls[slot] = nil
	rest := len(buf) - n
	s.pool.put(u.in)
	u.in = nil
	if keep && rest == 0 && px.pool.Put(u.up.target, u) {
		u.up.idle = true
	} else {
		s.closeConn(u, nil)
	}
	ex.callDone(nil)
}

// fail ends u's call, if it has one, with err.
func (px *proxy) fail(u *conn, err error) {
	ex := u.up.ex
	if ex == nil {
		return
	}
	u.up.ex = nil
	ex.calls[u.up.slot] = nil
	ex.callDone(err)
}

// closed is told of every backend connection closed (closeConn), by the
// peer, on an error or by us. A pooled connection that closes before a
// byte of the answer arrived was most likely closed by the backend while
// idle, which the call could not know: it is made once more on a new
// connection, as nginx does.
func (px *proxy) closed(u *conn, err error) {
	if u.up.idle {
		u.up.idle = false
		px.pool.Remove(u.up.target, u)
		return
	}
	ex := u.up.ex
	if ex == nil || px.srv.stopping.Load() {
		return
	}
	if u.up.reused {
		u.up.ex = nil
		ex.calls[u.up.slot] = nil
		px.send(ex, u.up.slot, u.up.target, false)
		return
	}
	if err == nil {
		err = upstream.ErrClosed
	} else {
		err = fmt.Errorf("%w: %w", upstream.ErrClosed, err)
	}
	px.fail(u, fmt.Errorf("uring: %s: %w", px.ups.Targets[u.up.target].Addr, err))
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

// onExpire handles an exchange's timeout: fired, or removed because the
// exchange was over. Either way it is the timeout's only completion.
func (px *proxy) onExpire(idx int32, _ iouring.CQE) {
	ex := px.exs[idx]
	ex.timer = false
	if ex.over {
		px.free = append(px.free, ex)
		return
	}
	// Fired: every call still out fails with 504. Their connections may
	// still get the answer, so they cannot carry another call: closed.
	for slot, u := range ex.calls {
		if u == nil {
			continue
		}
		ex.calls[slot] = nil
		u.up.ex = nil
		px.srv.closeConn(u, nil)
		ex.callDone(errTimeout)
	}
}

// finish answers the client, if it is still there, and releases it to
// the requests it pipelined behind this one.
func (ex *exchange) finish() {
	px := ex.px
	srv := px.srv
	if ex.timer {
		e := srv.sqe()
		e.PrepTimeoutRemove(pack(opExpire, ex.idx), pack(opIgnore, 0))
		e.Flags |= iouring.SQECQESkipSuccess
	}
	if c := ex.client; c != nil && c.flags&fClosed == 0 {
		out := srv.outBuf(c)
		if status := upstream.Status(ex.err); status == 200 {
			server.Burn(srv.cfg.Work)
			out = srv.resp.Append(out, &ex.req)
		} else {
			out = wire.AppendGatewayError(out, status, &ex.req)
		}
		c.out = out
		srv.queueSend(c)
		c.ex = nil
		c.flags &^= fHeld
		if ex.req.KeepAlive {
			srv.queueResume(c)
		} else {
			srv.closeAfterFlush(c)
		}
	}
	ex.client, ex.err = nil, nil
	ex.over = true
	if !ex.timer {
		px.free = append(px.free, ex)
	}
}
