package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"c10k/harness/proc"
	"c10k/hosts"
	"c10k/loadgen"
	"c10k/loadgen/fleet"
)

func init() {
	commands["load"] = command{
		summary: "generate HTTP load: closed or open loop, pipelining, idle connections",
		run:     runLoad,
	}
}

const loadExamples = `
Examples:
  # closed loop: 100 connections for 10 s, as wrk -c100 -d10s
  c10k load -url http://127.0.0.1:8080/ -c 100 -d 10s

  # open loop at 2000 requests/s in total, latency from the intended send time
  c10k load -url http://127.0.0.1:8080/ -c 50 -d 30s -rate 2000 -hgrm lat.hgrm

  # open loop at a low rate, timed as finely as the machine allows: poll for
  # every request instead of sleeping between them (costs the generator's core)
  c10k load -url http://127.0.0.1:8080/ -c 10 -d 10s -rate 5000 -spin 1ms

  # any HTTP/1.1 server, by host name (looked up once) or IPv6 literal, GET or HEAD
  c10k load -url http://localhost:3000/api -c 50 -d 10s
  c10k load -url http://[::1]:8080/ -c 50 -d 10s -method HEAD

  # TechEmpower-style pipelining, 16 requests in flight per connection
  c10k load -url http://127.0.0.1:8080/ -c 256 -d 10s -pipeline 16

  # hold 10,000 idle keep-alive connections beside a light active load
  c10k load -url http://127.0.0.1:8080/ -c 10 -d 20s -idle 10000 -json out.json

  # the latency second by second as an HdrHistogram interval log, for
  # HdrHistogram's HistogramLogProcessor or to merge with other hosts' logs
  c10k load -url http://127.0.0.1:8080/ -c 100 -d 30s -rate 5000 -hlog lat.hlog

  # 30,000 idle connections, past one process's descriptor limit: 3 load
  # processes, each with its own limit and source addresses, results merged
  c10k load -url http://127.0.0.1:8080/ -c 30 -d 20s -idle 30000 -procs 3 -json out.json

  # pinned to CPU 1, the server on CPU 0, machine-readable result on stdout;
  # with -procs, every load process runs on CPU 1
  taskset -c 1 c10k load -url http://127.0.0.1:8080/ -c 100 -d 10s -warmup 2s -json -
  taskset -c 1 c10k load -url http://127.0.0.1:8080/ -c 100 -d 10s -procs 4 -json -

  # load from two other machines (ssh, key auth), pinned to their CPUs 0-3,
  # merged here; the server at 10.0.0.5 must listen on that address
  c10k load -url http://10.0.0.5:8080/ -c 2000 -d 30s -hosts ssh://bench@c1,ssh://bench@c2 -host-cpus 0-3 -json out.json
`

var loadHelp = help{
	synopsis: "c10k load -url URL -c CONNS -d DUR [-rate REQ_PER_S] [-idle K] [-pipeline N] [-warmup DUR] [-method GET|HEAD]\n" +
		"                 [-procs N] [-hosts H1,H2 [-host-cpus LIST]] [-json FILE] [-hgrm FILE] [-hlog FILE]",
	about: "Closed loop by default: each connection sends its next request when the answer\n" +
		"to the previous one arrives. -rate makes it open loop: requests leave on a fixed\n" +
		"schedule whatever the server does, and a server that falls behind is charged for\n" +
		"the whole wait (no coordinated omission). The run lasts -warmup + -d, plus, in open\n" +
		"loop, up to -timeout for the last answers, plus the time to open the idle pool.\n" +
		"Any HTTP/1.1 answer is read: Content-Length, chunked, close-delimited (the connection\n" +
		"is then opened again for the next request), 1xx interim answers, HEAD, 204 and 304.\n" +
		"Errors are counted by kind, and the first message of each kind is shown (first_errors).\n" +
		"-procs N runs the load as N processes side by side (c10k load itself, each with its own\n" +
		"descriptor limit and source addresses, on the CPUs this one may use) and merges their\n" +
		"results: counts summed, histograms merged; SIGINT or SIGTERM stops them all, and each\n" +
		"still hands in what it measured.\n" +
		"\n" +
		"Exit status:\n" +
		"  0  the run completed and requests succeeded (2xx or 3xx)\n" +
		"  1  the run ended early (server gone, interrupted, with -procs a load process that\n" +
		"     failed) or a result file could not be written; what was measured is still written\n" +
		"  2  bad usage: flags, URL, or a host name that does not resolve\n" +
		"  3  no request succeeded: every one failed (see the first error of each kind);\n" +
		"     the results are still written",
	examples: loadExamples,
}

