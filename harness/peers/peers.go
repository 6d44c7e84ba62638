package peers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// Body is what every peer serves, the same 14 bytes as our models.
const Body = "Hello, world!\n"

// ErrNotInstalled is returned (wrapped) for a peer whose binary or module
// is missing.
var ErrNotInstalled = errors.New("peers: not installed")

// Peer is one reference server, found installed.
type Peer struct {
	registry.Entry
	Version  string
	Template string // path of the configuration template
	// Procs is the worker processes Prepare configures, each listening on
	// the port with a socket of its own (nginx's worker_processes with
	// reuseport); 0 or 1: one worker, as the peer has always run. Only a
	// peer that Can.Procs takes more than 1.
	Procs int
	// Addr is the address the peer listens on; "": 127.0.0.1. A server
	// on another host listens on the address its load comes to.
	Addr string
}

// MPM is the peer's Apache multi-processing module; empty for nginx.
func (p Peer) MPM() string { return p.Entry.Peer.MPM }

// Binary is the peer's executable.
func (p Peer) Binary() string { return p.Entry.Peer.Binary }

// Lookup returns the peer e if it is installed and its template is in
// scriptsDir.
func Lookup(e registry.Entry, scriptsDir string) (Peer, error) {
	if e.Peer == nil {
		return Peer{}, fmt.Errorf("%w: %q is not a peer", ErrNotInstalled, e.Name)
	}
	p := Peer{Entry: e, Template: filepath.Join(scriptsDir, e.Peer.Template)}
	if p.MPM() != "" {
		mod := filepath.Join(registry.ApacheModules, "mod_mpm_"+p.MPM()+".so")
		if _, err := os.Stat(mod); err != nil {
			return p, fmt.Errorf("%w: %s: %s missing (scripts/install-peers.sh installs it)", ErrNotInstalled, e.Name, mod)
		}
	}
	if _, err := os.Stat(p.Binary()); err != nil {
		return p, fmt.Errorf("%w: %s: %s missing (scripts/install-peers.sh installs it)", ErrNotInstalled, e.Name, p.Binary())
	}
	if _, err := os.Stat(p.Template); err != nil {
		return p, fmt.Errorf("peers: %s: template: %w", e.Name, err)
	}
	p.Version = version(p.Binary())
	p.Entry = withModules(p.Entry)
	return p, nil
}

// withModules takes away the abilities whose modules are not installed on
// this machine, saying why in Lacks, so the planner sits the peer out of
// the scenarios that need them instead of failing every level.
func withModules(e registry.Entry) registry.Entry {
	var lacks []string
	if e.Can.Proxy {
		for _, m := range e.Peer.ProxyModules {
			if _, err := os.Stat(m); err != nil {
				e.Can.Proxy, e.Can.Fanout = false, false
				lacks = append(lacks, m+" is not installed (scripts/install-peers.sh installs it)")
				break
			}
		}
	}
	if e.Can.Fanout && e.Peer.FanoutModule != "" {
		if _, err := os.Stat(e.Peer.FanoutModule); err != nil {
			e.Can.Fanout = false
			lacks = append(lacks, e.Peer.FanoutModule+" is not installed (scripts/install-peers.sh installs it)")
		}
	}
	e.Lacks = strings.Join(lacks, "; ")
	return e
}

// Detect returns the installed peers and, for each missing one, why.
func Detect(scriptsDir string) ([]Peer, []string) {
	var ps []Peer
	var why []string
	for _, e := range registry.OfKind(results.KindPeer) {
		p, err := Lookup(e, scriptsDir)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		ps = append(ps, p)
	}
	return ps, why
}

// version asks the binary; both print one line with the version (nginx on
// stderr).
func version(bin string) string {
	cmd := exec.Command(bin, "-v")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	line = strings.TrimPrefix(line, "nginx version: ")
	return strings.TrimPrefix(line, "Server version: ")
}

// Params fill a template.
type Params struct {
	Dir        string
	Addr       string // listen address (IPv4)
	Port       int
	Backlog    int
	NoFile     uint64
	Modules    string
	MPM        string
	User       string
	Group      string
	PreforkMax int
	// StartServers and MaxSpare size Apache's pool for the level before it
	// starts (see apachePool); MaxSpare is processes for prefork and
	// threads for worker and event.
	StartServers int
	MaxSpare     int
	// Upstream is the backend's HOST:PORT when the peer proxies; empty:
	// it serves its fixed answer. Subrequests > 0 makes nginx gather:
	// that many parallel subrequests per request, each proxied
	// (FanoutModule is the module that provides them).
	Upstream     string
	Subrequests  int
	FanoutModule string
	// Procs is the worker processes; above 1 each has its own listening
	// socket on Port (see Peer.Procs).
	Procs int
}

// Upstream is what a proxying peer forwards to: the backend's address and
// the backend calls per request (0 or 1: a plain reverse proxy).
type Upstream struct {
	Addr   string
	Fanout int
	// Gather asks for the fan-out mechanism even at K=1, so that a curve
	// against K compares one mechanism throughout.
	Gather bool
}

// ErrNoFanout is returned (wrapped) when a peer is asked to fan out and
// cannot: the planner should have kept it out of the scenario.
var ErrNoFanout = errors.New("peers: no fan-out")

// ErrNoProcs is returned (wrapped) when a peer that runs as one process
// is asked for several (Peer.Procs).
var ErrNoProcs = errors.New("peers: no multi-process configuration")

