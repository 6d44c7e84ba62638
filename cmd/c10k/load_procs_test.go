package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"c10k/harness/proc"
	"c10k/loadgen"
	"c10k/loadgen/fleet"
)

// A load process of -procs is started with loadArgs: its flags must ask
// for exactly the options it was given.
func TestLoadArgsParseBackToTheOptions(t *testing.T) {
	tests := []struct {
		name string
		o    loadgen.Options
	}{
		{"happy closed loop with defaults", loadgen.Options{URL: "http://127.0.0.1:8080/", Connections: 3, Duration: time.Second}},
		{"happy everything set", loadgen.Options{URL: "http://[::1]:9000/x?y=1", Method: "HEAD", Connections: 2, Idle: 7,
			Duration: 1500 * time.Millisecond, Warmup: 250 * time.Millisecond, Rate: 1234.5678, Pipeline: 4, ConnectRate: 333.25,
			Timeout: 3 * time.Second, Sources: 2, SourceOffset: 5, Loops: 1, DeadAfter: 700 * time.Millisecond, Spin: 80 * time.Microsecond}},
		{"happy never spin, think", loadgen.Options{URL: "http://127.0.0.1:1/", Connections: 1, Duration: time.Second, Think: time.Millisecond, Spin: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := loadArgs("/bin/c10k", tt.o, "/tmp/p.json", "/tmp/p.hlog")
			if args[0] != "/bin/c10k" || args[1] != "load" {
				t.Fatalf("argv starts %q", args[:2])
			}
			fs, lf := newLoadFlagSet(io.Discard)
			if err := fs.Parse(args[2:]); err != nil {
				t.Fatal(err)
			}
			got := lf.options()
			want := tt.o
			want.IntervalLog = true // -hlog
			if want.Method == "" {
				want.Method = "GET"
			}
			if want.Spin == 0 {
				want.Spin = loadgen.DefaultSpin
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("parsed back\n%+v\nwant\n%+v", got, want)
			}
			if !lf.quiet || !lf.gate || lf.jsonPath != "/tmp/p.json" || lf.hlogPath != "/tmp/p.hlog" || lf.procs != 1 {
				t.Fatalf("quiet %v gate %v json %q hlog %q procs %d", lf.quiet, lf.gate, lf.jsonPath, lf.hlogPath, lf.procs)
			}
			// Every flag but the parent's own is passed on, so that a new
			// flag cannot be forgotten here. The parent's: how many
			// processes and where they run, its own percentile file, and
			// saying it started (once, for all of them).
			parents := map[string]bool{"procs": true, "hgrm": true, "hosts": true, "host-cpus": true, "ssh-config": true, "ssh-control": true,
				"say-started": true}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			fs.VisitAll(func(f *flag.Flag) {
				if !set[f.Name] && !parents[f.Name] {
					t.Errorf("flag -%s is not passed to the load processes", f.Name)
				}
			})
		})
	}
}

// asMain makes the test binary act as c10k for the load processes that
// runLoad starts from os.Executable() (see benchTestEnv).
func asMain(t *testing.T) { t.Setenv(benchTestEnv, "1") }

// logCount reads an interval log with hdrhistogram-go's reader and
// counts the untagged (latency) values.
func logCount(t *testing.T, path string) (intervals int, values int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := hdrhistogram.NewHistogramLogReader(f)
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			return intervals, values
		}
		if h.Tag() == "" {
			intervals++
			values += h.TotalCount()
		}
	}
}