// Exit statuses of c10k load, as -h documents them.
const (
	exitOK            = 0
	exitIncomplete    = 1
	exitUsage         = 2
	exitNoneSucceeded = 3
)

// loadFlags holds what the command line asks beyond loadgen.Options.
type loadFlags struct {
	opts     loadgen.Options
	jsonPath string
	hgrmPath string
	hlogPath string
	quiet    bool
	spin     time.Duration
	procs    int
	gate     bool
	started  bool
	hosts    string
	hostCPUs string
	sshConf  string
	sshCtl   string
}

func newLoadFlagSet(stderr io.Writer) (*flag.FlagSet, *loadFlags) {
	lf := &loadFlags{}
	fs := newFlagSet("c10k load", loadHelp, stderr)
	o := &lf.opts
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080/", "target `URL`: http://HOST[:port]/path, HOST an IPv4 address, an IPv6 literal\n"+
		"in brackets (http://[::1]:8080/) or a host name, resolved once at the start (IPv4 preferred)")
	fs.StringVar(&o.Method, "method", "GET", "request `method`: GET or HEAD (answers to HEAD have no body)")
	fs.IntVar(&o.Connections, "c", 10, "active keep-alive `connections`")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "measured `duration`, after -warmup")
	fs.Float64Var(&o.Rate, "rate", 0, "open loop: global `REQ_PER_S`, requests per second over all connections (not per connection);\n"+
		"latency is counted from each request's intended send time. 0: closed loop")
	fs.IntVar(&o.Pipeline, "pipeline", 1, "`N` requests in flight per active connection")
	fs.DurationVar(&o.Warmup, "warmup", 0, "load run before measuring, excluded from every figure (`duration`)")
	fs.DurationVar(&o.Think, "think", 0, "closed loop: pause between an answer and the next request on a connection (`duration`)")
	fs.IntVar(&o.Idle, "idle", 0, "`K` extra connections opened before the load, one request each, then held idle;\n"+
		"the result reports how many are still open at the end (idle_alive)")
	fs.Float64Var(&o.ConnectRate, "connect-rate", loadgen.DefaultConnectRate, "idle connections opened per second (`N`)")
	fs.DurationVar(&o.Timeout, "timeout", loadgen.DefaultTimeout, "a request or connect unanswered this long is a timeout; its connection is replaced")
	fs.IntVar(&o.Sources, "sources", 0, "spread connections over this many 127.0.0.x source `addresses`;\n"+
		"0: as many as the ephemeral port range needs. With -procs, shared out, at least one each")
	fs.IntVar(&o.SourceOffset, "source-offset", 0, "the first source address is 127.0.0.(1+`K`); -procs gives each process a range of its own")
	fs.IntVar(&o.Loops, "loops", 0, "event loops, one OS thread each; 0: one per CPU this process may use (taskset).\n"+
		"With -procs, per process; 0 shares the CPUs out, at least one loop each")
	fs.DurationVar(&o.DeadAfter, "dead-after", loadgen.DefaultDeadAfter, "stop with partial results once no connection is open and none succeeds for this `duration`")
	fs.DurationVar(&lf.spin, "spin", loadgen.DefaultSpin, "open loop: poll rather than sleep when the next request is due within this `duration`;\n"+
		"0: always sleep on a timer (less CPU; every request then pays the generator's own wake-up).\n"+
		"The busiest loop's working share (loop_busy) says whether the generator kept up")
	fs.StringVar(&lf.jsonPath, "json", "", "write the result as JSON to `FILE` (- for stdout)")
	fs.StringVar(&lf.hgrmPath, "hgrm", "", "write the latency distribution in HdrHistogram's percentile text format (ms) to `FILE`")
	fs.StringVar(&lf.hlogPath, "hlog", "", "write the latency as an HdrHistogram interval log to `FILE`: one interval a second of the\n"+
		"measured window in HistogramLogWriter's format, values in us (untagged: the latency of -hgrm;\n"+
		"Tag=service: the service time, in open loop). Logs of several runs merge interval by interval")
	fs.IntVar(&lf.procs, "procs", 1, "run the load as `N` processes, each with its own descriptor limit (RLIMIT_NOFILE) and range\n"+
		"of source addresses; -c, -idle, -rate and -connect-rate are shared out (remainders to the first)\n"+
		"and the results merged, each process's own kept under \"procs\" in -json. 1: this process alone")
	fs.StringVar(&lf.hosts, "hosts", "", "run the load processes on these `hosts`, comma-separated, process i on host i mod count:\n"+
		"local, netns:NAME (a network namespace here, via ip netns exec) or ssh://[user@]host[:port]\n"+
		"(OpenSSH with key auth; this binary is copied there). -procs is raised to one per host at least;\n"+
		"results are merged as for -procs, each process's own under \"procs\" with its host")
	fs.StringVar(&lf.hostCPUs, "host-cpus", "", "with -hosts: pin the load processes on each host to this CPU `list`")
	fs.StringVar(&lf.sshConf, "ssh-config", "", "with -hosts: an ssh_config `file` for ssh -F; default: the user's own")
	fs.StringVar(&lf.sshCtl, "ssh-control", "", "with -hosts: a `directory` of shared ssh connections (ControlPath sockets) to use;\n"+
		"default: this command opens one per ssh host for its run (c10k bench passes its own)")
	fs.BoolVar(&lf.gate, "gate", false, "once connected, say \""+fleet.Ready+"\" on stderr and wait for stdin to close before\n"+
		"the load starts: how -procs starts its processes together")
	fs.BoolVar(&lf.started, "say-started", false, "say \""+fleet.Started+"\" on stderr as the warm-up begins, the idle pool open:\n"+
		"c10k bench samples the server then, sure to find every connection open")
	fs.BoolVar(&lf.quiet, "q", false, "no human summary")
	return fs, lf
}

