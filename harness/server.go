package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"c10k/harness/peers"
	"c10k/harness/proc"
	"c10k/harness/results"
	"c10k/harness/scenario"
	"c10k/hosts"
)

// readyTimeout bounds how long a server may take to start listening.
const readyTimeout = 15 * time.Second

// stderrLines is how much of a child's stderr is kept for a failure record.
const stderrLines = 20

// ErrNotReady is returned (wrapped) when a server does not start serving.
var ErrNotReady = errors.New("harness: server not ready")

// server is one server under test: a model or a peer.
type server struct {
	scenario.Server
	peer    *peers.Peer // nil for our models
	version string
}

// running is a started server.
type running struct {
	p      child
	port   int
	stderr *proc.Tail
	args   []string
	readyS float64
	dir    string      // peer's temporary directory, removed on stop
	host   *hosts.Host // where it runs
}

// startServer starts srv for one level of sc and waits until it serves;
// with a backend, srv proxies to it.
func (h *harness) startServer(srv server, sc results.ScenarioConfig, level int, be *backend, epoch time.Time) (*running, error) {
	r := &running{stderr: proc.NewTail(stderrLines)}
	var (
		spec  proc.Spec
		lines *lineWatch
	)
	addr := "127.0.0.1:0"
	bin := h.hosts.bin
	if h.hosts.remote() {
		// The agent counts the server's connections by its port, so the
		// port is chosen here; a taken one fails the level's start.
		r.port = pickPort(h.env.PortRangeLow)
		addr = net.JoinHostPort(h.hosts.addr, strconv.Itoa(r.port))
	}
	if srv.peer == nil {
		args := []string{"serve", "-model", srv.Name, "-addr", addr, "-body", strconv.Itoa(h.opt.BodyBytes)}
		if sc.WorkUS > 0 {
			args = append(args, "-work", fmtDur(sc.WorkUS*1e3))
		}
		if sc.WaitMS > 0 {
			args = append(args, "-wait", fmtDur(sc.WaitMS*1e6))
		}
		if be != nil {
			args = append(args, upstreamArgs(be, sc, level)...)
		}
		if n := scenario.Procs(sc, level); n > 1 {
			args = append(args, "-procs", strconv.Itoa(n))
		}
		lines = newLineWatch("listening on ")
		spec = proc.Spec{Path: h.opt.Binary, Args: args, Stdout: lines}
		r.args = append([]string{h.opt.Binary}, args...)
	} else {
		dir, err := os.MkdirTemp(h.scratch, srv.Name+"-")
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		r.dir = dir
		r.port = pickPort(h.env.PortRangeLow)
		backlog := max(h.env.Somaxconn, 511)
		var up peers.Upstream
		if be != nil {
			up = peers.Upstream{Addr: be.addr(), Fanout: scenario.Fanout(sc, level), Gather: sc.FanoutLevels}
		}
		peer := *srv.peer
		peer.Procs = scenario.Procs(sc, level)
		peer.Addr = h.hosts.addr
		args, err := peer.Prepare(dir, r.port, backlog, h.env.NoFileHard, poolConns(srv, sc, level), up)
		if err == nil {
			err = h.hosts.server.Upload(h.ctx, dir)
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		h.keepPeerConf(peerConfName(srv.Name, sc, level), filepath.Join(dir, srv.Name+".conf"))
		spec = proc.Spec{Path: args[0], Args: args[1:], Stdout: r.stderr}
		r.args = args
	}
	spec.CPUs = serverCPUs(h.opt, sc)
	spec.Stderr = r.stderr
	p, err := h.startChild(spec, bin, h.hosts.addr, r.port, epoch)
	if err != nil {
		r.cleanup()
		return nil, err
	}
	r.p, r.host = p, h.hosts.server
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	if lines != nil {
		select {
		case line := <-lines.found:
			r.port, err = parseListening(line)
		case <-p.Exited():
			err = fmt.Errorf("%w: exited before listening", ErrNotReady)
		case <-deadline.C:
			err = fmt.Errorf("%w: no %q line in %v", ErrNotReady, "listening on", readyTimeout)
		case <-h.ctx.Done():
			err = contextErr(h)
		}
	} else {
		err = waitPort(h, p, h.hosts.addr, r.port, deadline.C)
		if err == nil {
			procs, threads := srv.peer.Pool(poolConns(srv, sc, level))
			err = waitPool(h, p, procs, threads)
		}
	}
	if err != nil {
		return r, err
	}
	r.readyS = time.Since(epoch).Seconds()
	return r, nil
}

// poolConns is the connections a peer's pool is sized for at a level: all
// it holds for a server that ties a thread or process to each, only those
// carrying requests for one that parks idle connections without a thread
// (Apache event), whose pool an operator sizes by load, not by clients.
func poolConns(srv server, sc results.ScenarioConfig, level int) int {
	if srv.ThreadsPerConn > 0 {
		return scenario.Conns(sc, level)
	}
	return scenario.Active(sc, level)
}

// poolTimeout bounds the wait for a peer's pool: Apache prefork forks its
// 2,000 children at a few hundred a second on a busy 2-core machine.
const poolTimeout = 60 * time.Second

// waitPool waits until p's process tree holds procs processes and threads
// threads: a peer that pre-forks for the level serves it only once its
// pool is up, and a level measured before that would measure the forking.
func waitPool(h *harness, p child, procs, threads int) error {
	if procs <= 1 && threads <= 1 {
		return nil
	}
	deadline := time.NewTimer(poolTimeout)
	defer deadline.Stop()
	var have results.Proc
	for {
		t, err := p.tree()
		if err == nil {
			have = t
			if int(t.Processes) >= procs && int(t.Threads) >= threads {
				return nil
			}
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("%w: exited while starting its pool", ErrNotReady)
		case <-deadline.C:
			return fmt.Errorf("%w: pool not up in %v: %d of %d processes, %d of %d threads",
				ErrNotReady, poolTimeout, have.Processes, procs, have.Threads, threads)
		case <-h.ctx.Done():
			return contextErr(h)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// serverCPUs is the CPU list a server of sc is pinned to.
func serverCPUs(opt Options, sc results.ScenarioConfig) string {
	if sc.ServerCPUs != "" {
		return sc.ServerCPUs
	}
	return opt.ServerCPUs
}

func contextErr(h *harness) error { return fmt.Errorf("harness: %w", context.Cause(h.ctx)) }

// peerConfName is the name a peer's rendered configuration is kept under
// in results/peers/: one plain, one per proxy scenario, and for a peer
// that fans out one per K (the configurations differ in their K lines).
func peerConfName(name string, sc results.ScenarioConfig, level int) string {
	switch {
	case sc.BackendWaitMS <= 0:
		return name
	case sc.FanoutLevels:
		return name + "-" + sc.Name + "-k" + strconv.Itoa(level)
	}
	return name + "-" + sc.Name
}

// stop stops the server's process group and cleans up; it returns how
// the server ended.
func (r *running) stop() string {
	var exit string
	if r.p != nil {
		st, err := r.p.Stop(stopGrace)
		exit = proc.ExitString(st)
		if err != nil {
			exit += " (" + err.Error() + ")"
		}
	}
	return exit
}

// cleanup removes a peer's temporary directory, and its copy on the
// server host.
func (r *running) cleanup() {
	if r.dir == "" {
		return
	}
	os.RemoveAll(r.dir)
	if r.host != nil && !r.host.SharesFiles() {
		ctx, cancel := context.WithTimeout(context.Background(), hostTimeout)
		r.host.RemoveAll(ctx, r.dir)
		cancel()
	}
	r.dir = ""
}

// lastWords is the tail of the server's stderr and, for a peer, of its
// error log, where nginx and Apache write what went wrong.
func (r *running) lastWords() []string {
	lines := r.stderr.Lines()
	if r.dir == "" {
		return lines
	}
	b, err := os.ReadFile(filepath.Join(r.dir, "error.log"))
	if err != nil {
		return lines
	}
	log := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(log) > stderrLines {
		log = log[len(log)-stderrLines:]
	}
	return append(lines, log...)
}

// stopGrace is how long a server gets to exit after SIGTERM.
const stopGrace = 3 * time.Second

// waitPort waits until something accepts TCP connections on host:port.
func waitPort(h *harness, p child, host string, port int, deadline <-chan time.Time) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp4", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("%w: exited before listening on %s", ErrNotReady, addr)
		case <-deadline:
			return fmt.Errorf("%w: nothing accepted on %s in %v: %v", ErrNotReady, addr, readyTimeout, err)
		case <-h.ctx.Done():
			return contextErr(h)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pickPort finds a free loopback port below the ephemeral range, so that
// no client socket of an earlier level can hold it.
func pickPort(ephemeralLow int) int {
	hi := ephemeralLow
	if hi <= 11000 {
		hi = 65536
	}
	lo := max(hi-20000, 10000)
	for i := 0; i < 100; i++ {
		port := lo + rand.IntN(hi-lo)
		ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			return port
		}
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// parseListening reads the port from "listening on HOST:PORT".
func parseListening(line string) (int, error) {
	addr := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "listening on "))
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%w: bad line %q: %v", ErrNotReady, line, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("%w: bad port in %q", ErrNotReady, line)
	}
	return n, nil
}

// fmtDur formats nanoseconds as a Go duration flag.
func fmtDur(ns float64) string { return time.Duration(ns).String() }

// lineWatch is a stdout writer that reports the first line with a prefix
// and discards the rest.
type lineWatch struct {
	prefix string
	found  chan string
	mu     sync.Mutex
	buf    []byte
	done   bool
}

func newLineWatch(prefix string) *lineWatch {
	return &lineWatch{prefix: prefix, found: make(chan string, 1)}
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(w.buf[:i], "\r"))
		w.buf = w.buf[i+1:]
		if strings.HasPrefix(line, w.prefix) {
			w.found <- line
			w.done = true
			w.buf = nil
			break
		}
	}
	if len(w.buf) > 64<<10 {
		w.buf = w.buf[len(w.buf)-4096:]
	}
	return len(p), nil
}
