package upstream

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		addrs   []string
		fanout  int
		timeout time.Duration
		wantErr error
		want    *Set // Targets compared by Addr only
	}{
		{name: "happy none is no proxy", addrs: nil},
		{name: "happy defaults", addrs: []string{"127.0.0.1:9000"},
			want: &Set{Fanout: DefaultFanout, Timeout: DefaultTimeout}},
		{name: "happy two localhost", addrs: []string{"localhost:9000", "127.0.0.2:9001"}, fanout: 4, timeout: time.Second,
			want: &Set{Fanout: 4, Timeout: time.Second}},
		{name: "sad no port", addrs: []string{"127.0.0.1"}, wantErr: ErrConfig},
		{name: "sad port zero", addrs: []string{"127.0.0.1:0"}, wantErr: ErrConfig},
		{name: "sad name", addrs: []string{"example.com:80"}, wantErr: ErrConfig},
		{name: "sad ipv6", addrs: []string{"[::1]:80"}, wantErr: ErrConfig},
		{name: "sad fanout negative", addrs: []string{"127.0.0.1:80"}, fanout: -1, wantErr: ErrConfig},
		{name: "sad fanout huge", addrs: []string{"127.0.0.1:80"}, fanout: MaxFanout + 1, wantErr: ErrConfig},
		{name: "sad timeout negative", addrs: []string{"127.0.0.1:80"}, timeout: -time.Second, wantErr: ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.addrs, tt.fanout, tt.timeout)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if tt.want == nil {
				if s != nil {
					t.Fatalf("got %+v, want nil", s)
				}
				return
			}
			if s.Fanout != tt.want.Fanout || s.Timeout != tt.want.Timeout || len(s.Targets) != len(tt.addrs) {
				t.Fatalf("got fanout %d timeout %v %d targets", s.Fanout, s.Timeout, len(s.Targets))
			}
			for i, tg := range s.Targets {
				want := fmt.Sprintf("GET / HTTP/1.1\r\nHost: %s\r\n\r\n", tt.addrs[i])
				if string(tg.Request) != want {
					t.Errorf("request %q, want %q", tg.Request, want)
				}
			}
		})
	}
}

func TestPickRoundRobin(t *testing.T) {
	s, err := New([]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	var counts [3]int
	for range 30 {
		counts[s.Pick()]++
	}
	if counts != [3]int{10, 10, 10} {
		t.Fatalf("picks %v, want 10 each", counts)
	}
}

func TestFrame(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		n         int
		keepAlive bool
		err       error
	}{
		{name: "happy complete", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", n: 40, keepAlive: true},
		{name: "happy close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", n: 57},
		{name: "happy partial body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi"},
		{name: "happy partial head", in: "HTTP/1.1 200 OK\r\nContent-"},
		{name: "sad garbage", in: "garbage\r\n\r\n", err: ErrMalformed},
		{name: "sad chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", err: ErrMalformed},
		{name: "sad no length", in: "HTTP/1.1 200 OK\r\n\r\nbody", err: ErrMalformed},
		{name: "sad too large", in: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%0*d", MaxResponse, MaxResponse, 0),
			err: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ka, err := Frame([]byte(tt.in))
			if !errors.Is(err, tt.err) || n != tt.n || ka != tt.keepAlive {
				t.Fatalf("Frame = %d, %v, %v; want %d, %v, %v", n, ka, err, tt.n, tt.keepAlive, tt.err)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "happy nil", want: 200},
		{name: "sad timeout", err: fmt.Errorf("x: %w", ErrTimeout), want: 504},
		{name: "sad refused", err: fmt.Errorf("x: %w", ErrConnect), want: 502},
		{name: "sad closed", err: ErrClosed, want: 502},
		{name: "sad malformed", err: ErrMalformed, want: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Status(tt.err); got != tt.want {
				t.Fatalf("Status(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestPool(t *testing.T) {
	p := NewPool[int](2)
	if _, ok := p.Get(0); ok {
		t.Fatal("Get from an empty pool succeeded")
	}
	for c := 1; c <= 3; c++ {
		if !p.Put(0, c) {
			t.Fatalf("Put %d refused", c)
		}
	}
	if c, ok := p.Get(0); !ok || c != 3 {
		t.Fatalf("Get = %d, %v; want the last one put, 3", c, ok)
	}
	if !p.Remove(0, 1) || p.Remove(0, 1) || p.Remove(1, 2) {
		t.Fatal("Remove: want true once for a pooled connection, false otherwise")
	}
	if p.Idle(0) != 1 || p.Idle(1) != 0 {
		t.Fatalf("idle %d, %d; want 1, 0", p.Idle(0), p.Idle(1))
	}
	for c := range MaxIdle - 1 {
		p.Put(1, c)
	}
	if !p.Put(1, -1) || p.Put(1, -2) {
		t.Fatalf("Put past MaxIdle: want the %dth accepted and the next refused", MaxIdle)
	}
	if got := len(p.Close()); got != 1+MaxIdle {
		t.Fatalf("Close returned %d connections, want %d", got, 1+MaxIdle)
	}
	if p.Put(0, 9) {
		t.Fatal("Put after Close accepted")
	}
}

func TestDialRefused(t *testing.T) {
	s, err := New([]string{"127.0.0.1:1"}, 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, nonblocking := range []bool{false, true} {
		fd, connected, err := Dial(&s.Targets[0], nonblocking, time.Second)
		if err == nil && !connected {
			// Non-blocking: the refusal comes with writability.
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(pfd, 1000)
			err = ConnectResult(&s.Targets[0], fd)
			unix.Close(fd)
		}
		if !errors.Is(err, ErrConnect) || Status(err) != 502 {
			t.Fatalf("nonblocking %v: Dial to a closed port: %v, want ErrConnect", nonblocking, err)
		}
	}
}
