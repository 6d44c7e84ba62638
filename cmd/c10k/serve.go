package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/models/server"
	"c10k/models/upstream"
	"c10k/models/wire"
)

func init() {
	commands["serve"] = command{
		summary: "run one server model: " + modelList(" or "),
		run:     runServe,
	}
}

// modelList names the models of the registry, joined by sep before the
// last one and commas elsewhere.
func modelList(last string) string {
	names := registry.Names(registry.OfKind(results.KindModel))
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + last + names[len(names)-1]
}

// startNoter is a model with something to say at start beyond the common
// line (the thread model: its thread limit).
type startNoter interface{ StartNote() string }

// serveStopTimeout bounds the wait for Serve after a signal. Serve waits
// for connections busy in -wait or -work; past this the process exits
// anyway, which closes them just as well.
const serveStopTimeout = 2 * time.Second

const serveExamples = `
Examples:
  # the event loop on the default address, 14-byte body
  c10k serve -model epoll

  # one OS thread per connection, on a free port (read it from the first line)
  c10k serve -model thread -addr 127.0.0.1:0

  # each request waits 10 ms on a simulated backend: blocked threads vs timers
  c10k serve -model goroutine -wait 10ms

  # each request burns 100 us of CPU, pinned to CPU 0 with one P
  GOMAXPROCS=1 taskset -c 0 c10k serve -model epoll -work 100us

  # a 4 KiB body on port 9000
  c10k serve -model thread -addr 127.0.0.1:9000 -body 4096

  # a reverse proxy: a 10 ms backend on 9001, and every request gathering
  # 4 calls to it (502 if one fails, 504 if one takes over 500 ms)
  c10k serve -model epoll -addr 127.0.0.1:9001 -wait 10ms &
  c10k serve -model goroutine -upstream 127.0.0.1:9001 -fanout 4 -upstream-timeout 500ms

  # nginx's worker_processes 4 with reuseport: 4 event loops in 4 processes
  # on one free port, each with its own descriptor limit
  c10k serve -model epoll -procs 4 -addr 127.0.0.1:0

  # 2 goroutine servers on port 9000, each with its own upstream pool
  c10k serve -model goroutine -procs 2 -addr 127.0.0.1:9000 -upstream 127.0.0.1:9001
`

var serveHelp = help{
	synopsis: "c10k serve -model " + strings.Join(registry.Names(registry.OfKind(results.KindModel)), "|") + " [-addr 127.0.0.1:8080] [-body BYTES] [-work DUR] [-wait DUR]\n" +
		"                  [-upstream HOST:PORT[,HOST:PORT...]] [-fanout K] [-upstream-timeout DUR] [-procs N]",
	about: "Runs one server model until SIGINT or SIGTERM, then exits 0. The first line on\n" +
		"stdout is \"listening on HOST:PORT\", printed once the socket accepts connections;\n" +
		"the model, pid and GOMAXPROCS go to stderr. Exit status: 0 stopped by a signal,\n" +
		"1 the server failed (e.g. address in use), 2 bad usage.\n\n" +
		"With -procs N it starts N copies of itself as workers, each listening on the same\n" +
		"address with a SO_REUSEPORT socket of its own (nginx's worker_processes with\n" +
		"reuseport; the kernel spreads connections between them), and supervises them: one\n" +
		"listening line once all N listen, signals passed on, and exit status 1, naming the\n" +
		"worker, if one exits by itself (the others are then stopped). Port 0 is picked once\n" +
		"by the supervisor. Workers inherit its CPU affinity; their stderr lines say\n" +
		"\"worker I/N\".",
	examples: serveExamples,
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("c10k serve", serveHelp, stderr)
	model := fs.String("model", "", "server `model`: "+modelList(", ")+" (required)")
	cfg := server.Config{}
	fs.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "listen `address`, IPv4 host:port; port 0 picks a free one")
	fs.IntVar(&cfg.BodySize, "body", len(wire.DefaultBody), "response body size in `bytes`")
	fs.DurationVar(&cfg.Work, "work", 0, "CPU burned per request on the serving thread (`duration`)")
	fs.DurationVar(&cfg.Wait, "wait", 0, "simulated backend I/O per request (`duration`): a blocking sleep in the\n"+
		"thread model, a parked goroutine in the goroutine model, a timer in the event loop")
	upstreams := fs.String("upstream", "", "proxy every request to these backends, `HOST:PORT[,HOST:PORT...]` (IPv4),\n"+
		"over pooled keep-alive connections, round-robin; a failed call gets 502, a slow one 504")
	fs.IntVar(&cfg.Fanout, "fanout", upstream.DefaultFanout, "backend calls per request with -upstream (`K`), answered once all K have:\n"+
		"one after another in the thread model, at once in the others")
	fs.DurationVar(&cfg.UpstreamTimeout, "upstream-timeout", upstream.DefaultTimeout,
		"time a backend call may take with -upstream (`duration`) before the client gets 504")
	fs.IntVar(&cfg.Procs, "procs", 1, "serve from `N` worker processes on the one address, each with its own\n"+
		"SO_REUSEPORT listener, event loop or runtime, upstream pool and descriptor limit,\n"+
		"supervised by this process (nginx's worker_processes N with reuseport); the thread\n"+
		"model splits the machine's thread limits between them")
	worker := fs.Int("worker", 0, "set by the -procs supervisor on the processes it starts: serve as worker `I` of N")
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	cfg.Upstreams = splitUpstreams(*upstreams)
	newServer, err := checkServeFlags(fs, *model, cfg, *worker)
	if err != nil {
		fmt.Fprintf(stderr, "c10k serve: %v\n", err)
		return 2
	}
	if cfg.Procs > 1 && *worker == 0 {
		return superviseServe(fs, *model, cfg, stdout, stderr)
	}

	// say prefixes what this process writes to stderr: a worker names
	// itself, so that N processes writing to one stderr can be told apart.
	prefix := "c10k serve: "
	if *worker > 0 {
		prefix += fmt.Sprintf("worker %d/%d: ", *worker, cfg.Procs)
		log.SetPrefix(fmt.Sprintf("worker %d/%d: ", *worker, cfg.Procs))
	}
	say := func(format string, args ...any) { fmt.Fprintf(stderr, prefix+format+"\n", args...) }

	s, err := newServer(cfg)
	if err != nil {
		say("%v", err)
		return 1
	}
	say("model=%s pid=%d GOMAXPROCS=%d body=%d work=%v wait=%v",
		*model, hostPID(), runtime.GOMAXPROCS(0), cfg.BodySize, cfg.Work, cfg.Wait)
	if len(cfg.Upstreams) > 0 {
		say("proxying to %s, fanout=%d upstream-timeout=%v, at most %d idle connections per upstream",
			strings.Join(cfg.Upstreams, ","), cfg.Fanout, cfg.UpstreamTimeout, upstream.MaxIdle)
	}
	if n, ok := s.(startNoter); ok {
		say("%s", n.StartNote())
	}

	// Signals are caught before the listening line, so a harness that
	// signals as soon as it reads the line never kills the process instead.
	// A worker keeps catching them until it exits: it gets a signal sent
	// to its process group and the supervisor's copy of it, and the second
	// must not kill a worker that is already closing.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if *worker == 0 {
		defer signal.Stop(sig)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	fmt.Fprintf(stdout, "listening on %s\n", s.Addr())

	select {
	case err := <-done:
		if err == nil {
			err = errors.New("server stopped by itself")
		}
		say("%v", err)
		return 1
	case got := <-sig:
		say("%v: closing", got)
	}
	// Close too is bounded: a loop that missed its wake-up would otherwise
	// keep a stopped server alive, holding its port.
	deadline := time.After(serveStopTimeout)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			say("%v", err)
		}
	case <-deadline:
		say("close did not finish in %v; exiting anyway", serveStopTimeout)
		return 0
	}
	select {
	case err := <-done:
		if err != nil {
			say("%v", err)
		}
	case <-deadline:
		say("connections still busy after %v; exiting anyway", serveStopTimeout)
	}
	return 0
}

