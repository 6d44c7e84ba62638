package peers

import (
	"errors"
	"fmt"
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
	srv, port := startPeer(t, p, up)
	body := fetch(t, p, port)
	if st, err := srv.Stop(3 * time.Second); err != nil || st == nil {
		t.Errorf("stop: %v", err)
	}
	return body
}

// startPeer starts p with up behind it on a free port and waits until it
// answers 200; the test stops it at the end if the caller did not.
func startPeer(t *testing.T, p Peer, up Upstream) (*proc.Process, int) {
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
	t.Cleanup(func() { srv.Stop(3 * time.Second) })
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv, port
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			conf, _ := os.ReadFile(filepath.Join(dir, p.Name+".conf"))
			t.Fatalf("%s did not serve: %v\n%s\n%s\n%s", p.Name, err, tail.Lines(), log, conf)
		}
	}
}

// fetch GETs / from the peer on port and returns the body of a 200.
func fetch(t *testing.T, p Peer, port int) string {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", p.Name, resp.Status)
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

// TestPrepareProcs: N workers render as worker_processes N with a
// reuseport listener each; one worker (0 or 1) is the configuration the
// peer always had; a peer that cannot run N processes refuses.
func TestPrepareProcs(t *testing.T) {
	render := func(t *testing.T, name string, procs int) (string, error) {
		t.Helper()
		p := fakePeer(t, name)
		p.Procs = procs
		dir := filepath.Join(openTempDir(t), "peer")
		if _, err := p.Prepare(dir, 12345, 4096, 20000, 0, Upstream{}); err != nil {
			return "", err
		}
		conf, err := os.ReadFile(filepath.Join(dir, name+".conf"))
		if err != nil {
			t.Fatal(err)
		}
		// The directory differs per call; the rest must not.
		return strings.ReplaceAll(string(conf), dir, "DIR"), nil
	}
	zero, err := render(t, "nginx", 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		peer    string
		procs   int
		want    []string
		notWant []string
		err     error
	}{
		{name: "happy one worker", peer: "nginx", procs: 1,
			want: []string{"worker_processes 1;", "listen 127.0.0.1:12345 backlog=4096;", "One worker"}, notWant: []string{"reuseport"}},
		{name: "happy four workers", peer: "nginx", procs: 4,
			want: []string{"worker_processes 4;", "listen 127.0.0.1:12345 backlog=4096 reuseport;", "4 workers"}, notWant: []string{"One worker"}},
		{name: "happy apache as one", peer: "apache-event", procs: 1},
		{name: "sad apache as several", peer: "apache-event", procs: 2, err: ErrNoProcs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := render(t, tt.peer, tt.procs)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(conf, w) {
					t.Errorf("conf lacks %q:\n%s", w, conf)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(conf, w) {
					t.Errorf("conf has %q:\n%s", w, conf)
				}
			}
			if tt.peer == "nginx" && tt.procs == 1 && conf != zero {
				t.Errorf("Procs 1 and the zero value render differently")
			}
		})
	}
}

// TestInstalledNginxWorkers runs nginx with three workers: three worker
// processes under the master, three listening sockets on the one port
// (one per worker, SO_REUSEPORT), and the page served.
func TestInstalledNginxWorkers(t *testing.T) {
	e, _ := registry.Lookup(registry.Nginx)
	p, err := Lookup(e, scripts)
	if err != nil {
		t.Skipf("nginx: %v", err)
	}
	const procs = 3
	p.Procs = procs
	srv, port := startPeer(t, p, Upstream{})
	if body := fetch(t, p, port); body != Body {
		t.Errorf("body %q, want %q", body, Body)
	}
	if n := countChildren(t, srv.PID()); n != procs {
		t.Errorf("%d processes under the master, want %d workers", n, procs)
	}
	if n := listeningSockets(t, port); n != procs {
		t.Errorf("%d listening sockets on port %d, want %d", n, port, procs)
	}
}

// countChildren counts pid's child processes, from /proc.
func countChildren(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		if err != nil {
			t.Fatal(err)
		}
		n += len(strings.Fields(string(b)))
	}
	return n
}

// listeningSockets counts the TCP sockets listening on 127.0.0.1:port,
// from /proc/net/tcp (local address 0100007F:PORT in hex, state 0A).
func listeningSockets(t *testing.T, port int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == local && f[3] == "0A" {
			n++
		}
	}
	return n
}
