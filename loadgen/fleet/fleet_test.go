package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"c10k/loadgen"
)

// childEnv turns the test binary into a load process: Argv (testArgv) runs
// it with a mode, the options as JSON and the two output paths, as c10k
// load runs itself with its flags.
const childEnv = "C10K_FLEET_TEST_CHILD"

func init() {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child(os.Args[1:]))
	}
}

// child runs one load process in mode "run", or fails the way the mode
// says: "die" (SIGKILL after a word on stderr), "usage" (exit 2).
func child(args []string) int {
	mode, js, jsonPath, hlogPath := args[0], args[1], args[2], args[3]
	switch mode {
	case "die":
		fmt.Fprintln(os.Stderr, "about to die")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "usage":
		fmt.Fprintln(os.Stderr, "c10k load: loadgen: cannot resolve host")
		return 2
	}
	var o loadgen.Options
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o.Gate = Gate(os.Stdin, os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	r, err := loadgen.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for path, write := range map[string]func(w *os.File) error{
		jsonPath: func(w *os.File) error { return r.WriteJSON(w) },
		hlogPath: func(w *os.File) error { return r.WriteIntervalLog(w) },
	} {
		f, err := os.Create(path)
		if err == nil {
			err = errors.Join(write(f), f.Close())
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if !r.Complete {
		return 1
	}
	return 0
}

// testArgv runs the i-th process (from 1) in modes[i], "run" when absent.
func testArgv(t *testing.T, modes map[int]string) func(o loadgen.Options, jsonPath, hlogPath string) []string {
	t.Setenv(childEnv, "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	return func(o loadgen.Options, jsonPath, hlogPath string) []string {
		n++
		mode := modes[n]
		if mode == "" {
			mode = "run"
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return []string{exe, mode, string(b), jsonPath, hlogPath}
	}
}

// sourceServer answers every request and counts the connections it
// accepted from each client address.
type sourceServer struct {
	*httptest.Server
	mu    sync.Mutex
	conns map[string]int
}

func startSourceServer(t *testing.T) *sourceServer {
	s := &sourceServer{conns: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Hello, world!\n")
	}))
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns[c.RemoteAddr().(*net.TCPAddr).IP.String()]++
			s.mu.Unlock()
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// Three processes share -c 7 -idle 5 as 3+2, 2+2 and 2+1 connections,
// each from its own source address; the merged result adds theirs up and
// its histograms hold every request.
func TestRunSplitsAndMerges(t *testing.T) {
	s := startSourceServer(t)
	o := loadgen.Options{URL: s.URL + "/", Connections: 7, Idle: 5, Duration: 500 * time.Millisecond, IntervalLog: true}
	r, err := Run(context.Background(), Config{Procs: 3, Options: o, Argv: testArgv(t, nil), CPUs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Message != "" || len(r.Procs) != 3 {
		t.Fatalf("complete %v, message %q, %d processes: want a complete run of 3", r.Complete, r.Message, len(r.Procs))
	}
	var requests int64
	idleAlive := 0
	for i, want := range []struct{ c, idle int }{{3, 2}, {2, 2}, {2, 1}} {
		p := r.Procs[i]
		if p.Connections != want.c || p.IdleRequested != want.idle || p.Requests == 0 || p.FirstSource != i || p.Sources != 1 {
			t.Errorf("process %d: -c %d -idle %d, %d requests, sources %d from %d; want -c %d -idle %d, requests, 1 source from %d",
				i+1, p.Connections, p.IdleRequested, p.Requests, p.Sources, p.FirstSource, want.c, want.idle, i)
		}
		requests += p.Requests
		idleAlive += p.IdleAlive
	}
	if r.Requests != requests || r.Connections != 7 || r.IdleRequested != 5 || r.IdleAlive != idleAlive || idleAlive != 5 {
		t.Fatalf("merged: %d requests, -c %d, -idle %d, %d idle alive; processes: %d requests, %d idle alive",
			r.Requests, r.Connections, r.IdleRequested, r.IdleAlive, requests, idleAlive)
	}
	var log bytes.Buffer
	if err := r.WriteIntervalLog(&log); err != nil {
		t.Fatal(err)
	}
	var logged int64
	lr := hdrhistogram.NewHistogramLogReader(&log)
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		logged += h.TotalCount()
	}
	if logged != requests {
		t.Fatalf("the merged interval log holds %d latencies, the processes made %d requests", logged, requests)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ip, want := range map[string]int{"127.0.0.1": 5, "127.0.0.2": 4, "127.0.0.3": 3} {
		if s.conns[ip] != want {
			t.Errorf("server saw connections from %v, want %d from %s (each process from its own address)", s.conns, want, ip)
		}
	}
}

// A process that dies leaves its place with the reason and its last words;
// the others are merged and the whole is marked partial.
func TestRunReportsADeadProcess(t *testing.T) {
	s := startSourceServer(t)
	o := loadgen.Options{URL: s.URL + "/", Connections: 3, Duration: 300 * time.Millisecond}
	r, err := Run(context.Background(), Config{Procs: 3, Options: o, Argv: testArgv(t, map[int]string{2: "die"}), CPUs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Procs) != 3 {
		t.Fatalf("complete %v with %d processes, want incomplete with 3", r.Complete, len(r.Procs))
	}
	dead := r.Procs[1]
	for _, want := range []string{"load process 2 of 3", "signal: killed", "about to die"} {
		if !strings.Contains(r.Message, want) || !strings.Contains(dead.Message, want) {
			t.Errorf("messages lack %q:\nmerged: %s\nprocess 2: %s", want, r.Message, dead.Message)
		}
	}
	if !strings.Contains(r.Message, "results are partial: 2 of 3") {
		t.Errorf("merged message %q does not say the results are partial", r.Message)
	}
	if dead.Complete || r.Requests != r.Procs[0].Requests+r.Procs[2].Requests || r.Requests == 0 {
		t.Fatalf("requests %d, processes %d + %d + dead %d", r.Requests, r.Procs[0].Requests, r.Procs[2].Requests, dead.Requests)
	}
}

func TestRunStopsOnARefusedOption(t *testing.T) {
	s := startSourceServer(t)
	o := loadgen.Options{URL: s.URL + "/", Connections: 2, Duration: 30 * time.Second}
	start := time.Now()
	_, err := Run(context.Background(), Config{Procs: 2, Options: o, Argv: testArgv(t, map[int]string{1: "usage"}), CPUs: 1})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "cannot resolve host") {
		t.Fatalf("err = %v, want ErrUsage with the process's words", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %v: the other process was not stopped", d)
	}
}

// Cancelled, the processes stop early and still hand in what they
// measured.
func TestRunCancelledHandsInPartialResults(t *testing.T) {
	s := startSourceServer(t)
	o := loadgen.Options{URL: s.URL + "/", Connections: 2, Duration: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	r, err := Run(ctx, Config{Procs: 2, Options: o, Argv: testArgv(t, nil), CPUs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Procs) != 2 || !strings.Contains(r.Message, "stopped early") || r.Requests == 0 {
		t.Fatalf("complete %v, %d processes, %d requests, message %q: want two partial results", r.Complete, len(r.Procs), r.Requests, r.Message)
	}
	for i, p := range r.Procs {
		if p.Requests == 0 || !strings.Contains(p.Message, "stopped early") {
			t.Errorf("process %d: %d requests, message %q", i+1, p.Requests, p.Message)
		}
	}
}

func TestRemoveStaleTakesOnlyDeadRunsDirectories(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dead := os.TempDir() + "/" + dirPrefix + "999999999-1"
	mine := os.TempDir() + "/" + dirPrefix + strconv.Itoa(os.Getppid()) + "-1"
	for _, d := range []string{dead, mine} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removeStale()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("%s of a dead process is still there (%v)", dead, err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("%s of a live process was removed: %v", mine, err)
	}
}