// checkServeFlags validates what flag parsing cannot and picks the model.
func checkServeFlags(fs *flag.FlagSet, model string, cfg server.Config, worker int) (func(server.Config) (server.Server, error), error) {
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if model == "" {
		return nil, fmt.Errorf("-model is required: one of %s", modelList(", "))
	}
	entry, err := registry.Model(model)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.BodySize < 0:
		return nil, fmt.Errorf("-body %d: must not be negative", cfg.BodySize)
	case cfg.Work < 0:
		return nil, fmt.Errorf("-work %v: must not be negative", cfg.Work)
	case cfg.Wait < 0:
		return nil, fmt.Errorf("-wait %v: must not be negative", cfg.Wait)
	case cfg.Fanout < 1 || cfg.Fanout > upstream.MaxFanout:
		return nil, fmt.Errorf("-fanout %d: want 1 to %d", cfg.Fanout, upstream.MaxFanout)
	case cfg.UpstreamTimeout <= 0:
		return nil, fmt.Errorf("-upstream-timeout %v: must be positive", cfg.UpstreamTimeout)
	case cfg.Procs < 1 || cfg.Procs > maxProcs:
		return nil, fmt.Errorf("-procs %d: want 1 to %d", cfg.Procs, maxProcs)
	case cfg.Procs > 1 && !entry.Can.Procs:
		return nil, fmt.Errorf("-procs %d: the %s model runs as one process", cfg.Procs, model)
	case worker != 0 && cfg.Procs == 1:
		return nil, fmt.Errorf("-worker %d needs -procs above 1", worker)
	case worker < 0 || worker > cfg.Procs:
		return nil, fmt.Errorf("-worker %d: want 1 to %d (-procs)", worker, cfg.Procs)
	}
	if len(cfg.Upstreams) > 0 {
		if _, err := upstream.New(cfg.Upstreams, cfg.Fanout, cfg.UpstreamTimeout); err != nil {
			return nil, fmt.Errorf("-upstream: %w", err)
		}
	} else {
		var stray error
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "fanout" || f.Name == "upstream-timeout" {
				stray = fmt.Errorf("-%s needs -upstream", f.Name)
			}
		})
		if stray != nil {
			return nil, stray
		}
	}
	return entry.New, nil
}

// splitUpstreams splits the -upstream list; empty entries are dropped so
// that a trailing comma is harmless.
func splitUpstreams(list string) []string {
	var out []string
	for a := range strings.SplitSeq(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// hostPID is this process's PID as /proc names it. Under c10k bench a
// server is the init of a PID namespace of its own, where os.Getpid is 1;
// /proc is the host's, so /proc/self says the PID a user can look up.
func hostPID() int {
	if self, err := os.Readlink("/proc/self"); err == nil {
		if pid, err := strconv.Atoi(self); err == nil {
			return pid
		}
	}
	return os.Getpid()
}
