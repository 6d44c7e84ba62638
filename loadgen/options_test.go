package loadgen

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Options{URL: "http://127.0.0.1:8080/", Connections: 10, Duration: time.Second}
	tests := []struct {
		name   string
		modify func(*Options)
		want   error
	}{
		{"happy closed loop", func(o *Options) {}, nil},
		{"happy open loop", func(o *Options) { o.Rate = 1000 }, nil},
		{"happy idle only", func(o *Options) { o.Connections = 0; o.Idle = 100 }, nil},
		{"happy pipeline and think", func(o *Options) { o.Pipeline = 16; o.Think = time.Millisecond }, nil},
		{"sad no connections", func(o *Options) { o.Connections = 0 }, ErrOptions},
		{"sad negative connections", func(o *Options) { o.Connections = -1 }, ErrOptions},
		{"sad zero duration", func(o *Options) { o.Duration = 0 }, ErrOptions},
		{"sad negative warmup", func(o *Options) { o.Warmup = -time.Second }, ErrOptions},
		{"sad negative rate", func(o *Options) { o.Rate = -1 }, ErrOptions},
		{"sad open loop without connections", func(o *Options) { o.Rate = 10; o.Connections = 0; o.Idle = 5 }, ErrOptions},
		{"sad think in open loop", func(o *Options) { o.Rate = 10; o.Think = time.Millisecond }, ErrOptions},
		{"sad pipeline too deep", func(o *Options) { o.Pipeline = MaxPipeline + 1 }, ErrOptions},
		{"sad negative idle", func(o *Options) { o.Idle = -1 }, ErrOptions},
		{"sad too many sources", func(o *Options) { o.Sources = 255 }, ErrOptions},
		{"sad source offset past .254", func(o *Options) { o.Sources, o.SourceOffset = 4, 251 }, ErrOptions},
		{"sad negative source offset", func(o *Options) { o.SourceOffset = -1 }, ErrOptions},
		{"sad negative timeout", func(o *Options) { o.Timeout = -1 }, ErrOptions},
		{"sad https", func(o *Options) { o.URL = "https://127.0.0.1/" }, ErrURL},
		{"happy host name, resolved by Run", func(o *Options) { o.URL = "http://example.com/" }, nil},
		{"happy ipv6", func(o *Options) { o.URL = "http://[::1]:80/" }, nil},
		{"happy head", func(o *Options) { o.Method = "HEAD" }, nil},
		{"sad method", func(o *Options) { o.Method = "POST" }, ErrOptions},
		{"sad ipv6 zone", func(o *Options) { o.URL = "http://[fe80::1%25eth0]:80/" }, ErrURL},
		{"sad no host", func(o *Options) { o.URL = "http:///x" }, ErrURL},
		{"sad bad port", func(o *Options) { o.URL = "http://127.0.0.1:99999/" }, ErrURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.modify(&o)
			err := o.Validate()
			if tt.want == nil && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, url, addr, host, path string
	}{
		{"happy explicit port", "http://127.0.0.1:8080/", "127.0.0.1:8080", "127.0.0.1:8080", "/"},
		{"happy default port and no path", "http://127.0.0.1", "127.0.0.1:80", "127.0.0.1", "/"},
		{"happy localhost", "http://localhost:81/x?y=1", "127.0.0.1:81", "localhost:81", "/x?y=1"},
		{"happy other loopback", "http://127.0.0.5:9/a/b", "127.0.0.5:9", "127.0.0.5:9", "/a/b"},
		{"happy ipv6 literal", "http://[::1]:8080/", "[::1]:8080", "[::1]:8080", "/"},
		{"happy ipv4-mapped ipv6", "http://[::ffff:127.0.0.1]:8080/", "127.0.0.1:8080", "[::ffff:127.0.0.1]:8080", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTarget(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got.addr.String() != tt.addr || got.host != tt.host || got.path != tt.path {
				t.Fatalf("parseTarget(%q) = %v %q %q, want %s %q %q", tt.url, got.addr, got.host, got.path, tt.addr, tt.host, tt.path)
			}
		})
	}
}

func TestSpinHorizonNeedsASpareSchedulerSlot(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		name  string
		loops int
		want  time.Duration
	}{
		{"happy: a slot to spare", procs - 1, DefaultSpin},
		{"sad: every slot taken by a loop", procs, 0},
		{"sad: more loops than slots", procs + 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.loops < 1 {
				t.Skip("GOMAXPROCS 1")
			}
			if got := spinHorizon(DefaultSpin, tt.loops); got != tt.want {
				t.Fatalf("spinHorizon(%v, %d loops, GOMAXPROCS %d) = %v, want %v", DefaultSpin, tt.loops, procs, got, tt.want)
			}
		})
	}
}

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		name, url, addr string
		wantErr         error
	}{
		{"happy literal needs no lookup", "http://127.0.0.1:81/", "127.0.0.1:81", nil},
		{"happy localhost", "http://localhost:82/", "127.0.0.1:82", nil},
		// RFC 6761: .invalid never resolves.
		{"sad name that does not resolve", "http://no-such-host.invalid:83/", "", ErrResolve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tgt, err := parseTarget(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			err = tgt.resolve(context.Background())
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("resolve = %v, want %v", err, tt.wantErr)
			}
			if err == nil && tgt.addr.String() != tt.addr {
				t.Fatalf("addr %v, want %s", tgt.addr, tt.addr)
			}
			if err != nil && !strings.Contains(err.Error(), "no-such-host.invalid") {
				t.Fatalf("error %q does not name the host", err)
			}
		})
	}
}

// A name from /etc/hosts goes through the resolver, and an IPv4 address
// is preferred where the name has both.
func TestResolveHostsName(t *testing.T) {
	b, err := os.ReadFile("/etc/hosts")
	if err != nil || !strings.Contains(string(b), "localhost") {
		t.Skip("no /etc/hosts with localhost")
	}
	tgt := target{name: "localhost", port: 84}
	if err := tgt.resolve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !tgt.addr.Addr().IsLoopback() {
		t.Fatalf("localhost resolved to %v", tgt.addr)
	}
}