// hgrmCount is the "Total count" of an .hgrm file.
func hgrmCount(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Total count\s*=\s*(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no total count in\n%s", b)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

func TestLoadHlogHoldsTheRequests(t *testing.T) {
	s := helloServer(t)
	dir := t.TempDir()
	jsonPath, hlogPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.hlog")
	var stdout, stderr bytes.Buffer
	code := runLoad([]string{"-url", s.URL + "/", "-c", "2", "-d", "1200ms", "-warmup", "100ms", "-rate", "200", "-loops", "1", "-q",
		"-json", jsonPath, "-hlog", hlogPath}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	var r loadgen.Result
	readJSON(t, jsonPath, &r)
	if n, count := logCount(t, hlogPath); n != 2 || count != r.Requests || r.Requests != 240 {
		t.Fatalf("%d intervals holding %d latencies, want 2 seconds holding the run's %d requests (240)", n, count, r.Requests)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
}

// -procs 3 -c 7 -idle 5: three load processes with 3+2, 2+2 and 2+1
// connections, their results merged, every output file from the merge.
func TestLoadProcsSplitsAndMerges(t *testing.T) {
	asMain(t)
	s := helloServer(t)
	dir := t.TempDir()
	jsonPath, hgrmPath, hlogPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.hgrm"), filepath.Join(dir, "out.hlog")
	var stdout, stderr bytes.Buffer
	code := runLoad([]string{"-url", s.URL + "/", "-procs", "3", "-c", "7", "-idle", "5", "-d", "800ms",
		"-json", jsonPath, "-hgrm", hgrmPath, "-hlog", hlogPath}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "3 processes, ") {
		t.Errorf("summary does not say 3 processes:\n%s", stdout.String())
	}
	var r loadgen.Result
	readJSON(t, jsonPath, &r)
	if len(r.Procs) != 3 || !r.Complete {
		t.Fatalf("%d processes, complete %v (%s): want 3, complete", len(r.Procs), r.Complete, r.Message)
	}
	var requests int64
	alive := 0
	for i, want := range []struct{ c, idle int }{{3, 2}, {2, 2}, {2, 1}} {
		p := r.Procs[i]
		if p.Connections != want.c || p.IdleRequested != want.idle || p.Requests == 0 || p.FirstSource != i {
			t.Errorf("process %d: -c %d -idle %d, %d requests, first source %d; want -c %d -idle %d, requests, source %d",
				i+1, p.Connections, p.IdleRequested, p.Requests, p.FirstSource, want.c, want.idle, i)
		}
		requests += p.Requests
		alive += p.IdleAlive
	}
	if r.Requests != requests || r.Connections != 7 || r.IdleAlive != alive || alive != 5 {
		t.Fatalf("merged %d requests, %d connections, %d idle alive; the processes %d requests, %d idle alive (want 7 connections, 5 alive)",
			r.Requests, r.Connections, r.IdleAlive, requests, alive)
	}
	if n := hgrmCount(t, hgrmPath); n != requests {
		t.Errorf("the -hgrm histogram holds %d latencies, the processes made %d requests", n, requests)
	}
	if _, n := logCount(t, hlogPath); n != requests {
		t.Errorf("the -hlog log holds %d latencies, the processes made %d requests", n, requests)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "c10k-load-"+strconv.Itoa(os.Getpid())+"-*")); len(left) > 0 {
		t.Errorf("private directories left behind: %v", left)
	}
}

// startLoad starts the binary as `c10k load args...` and waits until it
// has want load processes below it.
func startLoad(t *testing.T, want int, args ...string) (*exec.Cmd, *bytes.Buffer, []int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"load"}, args...)...)
	cmd.Env = append(os.Environ(), benchTestEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		stale, _ := filepath.Glob(filepath.Join(os.TempDir(), "c10k-load-"+strconv.Itoa(cmd.Process.Pid)+"-*"))
		for _, d := range stale {
			os.RemoveAll(d)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		tree := descendants(cmd.Process.Pid)
		if len(tree) >= want {
			var pids []int
			for pid := range tree {
				pids = append(pids, pid)
			}
			return cmd, &stderr, pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d load processes under c10k load after 20 s: %v; stderr: %s", want, tree, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A load process killed mid-run: the others finish, and the run exits 1
// saying which process died and how, with a partial merged result.
func TestLoadProcsChildKilledMidRunExitsOne(t *testing.T) {
	s := helloServer(t)
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	cmd, stderr, pids := startLoad(t, 3, "-url", s.URL+"/", "-procs", "3", "-c", "3", "-d", "2s", "-q", "-json", jsonPath)
	time.Sleep(500 * time.Millisecond)
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitIncomplete {
		t.Fatalf("c10k load: %v, want exit %d; stderr: %s", err, exitIncomplete, stderr.String())
	}
	for _, want := range []string{"run incomplete", "failed: signal: killed", "results are partial: 2 of 3"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, stderr.String())
		}
	}
	var r loadgen.Result
	readJSON(t, jsonPath, &r)
	failed := 0
	for _, p := range r.Procs {
		if strings.Contains(p.Message, "signal: killed") {
			failed++
		}
	}
	if r.Complete || len(r.Procs) != 3 || failed != 1 || r.Requests == 0 {
		t.Fatalf("complete %v, %d processes, %d killed, %d requests: want a partial result of 3 with 1 killed", r.Complete, len(r.Procs), failed, r.Requests)
	}
}

// SIGKILL, which no handler sees, to c10k load -procs in the middle of
// the load: its load processes die with it (Pdeathsig). They are past the
// gate and quiet (-q), so nothing else would end them before their 30 s.
func TestLoadProcsDieWithTheirParent(t *testing.T) {
	var requests atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, "Hello, world!\n")
	}))
	t.Cleanup(s.Close)
	cmd, _, pids := startLoad(t, 2, "-url", s.URL+"/", "-procs", "2", "-c", "2", "-d", "30s", "-q")
	for deadline := time.Now().Add(20 * time.Second); requests.Load() < 100; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the load did not start within 20 s")
		}
	}
	starts := map[int]uint64{}
	for _, pid := range pids {
		if st, err := proc.StartTime(pid); err == nil {
			starts[pid] = st
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []int
		for pid, st := range starts {
			if proc.Alive(pid, st) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after their parent's SIGKILL, load processes %v still run", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLoadProcsRejectsBadUsage(t *testing.T) {
	asMain(t) // should a case start load processes after all
	tests := []struct {
		name string
		args []string
	}{
		{"sad no process", []string{"-procs", "0"}},
		{"sad one source each goes past .254", []string{"-procs", "3", "-c", "3", "-sources", "1", "-source-offset", "252"}},
		{"sad host that does not resolve", []string{"-procs", "2", "-c", "2", "-url", "http://no-such-host.invalid:8080/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"-d", "200ms", "-q"}, tt.args...)
			if code := runLoad(args, &stdout, &stderr); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
		})
	}
}

// Result files replace what was there whole, or not at all.
func TestWriteToReplacesWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("disk gone")
	}
	if err := writeTo(path, nil, failing); err == nil {
		t.Fatal("a failed write reported success")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("after a failed write the file holds %q, want the old content", b)
	}
	if err := writeTo(path, nil, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("file holds %q, want new", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %v, want the file alone (no temporary left)", entries)
	}
	if err := writeTo(os.DevNull, nil, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatalf("writing to %s: %v", os.DevNull, err)
	}
}

// c10k bench samples the server when the load says it started: once, as
// the warm-up begins, whether the load runs as one process or several.
func TestLoadSaysStartedOnce(t *testing.T) {
	asMain(t)
	s := helloServer(t)
	for _, procs := range []string{"1", "2"} {
		t.Run("procs "+procs, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runLoad([]string{"-url", s.URL + "/", "-procs", procs, "-c", "2", "-idle", "4", "-d", "200ms", "-q",
				"-say-started"}, &stdout, &stderr)
			if code != exitOK {
				t.Fatalf("exit %d; stderr: %s", code, stderr.String())
			}
			if n := strings.Count(stderr.String(), fleet.Started+"\n"); n != 1 {
				t.Fatalf("%q said %d times, want once; stderr:\n%s", fleet.Started, n, stderr.String())
			}
		})
	}
	var stderr bytes.Buffer
	if code := runLoad([]string{"-url", s.URL + "/", "-c", "1", "-d", "100ms", "-q"}, io.Discard, &stderr); code != exitOK ||
		strings.Contains(stderr.String(), fleet.Started) {
		t.Fatalf("without -say-started: exit %d, stderr %q", code, stderr.String())
	}
}
