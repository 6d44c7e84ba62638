package thread

import (
	"io"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/modeltest"
	"c10k/models/wire"
)

// startWith runs a server with mechanism m for the test.
func startWith(t *testing.T, m Mechanism) string {
	t.Helper()
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s.mech = m
	return modeltest.Serve(t, s)
}

// threadClient is a client on its own locked thread with a blocking
// socket, whose reads hand the P off: it never needs the netpoller, which a
// goroutine that yields in a loop would starve of polls.
type threadClient struct {
	fd  int
	req []byte
	buf []byte
}

func dialThread(t *testing.T, addr string) *threadClient {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return &threadClient{fd: fd, req: wire.AppendRequest(nil, "test", "/"), buf: make([]byte, 4096)}
}

func (c *threadClient) roundTrip() error {
	if err := writeFD(c.fd, c.req); err != nil {
		return err
	}
	n := 0
	for {
		r, err := readFD(Handoff, c.fd, c.buf[n:])
		if err != nil {
			return err
		}
		if r == 0 {
			return io.EOF
		}
		n += r
		var h wire.ResponseHead
		if k, err := wire.ParseResponse(c.buf[:n], &h); err != nil || k > 0 {
			return err
		}
	}
}

// medianRoundTrip is the median of n round trips from a client thread.
func medianRoundTrip(t *testing.T, addr string, n int) time.Duration {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := dialThread(t, addr)
	d := make([]time.Duration, n)
	for i := range d {
		t0 := time.Now()
		if err := c.roundTrip(); err != nil {
			t.Fatal(err)
		}
		d[i] = time.Since(t0)
	}
	slices.Sort(d)
	return d[n/2]
}

// TestBlockedReadFreesP: with GOMAXPROCS=1, the client thread woken by the
// answer needs the P that the server's thread took into read(2). Under
// Block it waits for sysmon to retake it (20 us or more, every round
// trip); a mechanism that frees the P lets it run at once.
func TestBlockedReadFreesP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 400
	block := medianRoundTrip(t, startWith(t, Block), n)
	for _, m := range []Mechanism{ProcsHandoff, Handoff, Unlocked, Procs} {
		runtime.GOMAXPROCS(1) // as the mechanisms that grow it found it
		got := medianRoundTrip(t, startWith(t, m), n)
		t.Logf("GOMAXPROCS=1 at start, median round trip: %v with %v, %v with block", got, m, block)
		if m == ProcsHandoff && got > block/2 {
			t.Errorf("%v: median round trip %v, block's %v: the P still waits for sysmon", m, got, block)
		}
	}
}

// TestHandoffUnderGC runs connections on handed-off threads while garbage
// collections run back to back: a goroutine in the hand-off's system call
// is scanned and stopped for like any other, and must come back intact.
// Meant for -race too.
func TestHandoffUnderGC(t *testing.T) {
	for _, procs := range []int{1, 2} {
		for _, m := range []Mechanism{ProcsHandoff, Handoff, Unlocked} {
			t.Run(m.String()+"/GOMAXPROCS="+string(rune('0'+procs)), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				addr := startWith(t, m)
				stop := make(chan struct{})
				var gc sync.WaitGroup
				gc.Go(func() {
					var sink [][]byte
					for {
						select {
						case <-stop:
							return
						default:
						}
						sink = append(sink, make([]byte, 4096))
						if len(sink) > 256 {
							sink = sink[:0]
							runtime.GC()
						}
					}
				})
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						c := modeltest.Dial(t, addr)
						defer c.Close()
						for range 300 {
							if err := c.RoundTrip(); err != nil {
								t.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				close(stop)
				gc.Wait()
			})
		}
	}
}

// TestThreadPerBlockedConnection: under every mechanism each connection
// blocked in read(2) holds its own thread, Unlocked included. The first
// connections may take over idle threads the runtime kept, so only the
// second batch is held to one new thread each.
func TestThreadPerBlockedConnection(t *testing.T) {
	const conns = 40
	for _, m := range []Mechanism{ProcsHandoff, Handoff, Unlocked} {
		t.Run(m.String(), func(t *testing.T) {
			addr := startWith(t, m)
			open := func() int {
				for range conns {
					c := modeltest.Dial(t, addr)
					if err := c.RoundTrip(); err != nil {
						t.Fatal(err)
					}
				}
				return threads(t)
			}
			first := open()
			if got := open() - first; got < conns-spareThreads {
				t.Fatalf("%d more threads for %d more connections blocked in read, want about one each", got, conns)
			}
		})
	}
}

// TestProcsFollowThreads: the default grows GOMAXPROCS with the
// connection threads, and no further than its bound.
func TestProcsFollowThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s.maxProcs = 8
	addr := modeltest.Serve(t, s)
	open := func(n int) {
		for range n {
			c := modeltest.Dial(t, addr)
			if err := c.RoundTrip(); err != nil {
				t.Fatal(err)
			}
		}
	}
	open(3) // 3 connection threads and the acceptor
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Fatalf("GOMAXPROCS %d with 3 connections, want 4", got)
	}
	open(10)
	if got := runtime.GOMAXPROCS(0); got != 8 {
		t.Fatalf("GOMAXPROCS %d with 13 connections, want the bound, 8", got)
	}
}

func TestNextProcs(t *testing.T) {
	tests := []struct {
		name                      string
		cur, threads, bound, want int
	}{
		{"happy doubles", 4, 5, 256, 8},
		{"happy jumps to the need", 4, 100, 256, 100},
		{"happy capped", 200, 300, 256, 256},
		{"sad enough already", 8, 8, 256, 0},
		{"sad at the bound", 256, 1000, 256, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextProcs(tt.cur, tt.threads, tt.bound); got != tt.want {
				t.Fatalf("nextProcs(%d, %d, %d) = %d, want %d", tt.cur, tt.threads, tt.bound, got, tt.want)
			}
		})
	}
}

func TestMechanismFromEnv(t *testing.T) {
	t.Setenv(MechanismEnv, "")
	if m, err := mechanismFromEnv(); err != nil || m != ProcsHandoff {
		t.Fatalf("unset: %v, %v; want the default", m, err)
	}
	for i, name := range mechanismNames {
		t.Setenv(MechanismEnv, name)
		if m, err := mechanismFromEnv(); err != nil || m != Mechanism(i) {
			t.Fatalf("%s: %v, %v", name, m, err)
		}
	}
	t.Setenv(MechanismEnv, "fibers")
	if _, err := mechanismFromEnv(); err == nil {
		t.Fatal("unknown mechanism accepted")
	}
}
