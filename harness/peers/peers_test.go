package peers

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"c10k/harness/proc"
	"c10k/harness/registry"
	"c10k/harness/results"
)

// scripts is the repository's scripts directory, where the templates live.
const scripts = "../../scripts"

func TestLookupSad(t *testing.T) {
	thread, _ := registry.Lookup("thread")
	if _, err := Lookup(thread, scripts); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("a model as a peer: %v", err)
	}
	nginx, _ := registry.Lookup("nginx")
	nginx.Peer = &registry.Peer{Binary: "/nonexistent/nginx", Template: nginx.Peer.Template}
	if _, err := Lookup(nginx, scripts); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing binary: %v", err)
	}
}

// fakePeer is the registry's peer with /bin/true as its binary.
func fakePeer(t *testing.T, name string) Peer {
	t.Helper()
	e, ok := registry.Lookup(name)
	if !ok || e.Peer == nil {
		t.Fatalf("%s is not a peer in the registry", name)
	}
	start := *e.Peer
	start.Binary = "/bin/true"
	e.Peer = &start
	return Peer{Entry: e, Template: filepath.Join(scripts, start.Template)}
}

func TestPrepareRendersEveryTemplate(t *testing.T) {
	for _, name := range registry.Names(registry.OfKind(results.KindPeer)) {
		t.Run(name, func(t *testing.T) {
			p := fakePeer(t, name)
			dir := filepath.Join(openTempDir(t), "peer")
			args, err := p.Prepare(dir, 12345, 4096, 20000, 0, Upstream{})
			if err != nil {
				t.Fatal(err)
			}
			conf, err := os.ReadFile(filepath.Join(dir, name+".conf"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"127.0.0.1:12345", dir} {
				if !strings.Contains(string(conf), want) {
					t.Errorf("conf lacks %q", want)
				}
			}
			if strings.Contains(string(conf), "<no value>") || strings.Contains(string(conf), "0.0.0.0") {
				t.Errorf("conf has an unfilled field or a non-loopback address:\n%s", conf)
			}
			if args[0] != "/bin/true" || !strings.Contains(strings.Join(args, " "), filepath.Join(dir, name+".conf")) {
				t.Errorf("args %v", args)
			}
			if p.MPM() != "" {
				if !strings.Contains(string(conf), "mod_mpm_"+p.MPM()+".so") {
					t.Errorf("conf does not load the %s MPM", p.MPM())
				}
				body, _ := os.ReadFile(filepath.Join(dir, "htdocs", "index.html"))
				if string(body) != Body {
					t.Errorf("index.html = %q", body)
				}
			}
			if p.MPM() == "prefork" && !strings.Contains(string(conf), "MaxRequestWorkers "+strconv.Itoa(registry.PreforkMax)) {
				t.Error("prefork is not capped")
			}
		})
	}
}

// TestInstalledPeersServeTheBody starts every installed peer from its
// template and fetches the page: the configurations must work for real,
// serving their own answer and proxying to a backend, once or K times.
func TestInstalledPeersServeTheBody(t *testing.T) {
	ps, missing := Detect(scripts)
	if len(ps) == 0 {
		t.Skipf("no peer installed (scripts/install-peers.sh): %v", missing)
	}
	var calls atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, Body)
	}))
	defer backend.Close()
	addr := strings.TrimPrefix(backend.URL, "http://")
	modes := []struct {
		name  string
		up    Upstream
		calls int64 // backend calls per request
	}{
		{"static", Upstream{}, 0},
		{"proxy", Upstream{Addr: addr, Fanout: 1}, 1},
		{"gather-1", Upstream{Addr: addr, Fanout: 1, Gather: true}, 1},
		{"gather-4", Upstream{Addr: addr, Fanout: 4, Gather: true}, 4},
	}
	for _, p := range ps {
		for _, m := range modes {
			t.Run(p.Name+"/"+m.name, func(t *testing.T) {
				switch {
				case m.up.Addr != "" && !p.Can.Proxy, m.up.Gather && !p.Can.Fanout:
					t.Skipf("%s cannot: %s", p.Name, p.Lacks)
				}
				if p.Version == "" || strings.HasPrefix(p.Version, "unknown") {
					t.Errorf("version %q", p.Version)
				}
				before := calls.Load()
				body := fetchFrom(t, p, m.up)
				want := Body
				if m.up.Gather {
					want = strings.Repeat(Body, m.up.Fanout)
				}
				if body != want {
					t.Errorf("body %q, want %q", body, want)
				}
				if got := calls.Load() - before; got < m.calls {
					t.Errorf("backend called %d times, want at least %d", got, m.calls)
				}
			})
		}
	}
}