// Prepare renders the peer's configuration into dir (created, and made
// world-readable so Apache's children can serve from it after dropping
// root) for a server on 127.0.0.1:port that will hold about conns
// connections, proxying to up when up.Addr is set, with p.Procs worker
// processes, and returns the command line that runs it in the foreground.
func (p Peer) Prepare(dir string, port, backlog int, nofile uint64, conns int, up Upstream) ([]string, error) {
	if up.Addr != "" && !p.Can.Proxy {
		return nil, fmt.Errorf("peers: %s cannot proxy: %s", p.Name, p.Lacks)
	}
	if up.Addr != "" && up.Fanout > 1 && !p.Can.Fanout {
		return nil, fmt.Errorf("%w: %s cannot make %d backend calls per request: %s", ErrNoFanout, p.Name, up.Fanout, p.Lacks)
	}
	if p.Procs > 1 && !p.Can.Procs {
		return nil, fmt.Errorf("%w: %s runs as one process here, not %d", ErrNoProcs, p.Name, p.Procs)
	}
	if err := os.MkdirAll(filepath.Join(dir, "htdocs"), 0o755); err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "htdocs")} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
	}
	addr := p.Addr
	if addr == "" {
		addr = "127.0.0.1"
	}
	params := Params{Dir: dir, Addr: addr, Port: port, Backlog: backlog, NoFile: nofile,
		Modules: registry.ApacheModules, MPM: p.MPM(), PreforkMax: registry.PreforkMax,
		Upstream: up.Addr, FanoutModule: p.Entry.Peer.FanoutModule, Procs: max(p.Procs, 1)}
	params.StartServers, params.MaxSpare = apachePool(p.MPM(), conns)
	if up.Addr != "" && p.Entry.Peer.FanoutModule != "" && (up.Fanout > 1 || up.Gather) {
		params.Subrequests = max(up.Fanout, 1)
	}
	if os.Geteuid() == 0 && p.MPM() != "" {
		params.User, params.Group = unprivileged()
		if err := traversable(dir); err != nil {
			return nil, fmt.Errorf("peers: %s: its children run as %s and must reach %s: %w", p.Name, params.User, dir, err)
		}
	}
	tmpl, err := template.New(filepath.Base(p.Template)).Funcs(templateFuncs).ParseFiles(p.Template)
	if err != nil {
		return nil, fmt.Errorf("peers: %s: %w", p.Name, err)
	}
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, params); err != nil {
		return nil, fmt.Errorf("peers: %s: rendering %s: %w", p.Name, p.Template, err)
	}
	confPath := filepath.Join(dir, p.Name+".conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	if p.MPM() == "" {
		return []string{p.Binary(), "-c", confPath, "-p", dir, "-e", filepath.Join(dir, "error.log")}, nil
	}
	if err := os.WriteFile(filepath.Join(dir, "htdocs", "index.html"), []byte(Body), 0o644); err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	// mod_mime insists on a types file; the one type needed is in the conf.
	if err := os.WriteFile(filepath.Join(dir, "mime.types"), nil, 0o644); err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	return []string{p.Binary(), "-f", confPath, "-d", dir, "-DFOREGROUND"}, nil
}

// Apache's pool: threads per child process of worker and event (ThreadsPerChild
// in the template), and the least it starts with.
const (
	apacheThreadsPerChild = 64
	apacheMaxChildren     = 160 // ServerLimit of worker and event
	preforkMinStart       = 5
	threadedMinStart      = 2
)

// apachePool sizes Apache's pool for a level of conns connections before
// it starts, as an operator who expects that load would. Left to grow on
// demand, Apache adds at most 32 children a second, doubling from one:
// prefork would need a minute to reach 2,000 connections, and a level of a
// few seconds would measure an Apache still spawning, with most clients
// queued, rather than the Apache that serves that load. Spares are raised
// with the start so the pool is not trimmed back while the level runs.
func apachePool(mpm string, conns int) (start, maxSpare int) {
	switch mpm {
	case "prefork":
		start = min(max(conns, preforkMinStart), registry.PreforkMax)
		return start, max(2*preforkMinStart, start)
	case "worker", "event":
		start = min(max((conns+apacheThreadsPerChild-1)/apacheThreadsPerChild, threadedMinStart), apacheMaxChildren)
		return start, max(4*apacheThreadsPerChild, start*apacheThreadsPerChild)
	}
	return 0, 0
}

// Pool is what the peer's process tree holds once the pool Prepare sized
// for conns connections has started: processes (the master included) and
// threads. Zero for a peer without a pool to wait for (nginx).
func (p Peer) Pool(conns int) (procs, threads int) {
	start, _ := apachePool(p.MPM(), conns)
	switch p.MPM() {
	case "prefork":
		return start + 1, start + 1
	case "worker", "event":
		return start + 1, start * apacheThreadsPerChild
	}
	return 0, 0
}

// templateFuncs are the functions the templates may call: seq N ranges
// over N items (nginx's K subrequests are K lines).
var templateFuncs = template.FuncMap{
	"seq": func(n int) []int { return make([]int, max(n, 0)) },
}

// unprivileged picks the user Apache's children run as when started by
// root (it refuses to serve as root).
func unprivileged() (string, string) {
	for _, n := range []string{"www-data", "nobody", "daemon"} {
		u, err := user.Lookup(n)
		if err != nil {
			continue
		}
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			return n, g.Name
		}
		return n, "#" + u.Gid
	}
	return "#65534", "#65534"
}

// ErrNotTraversable is returned (wrapped) when a directory above a peer's
// document root is closed to other users.
var ErrNotTraversable = errors.New("peers: directory not searchable by other users")

// traversable checks that every directory from / down to dir lets other
// users through (o+x), as Apache's children need after dropping root.
func traversable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("peers: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("peers: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%w: %s (mode %v)", ErrNotTraversable, d, fi.Mode().Perm())
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
