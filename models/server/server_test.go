package server

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestListenReusePort: only sockets that all ask for SO_REUSEPORT share a
// port; the default listener does not set it, so a second one fails.
func TestListenReusePort(t *testing.T) {
	tests := []struct {
		name          string
		first, second bool // reusePort of each listener
		wantShared    bool
	}{
		{"happy both reuseport", true, true, true},
		{"sad default twice", false, false, false},
		{"sad first default", false, true, false},
		{"sad second default", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, bound := listenT(t, "127.0.0.1:0", tt.first)
			if got := reusePortOf(t, fd); got != tt.first {
				t.Errorf("first listener SO_REUSEPORT = %v, want %v", got, tt.first)
			}
			fd2, _, err := Listen(bound.String(), tt.second)
			if err == nil {
				unix.Close(fd2)
			}
			if shared := err == nil; shared != tt.wantShared {
				t.Fatalf("second listener on %s: err %v, want shared=%v", bound, err, tt.wantShared)
			}
			if !tt.wantShared && !errors.Is(err, unix.EADDRINUSE) {
				t.Errorf("second listener: %v, want EADDRINUSE", err)
			}
		})
	}
}

// TestReserveTakesNoConnections: a reserved port refuses connections until
// a listener joins it, and then every connection goes to that listener,
// none to the reserving socket, which never listens.
func TestReserveTakesNoConnections(t *testing.T) {
	rfd, bound, err := Reserve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	if bound.Port == 0 {
		t.Fatal("Reserve left port 0")
	}
	if c, err := net.DialTimeout("tcp4", bound.String(), time.Second); err == nil {
		c.Close()
		t.Fatalf("a reserved, unlistened port accepted a connection")
	}
	lfd, _ := listenT(t, bound.String(), true)
	if err := unix.SetNonblock(lfd, false); err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	if err := unix.SetsockoptTimeval(lfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		c, err := net.DialTimeout("tcp4", bound.String(), time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.Close()
		nfd, _, err := unix.Accept(lfd)
		if err != nil {
			t.Fatalf("connection %d did not reach the listener: %v", i, err)
		}
		unix.Close(nfd)
	}
}

// TestReusePortControl: listeners made by Go's net package with the
// Control function share a port with server.Listen's.
func TestReusePortControl(t *testing.T) {
	_, bound := listenT(t, "127.0.0.1:0", true)
	lc := net.ListenConfig{Control: ReusePortControl}
	ln, err := lc.Listen(context.Background(), "tcp", bound.String())
	if err != nil {
		t.Fatalf("net listener beside a SO_REUSEPORT one: %v", err)
	}
	ln.Close()
	var plain net.ListenConfig
	if ln, err := plain.Listen(context.Background(), "tcp", bound.String()); err == nil {
		ln.Close()
		t.Fatal("a listener without SO_REUSEPORT shared the port")
	}
}

func TestConfigReusePort(t *testing.T) {
	for _, tt := range []struct {
		procs int
		want  bool
	}{{0, false}, {1, false}, {2, true}, {16, true}} {
		if got := (Config{Procs: tt.procs}).ReusePort(); got != tt.want {
			t.Errorf("Procs %d: ReusePort %v, want %v", tt.procs, got, tt.want)
		}
	}
}

func listenT(t *testing.T, addr string, reusePort bool) (int, *net.TCPAddr) {
	t.Helper()
	fd, bound, err := Listen(addr, reusePort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, bound
}

func reusePortOf(t *testing.T, fd int) bool {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT)
	if err != nil {
		t.Fatal(err)
	}
	return v != 0
}
