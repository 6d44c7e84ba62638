package modeltest

import (
	"errors"
	"net"
	"os"
	"time"

	"c10k/models/upstream"
	"c10k/models/wire"
)

// fixtureUpstream is the fixture's proxy side: calls one after another,
// each on a pooled net.Conn, the simplest correct way to proxy.
type fixtureUpstream struct {
	set  *upstream.Set
	pool *upstream.Pool[net.Conn]
}

// proxy makes the request's calls and returns the status to answer with.
func (s *fixture) proxy() int {
	u := s.up
	if u == nil {
		return 200
	}
	for range u.set.Fanout {
		if err := s.call(u.set.Pick()); err != nil {
			if s.fault == faultUpstreamErrorIs200 {
				continue
			}
			return upstream.Status(err)
		}
	}
	return 200
}

func (s *fixture) call(i int) error {
	u := s.up
	t := &u.set.Targets[i]
	c, ok := u.pool.Get(i)
	if !ok || s.fault == faultNoUpstreamPool {
		var err error
		c, err = net.DialTimeout("tcp", t.Addr, u.set.Timeout)
		if err != nil {
			return errors.Join(upstream.ErrConnect, err)
		}
	}
	keep, err := fixtureRoundTrip(c, t, u.set.Timeout)
	if err != nil || !keep || !u.pool.Put(i, c) {
		c.Close()
	}
	return err
}

func fixtureRoundTrip(c net.Conn, t *upstream.Target, timeout time.Duration) (bool, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(t.Request); err != nil {
		return false, errors.Join(upstream.ErrClosed, err)
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if k, keep, ferr := upstream.Frame(buf); ferr != nil || k > 0 {
			return keep && k == len(buf), ferr
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false, upstream.ErrTimeout
		}
		if err != nil {
			return false, errors.Join(upstream.ErrClosed, err)
		}
	}
}

func (s *fixture) answer(out []byte, req *wire.Request) []byte {
	if status := s.proxy(); status != 200 {
		return wire.AppendGatewayError(out, status, req)
	}
	return s.resp.Append(out, req)
}
