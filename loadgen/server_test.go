package loadgen

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"c10k/models/wire"
)

// testServer is a goroutine-per-connection HTTP server on 127.0.0.1:0
// whose misbehaviour a test chooses: a fixed delay, a freeze, idle
// connections closed, a status, garbage instead of a response.
type testServer struct {
	connTracker
	delay    time.Duration // before each answer
	status   int           // 0: 200
	garbage  bool          // answer with bytes that are not HTTP
	extra    bool          // answer every request twice
	idleKill time.Duration // close a connection idle this long (0: never)

	frozenUntil atomic.Int64 // unix ns: answers wait until then
	open        atomic.Int64 // connections open right now
	accepted    atomic.Int64
	requests    atomic.Int64

	srcMu    sync.Mutex
	sources  map[string]int // connections accepted per client IP
	gone     chan struct{}  // closed by kill
	killOnce sync.Once
}

type serverOption func(*testServer)

func withDelay(d time.Duration) serverOption    { return func(s *testServer) { s.delay = d } }
func withStatus(code int) serverOption          { return func(s *testServer) { s.status = code } }
func withGarbage() serverOption                 { return func(s *testServer) { s.garbage = true } }
func withExtra() serverOption                   { return func(s *testServer) { s.extra = true } }
func withIdleKill(d time.Duration) serverOption { return func(s *testServer) { s.idleKill = d } }

func startServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &testServer{connTracker: connTracker{ln: ln}, sources: map[string]int{}, gone: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	s.start(s.serve)
	t.Cleanup(s.kill)
	return s
}

func (s *testServer) url() string { return "http://" + s.ln.Addr().String() + "/" }

// freeze makes every answer wait until d from now.
func (s *testServer) freeze(d time.Duration) {
	s.frozenUntil.Store(time.Now().Add(d).UnixNano())
}

// kill closes the listener and every connection: the server is gone.
func (s *testServer) kill() {
	s.killOnce.Do(func() { close(s.gone) })
	s.shutdown()
}

// pause sleeps for d, or until the server is killed; it reports whether
// the server is still up.
func (s *testServer) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.gone:
		return false
	}
}

// waitThaw holds an answer while the server is frozen; the freeze can be
// lifted or shortened meanwhile.
func (s *testServer) waitThaw() bool {
	for {
		d := time.Until(time.Unix(0, s.frozenUntil.Load()))
		if d <= 0 {
			return true
		}
		if !s.pause(min(d, 10*time.Millisecond)) {
			return false
		}
	}
}

func (s *testServer) serve(c net.Conn) {
	s.srcMu.Lock()
	s.sources[c.RemoteAddr().(*net.TCPAddr).IP.String()]++
	s.srcMu.Unlock()
	s.accepted.Add(1)
	s.open.Add(1)
	defer s.open.Add(-1)
	status := s.status
	if status == 0 {
		status = 200
	}
	body := "Hello, world!\n"
	resp := []byte("HTTP/1.1 " + strconv.Itoa(status) + " X\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	if s.garbage {
		resp = []byte("this is not http\r\n\r\n")
	}
	buf := make([]byte, 0, 64<<10)
	var out []byte
	var req wire.Request
	for {
		if s.idleKill > 0 {
			c.SetReadDeadline(time.Now().Add(s.idleKill))
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // idle too long: close it
			}
			return
		}
		buf = buf[:len(buf)+n]
		out = out[:0]
		for {
			m, err := wire.Parse(buf, &req)
			if err != nil {
				return
			}
			if m == 0 {
				break
			}
			buf = buf[:copy(buf, buf[m:])]
			s.requests.Add(1)
			out = append(out, resp...)
			if s.extra {
				out = append(out, resp...)
			}
		}
		if len(out) == 0 {
			continue
		}
		if s.delay > 0 && !s.pause(s.delay) {
			return
		}
		if !s.waitThaw() {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}