func runLoad(args []string, stdout, stderr io.Writer) int {
	fs, lf := newLoadFlagSet(stderr)
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "c10k load: unexpected argument %q (the target is given with -url)\n", fs.Arg(0))
		return exitUsage
	}
	opts := lf.options()
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "c10k load: %v\n", err)
		return exitUsage
	}
	if lf.procs < 1 {
		fmt.Fprintf(stderr, "c10k load: -procs %d: at least 1\n", lf.procs)
		return exitUsage
	}
	onHosts, closeHosts, err := openHosts(lf)
	if err != nil {
		fmt.Fprintf(stderr, "c10k load: -hosts: %v\n", err)
		if errors.Is(err, hosts.ErrSpec) {
			return exitUsage
		}
		return exitIncomplete
	}
	defer closeHosts()
	if lf.hostCPUs != "" {
		if _, err := proc.ParseCPUList(lf.hostCPUs); err != nil || len(onHosts) == 0 {
			fmt.Fprintf(stderr, "c10k load: -host-cpus %q: a CPU list, with -hosts\n", lf.hostCPUs)
			return exitUsage
		}
	}
	if lf.gate {
		opts.Gate = fleet.Gate(os.Stdin, stderr)
	}
	if lf.started {
		opts.Started = func() { fmt.Fprintln(stderr, fleet.Started) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runLoadProcs(ctx, lf, onHosts, opts)
	if err != nil {
		fmt.Fprintf(stderr, "c10k load: %v\n", err)
		if errors.Is(err, loadgen.ErrResolve) || errors.Is(err, loadgen.ErrOptions) || errors.Is(err, fleet.ErrUsage) {
			return exitUsage
		}
		return exitIncomplete
	}
	status := exitOK
	if !lf.quiet {
		out := stdout
		if lf.jsonPath == "-" {
			out = stderr // keep stdout pure JSON
		}
		if err := res.WriteSummary(out); err != nil {
			fmt.Fprintf(stderr, "c10k load: %v\n", err)
			status = exitIncomplete
		}
	}
	for _, o := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{lf.jsonPath, res.WriteJSON},
		{lf.hgrmPath, res.WriteHgrm},
		{lf.hlogPath, res.WriteIntervalLog},
	} {
		if o.path == "" {
			continue
		}
		if err := writeTo(o.path, stdout, o.write); err != nil {
			fmt.Fprintf(stderr, "c10k load: %v\n", err)
			status = exitIncomplete
		}
	}
	if !res.Complete {
		fmt.Fprintf(stderr, "c10k load: run incomplete: %s\n", res.Message)
		status = exitIncomplete
	}
	if res.Succeeded() == 0 {
		// Said on stderr even with -q: a script must learn why.
		fmt.Fprintf(stderr, "c10k load: no request succeeded%s\n", firstErrorsLine(res))
		status = exitNoneSucceeded
	}
	return status
}

// options is the run the flags ask for: -spin 0 means never poll, which
// loadgen spells -1, and -hlog needs the per-second histograms.
func (lf *loadFlags) options() loadgen.Options {
	o := lf.opts
	o.Spin = lf.spin
	if lf.spin <= 0 {
		o.Spin = -1 // loadgen reads 0 as its default
	}
	o.IntervalLog = lf.hlogPath != ""
	return o
}

