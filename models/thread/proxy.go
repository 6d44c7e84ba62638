package thread

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/upstream"
)

// upReadBufSize is a backend connection's first read buffer: our backend's
// answer is a few hundred bytes. It doubles up to upstream.MaxResponse for
// a larger one and stays grown, since the next answer is likely as large.
const upReadBufSize = 1 << 10

// upConn is a keep-alive connection to a backend: a blocking socket whose
// SO_RCVTIMEO and SO_SNDTIMEO are the call's timeout, so a backend that
// does not answer blocks the thread for at most that long per read.
type upConn struct {
	fd      int
	buf     []byte
	rcvTime time.Duration // the SO_RCVTIMEO now set
}

// proxy makes the request's backend calls on this thread, one after
// another: a thread blocked in read(2) on one socket cannot wait on a
// second, so K calls take K backend waits. It returns the status of the
// answer: 200, or the first failure's 502 or 504 (the remaining calls are
// not made, the answer being settled).
func (c *conn) proxy() int {
	u := c.s.ups
	if u == nil {
		return 200
	}
	for range u.Fanout {
		if err := c.s.call(u.Pick()); err != nil {
			return upstream.Status(err)
		}
	}
	return 200
}

// call sends one GET to target i on a pooled connection, or a new one, and
// reads the answer. A pooled connection that fails before a byte of the
// answer arrived may have been closed by the backend while idle, which
// the request could not know: that call is made once more on a new
// connection, as nginx and Go's http.Transport do.
func (s *Server) call(i int) error {
	t := &s.ups.Targets[i]
	uc, reused := s.pool.Get(i)
	for {
		if !reused {
			var err error
			if uc, err = s.dialUpstream(t); err != nil {
				return err
			}
		}
		keep, got, err := uc.roundTrip(s.mech, t, s.ups.Timeout)
		if err == nil && keep && s.pool.Put(i, uc) {
			return nil
		}
		unix.Close(uc.fd)
		if err != nil && reused && got == 0 && !errors.Is(err, upstream.ErrTimeout) {
			reused = false
			continue
		}
		return err
	}
}

func (s *Server) dialUpstream(t *upstream.Target) (*upConn, error) {
	fd, _, err := upstream.Dial(t, false, s.ups.Timeout)
	if err != nil {
		return nil, fmt.Errorf("thread: %w", err)
	}
	return &upConn{fd: fd, buf: make([]byte, upReadBufSize), rcvTime: s.ups.Timeout}, nil
}

// roundTrip writes t's GET and reads one answer within timeout, through
// the model's readFD and writeFD like the client side. It returns whether
// the connection may be reused and how many answer bytes arrived.
func (u *upConn) roundTrip(m Mechanism, t *upstream.Target, timeout time.Duration) (keep bool, got int, err error) {
	if u.rcvTime != timeout {
		u.setRcvTimeout(timeout)
	}
	if err := writeFD(u.fd, t.Request); err != nil {
		return false, 0, upError(t, "write", err)
	}
	deadline := time.Now().Add(timeout)
	n := 0
	for {
		if n == len(u.buf) {
			if n >= upstream.MaxResponse {
				return false, n, fmt.Errorf("thread: %s: %w", t.Addr, upstream.ErrMalformed)
			}
			bigger := make([]byte, min(2*len(u.buf), upstream.MaxResponse))
			copy(bigger, u.buf[:n])
			u.buf = bigger
		}
		r, err := readFD(m, u.fd, u.buf[n:])
		if err != nil {
			return false, n, upError(t, "read", err)
		}
		if r == 0 {
			return false, n, fmt.Errorf("thread: %s: %w", t.Addr, upstream.ErrClosed)
		}
		n += r
		k, keepAlive, err := upstream.Frame(u.buf[:n])
		switch {
		case err != nil:
			return false, n, fmt.Errorf("thread: %s: %w", t.Addr, err)
		case k > 0:
			// Bytes past the answer were never asked for: the stream
			// cannot be trusted for the next call.
			return keepAlive && k == n, n, nil
		}
		// SO_RCVTIMEO bounds each read, not the call: the rest of the
		// answer gets only what is left of the timeout.
		left := time.Until(deadline)
		if left <= 0 {
			return false, n, fmt.Errorf("thread: %s: %w", t.Addr, upstream.ErrTimeout)
		}
		u.setRcvTimeout(left)
	}
}

func (u *upConn) setRcvTimeout(d time.Duration) {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	_ = unix.SetsockoptTimeval(u.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	u.rcvTime = d
}

// upError classifies a failed read or write on a backend socket: the
// socket timeouts report EAGAIN, anything else means the connection broke.
func upError(t *upstream.Target, op string, err error) error {
	kind := upstream.ErrClosed
	if err == unix.EAGAIN {
		kind = upstream.ErrTimeout
	}
	return fmt.Errorf("thread: %s: %w: %w", t.Addr, kind, os.NewSyscallError(op, err))
}

// closeUpstreams closes the pool's idle connections once no thread is
// left to use them; a call still running puts its connection back into
// the closed pool, which refuses it, and the thread closes it.
func (s *Server) closeUpstreams() {
	if s.pool == nil {
		return
	}
	for _, uc := range s.pool.Close() {
		unix.Close(uc.fd)
	}
}
