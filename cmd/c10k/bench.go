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
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"c10k/harness"
	"c10k/harness/proc"
	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

func init() {
	commands["bench"] = command{
		summary: "run the benchmark scenarios against the models and peers, write a results directory",
		run:     runBench,
	}
}

// benchInterrupted is the exit status after Ctrl-C, as a shell reports it.
const benchInterrupted = 130

const benchExamples = `
Examples:
  # the quick grid (about 10 minutes on 2 cores): every model and installed peer
  c10k bench -out results/latest

  # the full grid, 3 repeats each, summarised as median and spread
  c10k bench -full -out results/full

  # CI smoke run: models only, two tiny levels, well under a minute
  c10k bench -smoke -out /tmp/smoke

  # idle connections from 10k to 1M (make bench-scale): servers and load spread
  # over processes sharing a port, kernel limits raised for the run and put back
  c10k bench -scale -sample 1s -out results/scale

  # only the idle scenario, our event loop beside nginx and Apache event
  c10k bench -scenarios idle -models epoll,nginx,apache-event

  # servers on CPUs 0-1, the load generator on CPUs 2-3
  c10k bench -server-cpus 0-1 -load-cpus 2-3

  # the server on one machine, the load from two others (ssh with key auth;
  # c10k copies itself there), each pinned to its CPUs 0-3
  c10k bench -server-host ssh://bench@srv -load-hosts ssh://bench@c1,ssh://bench@c2 -server-cpus 0-3 -load-cpus 0-3

  # the same on this machine, across network namespaces (see make bench-netns)
  scripts/netns-hosts.sh up c10kb 200
  c10k bench -server-host netns:c10kb-srv -load-hosts netns:c10kb-l1,netns:c10kb-l2
  scripts/netns-hosts.sh down c10kb
`

var benchHelp = help{
	synopsis: "c10k bench [-scenarios a,b] [-models m1,m2] [-full|-smoke|-scale] [-repeats N] [-out DIR]\n" +
		"                  [-server-cpus LIST] [-load-cpus LIST] [-backend-cpus LIST]\n" +
		"                  [-server-host HOST] [-load-hosts HOST,HOST [-ssh-config FILE]]",
	about: "Runs each scenario at each level against each server: a fresh server process\n" +
		"per level pinned to -server-cpus, `c10k load` pinned to -load-cpus, the server's\n" +
		"process tree and the machine sampled from /proc. Writes DIR/run.json, one\n" +
		"SCENARIO-SERVER.json and .csv per scenario and server, and hgrm/ latency files\n" +
		"(results/README.md explains them). A server that fails is recorded and the run\n" +
		"goes on. Ctrl-C stops the children, keeps what was measured and marks the run\n" +
		"incomplete. Exit status: 0 complete, 1 error, 2 bad usage, 130 interrupted.",
	examples: benchExamples,
}

// runBench is `c10k bench`: parse and check the flags, settle what the
// flags leave open, then either print the plan or run it and say how it
// ended.
func runBench(args []string, stdout, stderr io.Writer) int {
	opt, status, ok := parseBenchFlags(args, stderr)
	if !ok {
		return status
	}
	if err := locateBench(&opt); err != nil {
		fmt.Fprintf(stderr, "c10k bench: %v\n", err)
		return 1
	}
	if opt.DryRun {
		return printBenchPlan(opt, stdout, stderr)
	}
	if err := replacePreviousRun(opt.OutDir, stderr); err != nil {
		fmt.Fprintf(stderr, "c10k bench: %v\n", err)
		return 1
	}
	run, err := executeBench(opt, stderr)
	return reportBench(stdout, stderr, opt.OutDir, run, err)
}