// openHosts parses -hosts and, for ssh hosts and unless -ssh-control names
// connections already open, opens one shared connection to each for the
// run; close closes them.
func openHosts(lf *loadFlags) (on []*hosts.Host, close func(), err error) {
	close = func() {}
	dir := lf.sshCtl
	own := dir == "" && strings.Contains(lf.hosts, "ssh://")
	if own {
		if dir, err = os.MkdirTemp("", "c10k-ssh-"); err != nil {
			return nil, close, err
		}
	}
	var stops []func()
	close = func() {
		for _, stop := range stops {
			stop()
		}
		if own {
			os.RemoveAll(dir)
		}
	}
	on, err = hosts.ParseList(lf.hosts, hosts.Options{SSHConfig: lf.sshConf, ControlDir: dir})
	if err != nil || !own {
		return on, close, err
	}
	for _, h := range on {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		stop, err := h.Master(ctx)
		cancel()
		if err != nil {
			return nil, close, err
		}
		stops = append(stops, stop)
	}
	return on, close, nil
}

// runLoadProcs runs o in this process, or, with -procs above 1 or -hosts,
// as load processes re-executing this binary (loadgen/fleet), here or on
// the hosts.
func runLoadProcs(ctx context.Context, lf *loadFlags, on []*hosts.Host, o loadgen.Options) (*loadgen.Result, error) {
	procs := max(lf.procs, len(on))
	if procs == 1 && len(on) == 0 {
		setLoadProcs(o.Loops)
		return loadgen.Run(ctx, o)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this binary to run the load processes: %w", err)
	}
	c := fleet.Config{Procs: procs, Options: o, Hosts: on, HostCPUs: lf.hostCPUs,
		Argv: func(o loadgen.Options, jsonPath, hlogPath string) []string {
			return loadArgs(exe, o, jsonPath, hlogPath)
		}}
	if lf.hostCPUs != "" {
		set, _ := proc.ParseCPUList(lf.hostCPUs)
		c.CPUs = set.Count() * ((procs + len(on) - 1) / len(on))
	}
	return fleet.Run(ctx, c)
}

// loadArgs is the command line of one load process of -procs: exe load
// with the flags that ask for o, no summary, waiting at the gate, the
// result and the interval log to the given files. It is newLoadFlagSet
// read backwards (a test parses it back to o).
func loadArgs(exe string, o loadgen.Options, jsonPath, hlogPath string) []string {
	spin := o.Spin
	switch {
	case spin < 0:
		spin = 0 // never poll
	case spin == 0:
		spin = loadgen.DefaultSpin
	}
	method := o.Method
	if method == "" {
		method = "GET"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{exe, "load", "-q", "-gate", "-json", jsonPath, "-hlog", hlogPath,
		"-url", o.URL, "-method", method,
		"-c", strconv.Itoa(o.Connections), "-idle", strconv.Itoa(o.Idle), "-pipeline", strconv.Itoa(o.Pipeline),
		"-d", o.Duration.String(), "-warmup", o.Warmup.String(), "-think", o.Think.String(),
		"-rate", num(o.Rate), "-connect-rate", num(o.ConnectRate),
		"-timeout", o.Timeout.String(), "-dead-after", o.DeadAfter.String(), "-spin", spin.String(),
		"-sources", strconv.Itoa(o.Sources), "-source-offset", strconv.Itoa(o.SourceOffset), "-loops", strconv.Itoa(o.Loops),
	}
}

// firstErrorsLine is "; first K error: MSG" for each kind K met, or "".
func firstErrorsLine(res *loadgen.Result) string {
	var parts []string
	for _, k := range loadgen.ErrorKinds() {
		for _, m := range []map[string]string{res.FirstErrors, res.IdleFirstErrors} {
			if msg, ok := m[k.String()]; ok {
				parts = append(parts, "first "+k.String()+" error: "+msg)
				break
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// setLoadProcs gives the Go scheduler one P per event loop plus a spare,
// unless GOMAXPROCS is set. A loop blocked in epoll_wait is in a system
// call while holding its P. When no P is idle, sysmon takes that P back
// after 20 us and hands it to another thread, and keeps polling every 20 us
// because it keeps finding work; on a generator pinned to one CPU that is
// tens of thousands of context switches a second, paid in client CPU per
// request. With one idle P, sysmon leaves Ps in short system calls alone
// and backs off to 10 ms. The spare P is also what lets an open-loop loop
// poll for its next request (-spin) without starving the other goroutines.
func setLoadProcs(loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if loops <= 0 {
		loops = loadgen.CPUs()
	}
	runtime.GOMAXPROCS(loops + 1)
}

// writeTo writes with write to the file at path, or to stdout for "-". A
// regular file is written under a temporary name beside it and renamed
// into place once complete, so an interrupted or failed write never
// leaves half a file where a script expects a result; a device or a pipe
// (/dev/stderr) is written in place.
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
		return errors.Join(write(f), f.Close())
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	err = write(f)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp's 0600 is for secrets
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", path, cerr)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
