package modeltest

import (
	"errors"
	"net"
	"sync"
	"time"

	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

// fault is a way for the fixture server to be broken, so the suite's own
// tests can see each check fail.
type fault int

const (
	faultNone               fault = iota
	faultNoPipeline               // answers the first request of a read, drops the rest
	faultIgnoreClose              // keeps connections open after Connection: close
	faultKeepOnError              // answers an error but keeps the connection
	faultSerialWait               // waits under one global lock
	faultNoWork                   // skips the CPU burn
	faultFixedBody                // always sends the default body
	faultSpinOnEMFILE             // retries accept at once on any error
	faultHeadBody                 // sends a body with HEAD
	faultLeakOnClose              // Close leaves connections open
	faultDropPartial              // closes connections whose read ends mid-request
	faultNoUpstreamPool           // opens a new upstream connection per call
	faultUpstreamErrorIs200       // answers 200 whatever the upstreams did
)

// fixture is a small correct server on Go's net package, apart from its fault.
type fixture struct {
	ln    net.Listener
	cfg   server.Config
	resp  *wire.Responder
	fault fault
	up    *fixtureUpstream // nil: not a proxy

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	waitMu sync.Mutex
	wg     sync.WaitGroup
}

func newFixture(cfg server.Config, f fault) (*fixture, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	size := cfg.BodySize
	if f == faultFixedBody {
		size = len(wire.DefaultBody)
	}
	s := &fixture{ln: ln, cfg: cfg, resp: wire.NewResponder(size), fault: f, conns: map[net.Conn]struct{}{}}
	set, err := upstream.New(cfg.Upstreams, cfg.Fanout, cfg.UpstreamTimeout)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if set != nil {
		s.up = &fixtureUpstream{set: set, pool: upstream.NewPool[net.Conn](len(set.Targets))}
	}
	return s, nil
}

func (s *fixture) Addr() net.Addr { return s.ln.Addr() }

func (s *fixture) Serve() error {
	if s.fault != faultLeakOnClose {
		defer s.wg.Wait()
	}
	if s.up != nil {
		defer func() {
			for _, c := range s.up.pool.Close() {
				c.Close()
			}
		}()
	}
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if s.fault != faultSpinOnEMFILE {
				time.Sleep(20 * time.Millisecond)
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(c)
	}
}

func (s *fixture) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	err := s.ln.Close()
	if s.fault != faultLeakOnClose {
		for c := range s.conns {
			c.Close()
		}
	}
	return err
}

func (s *fixture) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var buf, out []byte
	tmp := make([]byte, 64<<10)
	var req wire.Request
	for {
		n, err := c.Read(tmp)
		if n == 0 || err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		out = out[:0]
		closing := false
		for !closing {
			k, err := wire.Parse(buf, &req)
			if err != nil {
				out = wire.AppendError(out, err)
				buf = buf[:0]
				closing = s.fault != faultKeepOnError
				break
			}
			if k == 0 {
				break
			}
			if s.cfg.Wait > 0 {
				if s.fault == faultSerialWait {
					s.waitMu.Lock()
				}
				time.Sleep(s.cfg.Wait)
				if s.fault == faultSerialWait {
					s.waitMu.Unlock()
				}
			}
			if s.fault != faultNoWork {
				server.Burn(s.cfg.Work)
			}
			head := req.IsHead()
			if head && s.fault == faultHeadBody {
				req.Method = []byte("GET")
			}
			out = s.answer(out, &req)
			buf = append(buf[:0], buf[k:]...)
			closing = !req.KeepAlive && s.fault != faultIgnoreClose
			if s.fault == faultNoPipeline {
				buf = buf[:0]
				break
			}
		}
		if _, err := c.Write(out); err != nil || closing {
			return
		}
		if s.fault == faultDropPartial && len(buf) > 0 {
			return
		}
	}
}
