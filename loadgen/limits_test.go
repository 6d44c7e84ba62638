package loadgen

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFitFileLimit(t *testing.T) {
	tests := []struct {
		name            string
		conns, idle     int
		limit           uint64
		wantC, wantIdle int
		wantMsg         bool
		wantErr         error
	}{
		{"happy fits", 100, 1000, 20000, 100, 1000, false, nil},
		{"happy exactly fits", 100, 20000 - fdReserve - 100, 20000, 100, 20000 - fdReserve - 100, false, nil},
		{"sad idle capped first", 100, 30000, 20000, 100, 20000 - fdReserve - 100, true, nil},
		{"sad active capped too", 30000, 10, 20000, 20000 - fdReserve, 0, true, nil},
		{"sad no room at all", 10, 0, fdReserve, 0, 0, false, ErrFileLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, i, msg, err := fitFileLimit(tt.conns, tt.idle, tt.limit)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if c != tt.wantC || i != tt.wantIdle {
				t.Fatalf("got -c %d -idle %d, want %d %d", c, i, tt.wantC, tt.wantIdle)
			}
			if (msg != "") != tt.wantMsg || (msg != "" && !strings.Contains(msg, "RLIMIT_NOFILE")) {
				t.Fatalf("message %q, want one: %v", msg, tt.wantMsg)
			}
		})
	}
}

func TestRaiseFileLimitReachesTheHardLimit(t *testing.T) {
	got, err := RaiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if got != lim.Max || lim.Cur != lim.Max {
		t.Fatalf("soft %d, returned %d, hard %d", lim.Cur, got, lim.Max)
	}
}

func TestPlanSources(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name                      string
		asked, first, conns, port int
		dst                       netip.Addr
		wantFirst, want           int
	}{
		{"happy few connections", 0, 0, 100, 28232, lo, 0, 1},
		{"happy half the range on one address", 0, 0, 14116, 28232, lo, 0, 1},
		{"happy beyond half needs two", 0, 0, 14117, 28232, lo, 0, 2},
		{"happy 60k connections", 0, 0, 60000, 28232, lo, 0, 5},
		{"happy asked", 3, 0, 10, 28232, lo, 0, 3},
		{"happy offset", 2, 5, 10, 28232, lo, 5, 2},
		{"happy offset planned", 0, 7, 60000, 28232, lo, 7, 5},
		{"sad not loopback", 4, 3, 100000, 28232, netip.MustParseAddr("10.0.0.1"), 0, 1},
		{"sad capped", 0, 0, 1 << 30, 28232, lo, 0, maxSources},
		{"sad capped by the offset", 0, 250, 1 << 30, 28232, lo, 250, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, n := planSources(tt.asked, tt.first, tt.conns, tt.port, tt.dst)
			if first != tt.wantFirst || n != tt.want {
				t.Fatalf("planSources = %d, %d, want %d, %d", first, n, tt.wantFirst, tt.want)
			}
		})
	}
}

func TestCPUsAndPortsAreSane(t *testing.T) {
	if n := CPUs(); n < 1 {
		t.Fatalf("CPUs() = %d", n)
	}
	if n := ephemeralPorts(); n < 1000 {
		t.Fatalf("ephemeralPorts() = %d", n)
	}
}

// The server must see connections from 127.0.0.1, .2 and .3 in turn:
// the spreading that lifts the one-address port ceiling.
func TestDialerSpreadsSourceAddresses(t *testing.T) {
	seen := dialSources(t, 0, 3)
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		if seen[ip] != 2 {
			t.Fatalf("sources seen %v, want 2 each of .1 .2 .3", seen)
		}
	}
}

// One source at an offset is bound, not left to the kernel (which would
// pick 127.0.0.1): a second process must not share the first one's ports.
func TestDialerBindsAnOffsetSource(t *testing.T) {
	seen := dialSources(t, 4, 1)
	if seen["127.0.0.5"] != 6 {
		t.Fatalf("sources seen %v, want all 6 from 127.0.0.5", seen)
	}
}

// dialSources dials six connections with a dialer over sources addresses
// from 127.0.0.(1+first), and counts the addresses the server saw.
func dialSources(t *testing.T, first, sources int) map[string]int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dst := netip.MustParseAddrPort(ln.Addr().String())
	d := newDialer(dst, first, sources, 0)
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	seen := map[string]int{}
	for range 6 {
		fd, connected, err := d.dial()
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
		if !connected {
			waitWritable(t, fd)
		}
		if err := connectResult(fd); err != nil {
			t.Fatal(err)
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		seen[c.RemoteAddr().(*net.TCPAddr).IP.String()]++
		c.Close()
	}
	return seen
}

func TestRunSpreadsConnectionsOverSources(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Connections: 6, Sources: 3, Duration: 200 * time.Millisecond, Loops: 1})
	wantNoErrors(t, r)
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if r.Sources != 3 || len(s.sources) != 3 || s.sources["127.0.0.3"] != 2 {
		t.Fatalf("result sources %d, server saw %v: want 2 connections from each of 127.0.0.1-3", r.Sources, s.sources)
	}
}

func TestRunUsesSourcesFromTheOffset(t *testing.T) {
	s := startServer(t)
	r := run(t, Options{URL: s.url(), Connections: 4, Sources: 2, SourceOffset: 10, Duration: 200 * time.Millisecond, Loops: 1})
	wantNoErrors(t, r)
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if r.Sources != 2 || r.FirstSource != 10 || len(s.sources) != 2 || s.sources["127.0.0.11"] != 2 || s.sources["127.0.0.12"] != 2 {
		t.Fatalf("result sources %d from %d, server saw %v: want 2 connections from each of 127.0.0.11-12", r.Sources, r.FirstSource, s.sources)
	}
}

func TestDialRefusedIsAConnectError(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	fd, connected, err := newDialer(dst, 0, 1, 0).dial()
	if err != nil {
		if !errors.Is(err, unix.ECONNREFUSED) {
			t.Fatalf("dial: %v, want ECONNREFUSED", err)
		}
		return
	}
	defer unix.Close(fd)
	if !connected {
		waitWritable(t, fd)
	}
	if err := connectResult(fd); !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("connect result %v, want ECONNREFUSED", err)
	}
}

func waitWritable(t *testing.T, fd int) {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	if _, err := unix.Poll(pfd, int(5*time.Second/time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}
