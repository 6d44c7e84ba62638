package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"c10k/harness/peers"
	"c10k/harness/registry"
	"c10k/harness/results"
)

func init() {
	commands["peer"] = command{
		summary: "run nginx or Apache in the foreground with the configuration the harness gives it",
		run:     runPeer,
	}
}

const peerExamples = `
Examples:
  # nginx, one worker, the 14-byte answer, on port 18080 (config in /tmp/ngx)
  c10k peer -name nginx -port 18080 -dir /tmp/ngx

  # Apache worker MPM as a reverse proxy in front of a backend
  c10k peer -name apache-worker -port 18081 -dir /tmp/aw -upstream 127.0.0.1:9001

  # nginx gathering 4 parallel subrequests per request (ngx_http_echo)
  c10k peer -name nginx -port 18082 -dir /tmp/ngx4 -upstream 127.0.0.1:9001 -fanout 4

  # nginx with 2 workers, each with its own reuseport listener on the port
  c10k peer -name nginx -port 18083 -dir /tmp/ngx2 -procs 2
`

var peerHelp = help{
	synopsis: "c10k peer -name " + strings.Join(registry.Names(registry.OfKind(results.KindPeer)), "|") +
		" -port PORT -dir DIR [-conns N] [-upstream HOST:PORT] [-fanout K] [-procs N]",
	about: "Renders the peer's configuration from the harness's template (scripts/*.conf.tmpl) into DIR,\n" +
		"as c10k bench does for every level, and then becomes the peer, in the foreground, on\n" +
		"127.0.0.1:PORT, so that measurement scripts run exactly what the harness runs.\n" +
		"Exit status: the peer's own; 1 the peer could not be prepared, 2 bad usage.",
	examples: peerExamples,
}

func runPeer(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("c10k peer", peerHelp, stderr)
	name := fs.String("name", "", "the `peer` to run (required)")
	port := fs.Int("port", 0, "loopback `port` to listen on (required)")
	dir := fs.String("dir", "", "`directory` for its configuration, logs and document root (required)")
	scripts := fs.String("scripts", "", "`directory` with the templates; default: scripts/ of this checkout")
	conns := fs.Int("conns", 0, "connections to size Apache's pool for at start (`N`), as the harness does for each level")
	var up peers.Upstream
	fs.StringVar(&up.Addr, "upstream", "", "proxy every request to this backend `HOST:PORT`")
	fs.IntVar(&up.Fanout, "fanout", 1, "backend calls per request (`K`); above 1 only nginx with ngx_http_echo")
	procs := fs.Int("procs", 1, "worker processes (`N`), each with its own SO_REUSEPORT listener on the port\n"+
		"(nginx's worker_processes N with reuseport); above 1 only "+strings.Join(procsPeers(), ", "))
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	e, ok := registry.Lookup(*name)
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "c10k peer: unexpected argument %q\n", fs.Arg(0))
		return 2
	case !ok || e.Peer == nil:
		fmt.Fprintf(stderr, "c10k peer: -name %q: want one of %s\n", *name, strings.Join(registry.Names(registry.OfKind(results.KindPeer)), ", "))
		return 2
	case *port <= 0 || *port > 65535:
		fmt.Fprintf(stderr, "c10k peer: -port %d: want 1-65535\n", *port)
		return 2
	case *dir == "":
		fmt.Fprintln(stderr, "c10k peer: -dir is required")
		return 2
	case *conns < 0:
		fmt.Fprintf(stderr, "c10k peer: -conns %d: must not be negative\n", *conns)
		return 2
	case up.Fanout < 1 || up.Fanout > 1 && up.Addr == "":
		fmt.Fprintf(stderr, "c10k peer: -fanout %d: want 1, or more with -upstream\n", up.Fanout)
		return 2
	case *procs < 1 || *procs > maxProcs:
		fmt.Fprintf(stderr, "c10k peer: -procs %d: want 1 to %d\n", *procs, maxProcs)
		return 2
	case *procs > 1 && !e.Can.Procs:
		fmt.Fprintf(stderr, "c10k peer: -procs %d: %s runs as one process; want one of %s\n", *procs, e.Name, strings.Join(procsPeers(), ", "))
		return 2
	}
	argv, err := preparePeer(e, *scripts, *dir, *port, *procs, *conns, up)
	if err != nil {
		fmt.Fprintf(stderr, "c10k peer: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "c10k peer: %s\n", strings.Join(argv, " "))
	// Exec, not a child: the caller's PID is the peer's master, to signal
	// and to sample.
	if err := syscall.Exec(argv[0], argv, os.Environ()); err != nil {
		fmt.Fprintf(stderr, "c10k peer: exec %s: %v\n", argv[0], err)
	}
	return 1
}

// preparePeer renders e's configuration with procs workers, its pool sized
// for conns connections, into dir and returns its command line, with the
// backlog and descriptor limit the harness would give it.
func preparePeer(e registry.Entry, scripts, dir string, port, procs, conns int, up peers.Upstream) ([]string, error) {
	if scripts == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding the c10k binary: %w", err)
		}
		scripts = findScripts(exe)
	}
	p, err := peers.Lookup(e, scripts)
	if err != nil {
		return nil, err
	}
	p.Procs = procs
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("peer directory: %w", err)
	}
	var rl syscall.Rlimit
	nofile := uint64(1 << 20)
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Max < nofile {
		nofile = rl.Max
	}
	return p.Prepare(abs, port, somaxconn(), nofile, conns, up)
}

// procsPeers names the peers that run as several processes on one port.
func procsPeers() []string {
	var out []string
	for _, e := range registry.OfKind(results.KindPeer) {
		if e.Can.Procs {
			out = append(out, e.Name)
		}
	}
	return out
}

// somaxconn is the kernel's cap on a listen backlog, which the harness
// asks of every server; 511 when it cannot be read.
func somaxconn() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 511
	}
	var n int
	if _, err := fmt.Sscan(string(b), &n); err != nil || n <= 0 {
		return 511
	}
	return n
}
