package sampler

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestParseTCP(t *testing.T) {
	line := func(local, state, inode string) string {
		return "   0: " + local + " 0100007F:C350 " + state + " 00000000:00000000 00:00000000 00000000     0        0 " + inode + " 1 0000000000000000 20 4 30 10 -1\n"
	}
	tests := []struct {
		name    string
		in      string
		addr    [4]byte // zero: 127.0.0.1
		port    int
		want    Conns
		wantErr bool
	}{
		{name: "happy header only", in: tcpHeader, port: 8080},
		{name: "happy accepted and queued", port: 8080, in: tcpHeader +
			line("0100007F:1F90", "01", "12345") + line("0100007F:1F90", "01", "0") + line("0100007F:1F90", "01", "777"),
			want: Conns{Accepted: 2, Queued: 1}},
		{name: "happy listen socket, other ports and other source addresses ignored", port: 8080, in: tcpHeader +
			line("0100007F:1F90", "0A", "1") + line("0100007F:1F91", "01", "2") + line("0200007F:1F90", "01", "3") +
			line("0100007F:1F90", "01", "4"),
			want: Conns{Accepted: 1}},
		{name: "happy another host's address (198.18.0.10)", addr: [4]byte{198, 18, 0, 10}, port: 8080, in: tcpHeader +
			line("0A0012C6:1F90", "01", "5") + line("0100007F:1F90", "01", "6"),
			want: Conns{Accepted: 1}},
		{name: "happy time wait ignored", port: 8080, in: tcpHeader + line("0100007F:1F90", "06", "0")},
		{name: "sad short line", port: 8080, in: tcpHeader + "   0: 0100007F:1F90 01\n", wantErr: true},
		{name: "sad bad inode", port: 8080, in: tcpHeader + line("0100007F:1F90", "01", "x"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if addr == ([4]byte{}) {
				addr = loopback
			}
			got, err := parseTCP([]byte(tc.in), addr, tc.port)
			if tc.wantErr {
				if !errors.Is(err, ErrFormat) {
					t.Errorf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestCountConnsAgainstARealListener opens connections to a listener that
// accepts only some of them: the kernel's counts must say so.
func TestCountConnsAgainstARealListener(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	const dialed, accepted = 12, 5
	var clients, servers []net.Conn
	defer func() {
		for _, c := range append(clients, servers...) {
			c.Close()
		}
	}()
	for i := 0; i < dialed; i++ {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	for i := 0; i < accepted; i++ {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, c)
	}
	want := Conns{Accepted: accepted, Queued: dialed - accepted}
	var got Conns
	// The handshake completes in the kernel, but give a loaded box time.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, err = CountConns(port); err != nil {
			t.Fatal(err)
		}
		if got == want {
			return
		}
	}
	t.Errorf("CountConns = %+v, want %+v", got, want)
}

// TestCountDiagAgreesWithProcNetTCP checks the netlink count against the
// text table on the same connections.
func TestCountDiagAgreesWithProcNetTCP(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for i := 0; i < 7; i++ {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i < 4 {
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
		}
	}
	want := Conns{Accepted: 4, Queued: 3}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d, derr := countDiag(loopback, port)
		if errors.Is(derr, errNoDiag) {
			t.Skip("kernel without sock_diag:", derr)
		}
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Fatal(err)
		}
		p, perr := parseTCP(b, loopback, port)
		if derr == nil && perr == nil && d == want && p == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sock_diag %+v (%v), /proc/net/tcp %+v (%v), want %+v", d, derr, p, perr, want)
		}
	}
}

func TestParseDiagSad(t *testing.T) {
	var c Conns
	// A header claiming more bytes than there are.
	b := make([]byte, 16)
	b[0] = 200
	if _, err := parseDiag(b, loopback, 80, &c); !errors.Is(err, ErrFormat) {
		t.Errorf("err = %v, want ErrFormat", err)
	}
}
