package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

// benchTestEnv turns the test binary into the c10k binary, as
// serve_test.go does: `c10k bench` run from it starts its servers and load
// generator from os.Executable(), which is then this same binary, with the
// variable inherited. The end-to-end test thus runs the real serve, load
// and bench code in separate processes without a go build, and without a
// TestMain, of which a package may have only one.
const benchTestEnv = "C10K_BENCH_TEST_AS_MAIN"

func init() {
	if os.Getenv(benchTestEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// Over ssh no environment arrives: the harness copies this binary to
	// the host and runs `BINARY agent ...` there, which no test run looks
	// like. The agent's children are this binary again: they inherit the
	// variable.
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		os.Setenv(benchTestEnv, "1")
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// checkProxyLevel checks that a proxy level at C=10 in front of a 10 ms
// backend measured what such a level can: at most C / 10 ms requests a
// second, no answer faster than the backend's wait, the backend sampled
// apart with the server's upstream connections, and two descriptors per
// in-flight request (the client's socket and the upstream one).
func checkProxyLevel(t *testing.T, name, server string, m results.Measurement) {
	t.Helper()
	const conns, waitUS = 10, 10000
	if ceiling := float64(conns) * 1e6 / waitUS; m.Load.RPS > 1.1*ceiling || m.Load.RPS < 0.1*ceiling {
		t.Errorf("%s: %.0f req/s, want up to C / wait = %.0f", name, m.Load.RPS, ceiling)
	}
	if m.Load.Latency.P50 < waitUS {
		t.Errorf("%s: p50 %.0f us, faster than the backend's %d us wait", name, m.Load.Latency.P50, waitUS)
	}
	b := m.Backend
	if b == nil {
		t.Fatalf("%s: no backend figures", name)
	}
	if b.Conns < 1 || b.Conns > 2*conns || len(b.Samples) < 4 || b.Point.Threads == 0 || b.CPUUtil <= 0 {
		t.Errorf("%s: implausible backend: %d conns, %d samples, %d threads, %.3f cores", name, b.Conns, len(b.Samples), b.Point.Threads, b.CPUUtil)
	}
	if fds := m.PerConn.FDs; fds < 1.5 || fds > 3 {
		t.Errorf("%s: %.2f descriptors per in-flight request, want about 2", name, fds)
	}
	if th := m.PerConn.Threads; (server == "thread") != (th >= 0.5) {
		t.Errorf("%s: %.2f threads per in-flight request", name, th)
	}
}

// runnableModels counts the registry's models that can run on this
// machine (io_uring may be disabled here).
func runnableModels() int {
	n := 0
	for _, e := range registry.OfKind(results.KindModel) {
		if e.Available == nil || e.Available() == nil {
			n++
		}
	}
	return n
}

// TestBenchSmokeEndToEnd runs the smoke grid (idle with 200 connections,
// concurrency 10 and proxy 10 through a real 10 ms backend, 2 s each)
// against every real model that can run here, decodes what it wrote and
// draws it.
func TestBenchSmokeEndToEnd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "bench", "-smoke", "-out", out)
	cmd.Env = append(os.Environ(), benchTestEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("c10k bench -smoke: %v\n%s", err, stderr.String())
	}
	t.Logf("smoke run took %v", time.Since(start).Round(time.Second))
	run, scs, err := results.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	models := runnableModels()
	if run.Status != results.StatusComplete || run.Failures != 0 || run.Done != 3*models {
		t.Errorf("run: status %s, %d failures, %d done; stderr:\n%s", run.Status, run.Failures, run.Done, stderr.String())
	}
	if run.Env.Kernel == "" || run.Env.NoFileHard == 0 || run.Env.PidMax == 0 || run.Env.Somaxconn == 0 {
		t.Errorf("environment not recorded: %+v", run.Env)
	}
	if len(scs) != 3*models {
		t.Fatalf("%d scenario files, want %d (idle, concurrency and proxy x %d models)", len(scs), 3*models, models)
	}
	if run.Config.BackendCPUs == "" {
		t.Error("run.json does not say where the backend ran")
	}
	for _, sc := range scs {
		name := sc.Scenario + "-" + sc.Server
		if !sc.Complete || len(sc.Failures) > 0 || len(sc.Levels) != 1 || len(sc.Levels[0].Repeats) != 1 {
			t.Errorf("%s: complete %v, failures %+v, %d levels", name, sc.Complete, sc.Failures, len(sc.Levels))
			continue
		}
		lv := sc.Levels[0]
		m := lv.Repeats[0]
		if m.Load.Requests == 0 || m.Load.RPS <= 0 || m.Load.Latency.P99 <= 0 || lv.Summary.RPS.N != 1 {
			t.Errorf("%s: no load measured: %+v", name, m.Load)
		}
		if len(m.Samples) < 4 || m.Point.Threads == 0 || m.Point.PSS == 0 || m.ServerCPUUtil <= 0 {
			t.Errorf("%s: implausible samples: %d samples, point %+v, cpu %v", name, len(m.Samples), m.Point, m.ServerCPUUtil)
		}
		if _, err := os.Stat(filepath.Join(out, m.HgrmFile)); err != nil {
			t.Errorf("%s: hgrm: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(out, sc.CSVFile)); err != nil {
			t.Errorf("%s: csv: %v", name, err)
		}
		if sc.Scenario == "proxy" {
			checkProxyLevel(t, name, sc.Server, m)
		}
		if sc.Scenario != "idle" {
			continue
		}
		// 200 idle + 4 probe connections, as the kernel counts them.
		if m.ServerConns < 200 || m.Load.IdleAlive != 200 {
			t.Errorf("%s: server_conns %d idle_alive %d, want >= 200 and 200", name, m.ServerConns, m.Load.IdleAlive)
		}
		threads := m.PerConn.Threads
		switch sc.Server {
		case "thread":
			if threads < 0.8 || threads > 1.2 {
				t.Errorf("thread model: %.2f threads per connection, want about 1", threads)
			}
		default:
			if threads > 0.1 {
				t.Errorf("%s: %.2f threads per connection, want about 0", sc.Server, threads)
			}
		}
	}
	// The proxy figures draw from the real run.
	var perr bytes.Buffer
	if code := runCommand([]string{"plot", "-in", out}, io.Discard, &perr); code != 0 {
		t.Fatalf("c10k plot: exit %d\n%s", code, perr.String())
	}
	for _, fig := range []string{"13-proxy", "15-proxy-resources"} {
		if fi, err := os.Stat(filepath.Join(out, "plots", fig+".png")); err != nil || fi.Size() < 10000 {
			t.Errorf("%s: %v", fig, err)
		}
	}
}

func TestBenchFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     int
		inStderr string
	}{
		{name: "happy help ends with examples", args: []string{"-h"}, want: 0, inStderr: "Examples:"},
		{name: "sad full and smoke", args: []string{"-full", "-smoke"}, want: 2, inStderr: "exclude"},
		{name: "sad CPU not available", args: []string{"-server-cpus", "4095"}, want: 2, inStderr: "-server-cpus"},
		{name: "sad bad CPU list", args: []string{"-load-cpus", "x"}, want: 2, inStderr: "-load-cpus"},
		{name: "sad unknown server", args: []string{"-models", "lighttpd", "-out", "/nonexistent/x"}, want: 1, inStderr: "unknown server"},
		{name: "sad unknown scenario", args: []string{"-scenarios", "bogus", "-out", "/nonexistent/x"}, want: 1, inStderr: "bogus"},
		{name: "sad stray argument", args: []string{"now"}, want: 2, inStderr: "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := runBench(tc.args, &stdout, &stderr)
			if got != tc.want || !strings.Contains(stderr.String(), tc.inStderr) {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, tc.want, stderr.String())
			}
		})
	}
}

func TestBenchPlanStartsNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	if got := runBench([]string{"-plan", "-models", "thread,epoll", "-out", out}, &stdout, &stderr); got != 0 {
		t.Fatalf("exit %d: %s", got, stderr.String())
	}
	quick, err := scenario.Grid(scenario.Quick)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"idle", fmt.Sprintf("levels %v", quick[0].Levels), "servers: thread, epoll", " level runs x 1 repeat(s) planned"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout.String())
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("-plan created %s", out)
	}
}

func TestBenchReplacesAPreviousRun(t *testing.T) {
	dir := t.TempDir()
	if err := results.WriteJSON(filepath.Join(dir, results.RunFile), results.Run{ID: "old"}); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteJSON(filepath.Join(dir, "idle-old.json"), results.Scenario{}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	// An unknown server stops the run right after the old one is cleared.
	if got := runBench([]string{"-out", dir, "-models", "lighttpd"}, &stdout, &stderr); got != 1 || !strings.Contains(stderr.String(), "replacing") {
		t.Errorf("exit %d: %s", got, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "idle-old.json")); !os.IsNotExist(err) {
		t.Errorf("old scenario file still there: %v", err)
	}
}

// runCommand is the command-line entry point, for tests whose local
// names shadow run.
func runCommand(args []string, stdout, stderr io.Writer) int { return run(args, stdout, stderr) }