func TestPrepareSadNoFanout(t *testing.T) {
	p := fakePeer(t, "apache-event")
	_, err := p.Prepare(filepath.Join(openTempDir(t), "peer"), 1, 1, 1, 0, Upstream{Addr: "127.0.0.1:9", Fanout: 4, Gather: true})
	if !errors.Is(err, ErrNoFanout) {
		t.Errorf("err = %v, want ErrNoFanout", err)
	}
}

func TestWithModules(t *testing.T) {
	nginx, _ := registry.Lookup(registry.Nginx)
	tests := []struct {
		name       string
		module     string
		wantFanout bool
	}{
		{"happy: module present", "/bin/sh", true},
		{"sad: module missing", "/nonexistent/ngx_http_echo_module.so", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := nginx
			pe := *e.Peer
			pe.FanoutModule = tt.module
			e.Peer = &pe
			got := withModules(e)
			if got.Can.Fanout != tt.wantFanout || !got.Can.Proxy {
				t.Errorf("abilities %+v", got.Can)
			}
			if tt.wantFanout == (got.Lacks != "") {
				t.Errorf("lacks %q", got.Lacks)
			}
		})
	}
}

// fetchFrom starts p with up behind it, fetches / once and returns the
// body.
func fetchFrom(t *testing.T, p Peer, up Upstream) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := filepath.Join(openTempDir(t), "peer")
	args, err := p.Prepare(dir, port, 511, 4096, 0, up)
	if err != nil {
		t.Fatal(err)
	}
	tail := proc.NewTail(20)
	srv, err := proc.Start(proc.Spec{Path: args[0], Args: args[1:], Stdout: tail, Stderr: tail})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(3 * time.Second)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	var body []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			conf, _ := os.ReadFile(filepath.Join(dir, p.Name+".conf"))
			t.Fatalf("%s did not serve: %v\n%s\n%s\n%s", p.Name, err, tail.Lines(), log, conf)
		}
	}
	if st, err := srv.Stop(3 * time.Second); err != nil || st == nil {
		t.Errorf("stop: %v", err)
	}
	return string(body)
}

// openTempDir is a t.TempDir that Apache's unprivileged children can
// reach: the testing package makes its directories 0700.
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != filepath.Dir(d); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPrepareSadClosedParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root drops Apache's children to another user")
	}
	closed := t.TempDir()
	os.Chmod(closed, 0o700)
	p := fakePeer(t, "apache-event")
	if _, err := p.Prepare(filepath.Join(closed, "peer"), 1, 1, 1, 0, Upstream{}); !errors.Is(err, ErrNotTraversable) {
		t.Errorf("err = %v, want ErrNotTraversable", err)
	}
}

func TestApachePoolIsSizedForTheLevel(t *testing.T) {
	for _, tc := range []struct {
		mpm             string
		conns           int
		start, maxSpare int
	}{
		{"prefork", 0, 5, 10},
		{"prefork", 4, 5, 10},
		{"prefork", 1000, 1000, 1000},
		{"prefork", 10000, registry.PreforkMax, registry.PreforkMax},
		{"worker", 0, 2, 256},
		{"worker", 100, 2, 256},
		{"worker", 1000, 16, 1024},
		{"event", 10000, 157, 157 * 64},
		{"event", 20000, 160, 160 * 64},
		{"", 1000, 0, 0}, // nginx: no Apache pool
	} {
		start, spare := apachePool(tc.mpm, tc.conns)
		if start != tc.start || spare != tc.maxSpare {
			t.Errorf("apachePool(%q, %d) = %d, %d; want %d, %d", tc.mpm, tc.conns, start, spare, tc.start, tc.maxSpare)
		}
	}
}
