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
		name               string
		asked, conns, port int
		dst                netip.Addr
		want               int
	}{
		{"happy few connections", 0, 100, 28232, lo, 1},
		{"happy half the range on one address", 0, 14116, 28232, lo, 1},
		{"happy beyond half needs two", 0, 14117, 28232, lo, 2},
		{"happy 60k connections", 0, 60000, 28232, lo, 5},
		{"happy asked", 3, 10, 28232, lo, 3},
		{"sad not loopback", 4, 100000, 28232, netip.MustParseAddr("10.0.0.1"), 1},
		{"sad capped", 0, 1 << 30, 28232, lo, maxSources},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := planSources(tt.asked, tt.conns, tt.port, tt.dst); got != tt.want {
				t.Fatalf("planSources = %d, want %d", got, tt.want)
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
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dst := netip.MustParseAddrPort(ln.Addr().String())
	d := newDialer(dst, 3, 0)
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
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		if seen[ip] != 2 {
			t.Fatalf("sources seen %v, want 2 each of .1 .2 .3", seen)
		}
	}
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

func TestDialRefusedIsAConnectError(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	fd, connected, err := newDialer(dst, 1, 0).dial()
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