// parseBenchFlags turns the command line into harness options; when it
// cannot (bad usage, or -h), ok is false and status is the exit status.
func parseBenchFlags(args []string, stderr io.Writer) (opt harness.Options, status int, ok bool) {
	fs := newFlagSet("c10k bench", benchHelp, stderr)
	var (
		full  = fs.Bool("full", false, "run the full grid (larger levels, 10 s per level, 3 repeats)")
		smoke = fs.Bool("smoke", false, "run the smoke grid (models only unless -models says otherwise: idle 200, concurrency 10 and proxy 10, 2 s each)")
		scale = fs.Bool("scale", false, "run the scale grid: idle connections from 10k to 1M, each level spread over processes\n"+
			"of at most 15,000 connections (server and load), the kernel tuned for it; a server stops at the\n"+
			"first limit it meets (descriptors, threads, memory), which is recorded")
		models = fs.String("models", "", "comma-separated `servers`: models ("+strings.Join(registry.Names(registry.OfKind(results.KindModel)), ", ")+
			") and peers ("+strings.Join(registry.Names(registry.OfKind(results.KindPeer)), ", ")+"); default: every model and every installed peer")
		scenarios = fs.String("scenarios", "", "comma-separated `scenarios` ("+strings.Join(scenario.Names, ", ")+"); default: all of the grid's")
	)
	fs.StringVar(&opt.OutDir, "out", "", "results `directory` to create; default results/run-YYYYMMDD-HHMMSS")
	fs.IntVar(&opt.Repeats, "repeats", 0, "repeats per level; default 1, or 3 with -full")
	fs.StringVar(&opt.ServerCPUs, "server-cpus", "0", "CPU `list` servers are pinned to (before exec: every thread inherits it)")
	fs.StringVar(&opt.LoadCPUs, "load-cpus", "1", "CPU `list` the load generator is pinned to")
	fs.StringVar(&opt.BackendCPUs, "backend-cpus", "", "CPU `list` the proxy scenarios' backend is pinned to; default: CPUs neither\n"+
		"servers nor load use, if any, else -load-cpus")
	fs.StringVar(&opt.ScriptsDir, "scripts", "", "`directory` with the peers' configuration templates; default: scripts/ of this checkout")
	fs.DurationVar(&opt.Period, "sample", 250*time.Millisecond, "sampling `period` of /proc")
	fs.StringVar(&opt.ServerHost, "server-host", "", "`host` the servers (and the proxy backend) run on: local, netns:NAME (a network\n"+
		"namespace here) or ssh://[user@]host[:port] (OpenSSH, key auth; c10k is copied there and\n"+
		"samples the server's /proc there); they listen on its address. Default: this machine")
	loadHosts := fs.String("load-hosts", "", "comma-separated `hosts` the load comes from, as -server-host; the load is split\n"+
		"between them (one process each at least) and merged. Default: this machine")
	fs.StringVar(&opt.SSHConfig, "ssh-config", "", "ssh_config `file` for the ssh:// hosts (ssh -F); default: the user's own")
	fs.BoolVar(&opt.DryRun, "plan", false, "print the plan (levels, skips, warnings, estimated time) and exit")
	if status, ok := parseFlags(fs, args); !ok {
		return opt, status, false
	}
	if err := checkBenchFlags(fs, *full, *smoke, *scale, &opt); err != nil {
		fmt.Fprintf(stderr, "c10k bench: %v\n", err)
		return opt, 2, false
	}
	opt.Grid = scenario.Quick
	switch {
	case *full:
		opt.Grid = scenario.Full
	case *smoke:
		opt.Grid = scenario.Smoke
	case *scale:
		opt.Grid = scenario.ScaleGrid
	}
	opt.Scenarios = *scenarios
	for _, h := range strings.Split(*loadHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			opt.LoadHosts = append(opt.LoadHosts, h)
		}
	}
	if *models != "" {
		for _, m := range strings.Split(*models, ",") {
			opt.Servers = append(opt.Servers, strings.TrimSpace(m))
		}
	} else if *smoke {
		opt.Servers = registry.Names(registry.OfKind(results.KindModel))
	}
	return opt, 0, true
}

// locateBench fills in what the run needs beyond its flags: the binary
// that runs servers and load (this one), its version, the peers'
// templates and a fresh results directory when none was named.
func locateBench(opt *harness.Options) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the c10k binary: %w", err)
	}
	opt.Binary = exe
	opt.Version = version
	if opt.ScriptsDir == "" {
		opt.ScriptsDir = findScripts(exe)
	}
	if opt.OutDir == "" {
		opt.OutDir = filepath.Join("results", "run-"+time.Now().Format("20060102-150405"))
	}
	return nil
}

// printBenchPlan is -plan: the plan, and nothing run.
func printBenchPlan(opt harness.Options, stdout, stderr io.Writer) int {
	run, err := harness.Run(context.Background(), opt)
	if err != nil {
		fmt.Fprintf(stderr, "c10k bench: %v\n", err)
		return 1
	}
	printPlan(stdout, run)
	return 0
}

// replacePreviousRun removes a run already in dir. `make bench` writes to
// the same directory every time: the previous run there is replaced,
// never mixed with the new one.
func replacePreviousRun(dir string, stderr io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, results.RunFile)); err != nil {
		return nil
	}
	var old results.Run
	_ = results.ReadJSON(filepath.Join(dir, results.RunFile), &old) // unreadable: replaced all the same
	switch {
	case old.Orphaned():
		fmt.Fprintf(stderr, "c10k bench: replacing the previous run in %s (interrupted: its harness, pid %d, died without finishing)\n", dir, old.HarnessPID)
	case old.Status == results.StatusRunning && old.HarnessPID > 0 && old.HarnessPID != os.Getpid():
		return fmt.Errorf("%s is being written by another bench (pid %d); choose another -out", dir, old.HarnessPID)
	default:
		fmt.Fprintf(stderr, "c10k bench: replacing the previous run in %s\n", dir)
	}
	return results.Remove(dir)
}

