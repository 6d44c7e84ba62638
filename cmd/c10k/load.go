package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"c10k/loadgen"
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

  # pinned to CPU 1, the server on CPU 0, machine-readable result on stdout
  taskset -c 1 c10k load -url http://127.0.0.1:8080/ -c 100 -d 10s -warmup 2s -json -
`

var loadHelp = help{
	synopsis: "c10k load -url URL -c CONNS -d DUR [-rate REQ_PER_S] [-idle K] [-pipeline N] [-warmup DUR] [-method GET|HEAD] [-json FILE] [-hgrm FILE]",
	about: "Closed loop by default: each connection sends its next request when the answer\n" +
		"to the previous one arrives. -rate makes it open loop: requests leave on a fixed\n" +
		"schedule whatever the server does, and a server that falls behind is charged for\n" +
		"the whole wait (no coordinated omission). The run lasts -warmup + -d, plus, in open\n" +
		"loop, up to -timeout for the last answers, plus the time to open the idle pool.\n" +
		"Any HTTP/1.1 answer is read: Content-Length, chunked, close-delimited (the connection\n" +
		"is then opened again for the next request), 1xx interim answers, HEAD, 204 and 304.\n" +
		"Errors are counted by kind, and the first message of each kind is shown (first_errors).\n" +
		"\n" +
		"Exit status:\n" +
		"  0  the run completed and requests succeeded (2xx or 3xx)\n" +
		"  1  the run ended early (server gone, interrupted) or a result file could not be\n" +
		"     written; what was measured is still written\n" +
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
	quiet    bool
	spin     time.Duration
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
		"0: as many as the ephemeral port range needs")
	fs.IntVar(&o.Loops, "loops", 0, "event loops, one OS thread each; 0: one per CPU this process may use (taskset)")
	fs.DurationVar(&o.DeadAfter, "dead-after", loadgen.DefaultDeadAfter, "stop with partial results once no connection is open and none succeeds for this `duration`")
	fs.DurationVar(&lf.spin, "spin", loadgen.DefaultSpin, "open loop: poll rather than sleep when the next request is due within this `duration`;\n"+
		"0: always sleep on a timer (less CPU; every request then pays the generator's own wake-up).\n"+
		"The busiest loop's working share (loop_busy) says whether the generator kept up")
	fs.StringVar(&lf.jsonPath, "json", "", "write the result as JSON to `FILE` (- for stdout)")
	fs.StringVar(&lf.hgrmPath, "hgrm", "", "write the latency distribution in HdrHistogram's percentile text format (ms) to `FILE`")
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
	lf.opts.Spin = lf.spin
	if lf.spin <= 0 {
		lf.opts.Spin = -1 // loadgen reads 0 as its default
	}
	if err := lf.opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "c10k load: %v\n", err)
		return exitUsage
	}
	setLoadProcs(lf.opts.Loops)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, lf.opts)
	if err != nil {
		fmt.Fprintf(stderr, "c10k load: %v\n", err)
		if errors.Is(err, loadgen.ErrResolve) {
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
	if lf.jsonPath != "" {
		if err := writeTo(lf.jsonPath, stdout, res.WriteJSON); err != nil {
			fmt.Fprintf(stderr, "c10k load: %v\n", err)
			status = exitIncomplete
		}
	}
	if lf.hgrmPath != "" {
		if err := writeTo(lf.hgrmPath, stdout, res.WriteHgrm); err != nil {
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

// writeTo writes with write to the file at path, or to stdout for "-".
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
}