// executeBench runs the plan, reporting progress on stderr, until it is
// done or a signal stops it; every child process is stopped on return.
func executeBench(opt harness.Options, stderr io.Writer) (results.Run, error) {
	opt.Progress = stderr
	if f, ok := stderr.(*os.File); ok {
		_, terr := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		opt.Terminal = terr == nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	defer proc.StopAll(time.Second)
	return harness.Run(ctx, opt)
}

// reportBench says where the run went and how it ended, and returns the
// exit status: 0 complete, 1 error, benchInterrupted after a signal.
func reportBench(stdout, stderr io.Writer, dir string, run results.Run, err error) int {
	if err != nil && !errors.Is(err, harness.ErrInterrupted) {
		fmt.Fprintf(stderr, "c10k bench: %v\n", err)
	}
	fmt.Fprintf(stdout, "%s: %s, %d of %d level runs, %d failures, %d skipped, %.0f s\n",
		dir, run.Status, run.Done, run.Planned, run.Failures, len(run.Skipped), run.WallTimeS)
	switch {
	case errors.Is(err, harness.ErrInterrupted):
		return benchInterrupted
	case err != nil:
		return 1
	}
	return 0
}

func checkBenchFlags(fs *flag.FlagSet, full, smoke, scale bool, opt *harness.Options) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if n := btoi(full) + btoi(smoke) + btoi(scale); n > 1 {
		return errors.New("-full, -smoke and -scale exclude each other")
	}
	if opt.Repeats < 0 {
		return fmt.Errorf("-repeats %d: must not be negative", opt.Repeats)
	}
	if opt.Period < 10*time.Millisecond {
		return fmt.Errorf("-sample %v: at least 10ms", opt.Period)
	}
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		return fmt.Errorf("reading CPU affinity: %w", err)
	}
	for _, f := range []struct{ name, list string }{{"-server-cpus", opt.ServerCPUs}, {"-load-cpus", opt.LoadCPUs}, {"-backend-cpus", opt.BackendCPUs}} {
		if f.list == "" {
			continue
		}
		set, err := proc.ParseCPUList(f.list)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		for c := 0; c < len(set)*64; c++ {
			if set.IsSet(c) && !mine.IsSet(c) {
				return fmt.Errorf("%s %s: CPU %d is not available (allowed: %s)", f.name, f.list, c, proc.FormatCPUList(mine))
			}
		}
	}
	return nil
}

// findScripts looks for the peers' templates in scripts/ of the current
// directory or its parents, then beside the binary (bin/../scripts).
func findScripts(exe string) string {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, "scripts"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	dirs = append(dirs, filepath.Join(filepath.Dir(filepath.Dir(exe)), "scripts"))
	nginx, _ := registry.Lookup(registry.Nginx)
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, nginx.Peer.Template)); err == nil {
			return d
		}
	}
	return "scripts"
}

// printPlan says what a run would do.
func printPlan(w io.Writer, run results.Run) {
	for _, sc := range run.Config.Scenarios {
		fmt.Fprintf(w, "%-12s levels %v, %.1f s + %.1f s warm-up each\n", sc.Name, sc.Levels, sc.DurationS, sc.WarmupS)
	}
	for _, so := range run.SitOuts {
		fmt.Fprintf(w, "sits out: %s %s: %s\n", so.Server, so.Scenario, so.Reason)
	}
	if slices.ContainsFunc(run.Config.Scenarios, func(sc results.ScenarioConfig) bool { return sc.BackendWaitMS > 0 }) {
		fmt.Fprintf(w, "backend of the proxy scenarios on CPUs %s\n", run.Config.BackendCPUs)
	}
	fmt.Fprintf(w, "servers: %s\n", strings.Join(run.Config.Servers, ", "))
	for _, wn := range run.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	for _, sk := range run.Skipped {
		fmt.Fprintf(w, "skip: %s %s %d: %s\n", sk.Scenario, sk.Server, sk.Level, sk.Reason)
	}
	fmt.Fprintf(w, "%d level runs x %d repeat(s) planned, about %s\n", run.Planned/max(run.Config.Repeats, 1), run.Config.Repeats,
		(time.Duration(run.EstimateS) * time.Second).Round(time.Second))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
