package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"c10k/harness/proc"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

// tinyGrid is a concurrency scenario at the given levels, d seconds each.
func tinyGrid(d float64, levels ...int) []results.ScenarioConfig {
	c := scenario.Describe(scenario.Concurrency)
	c.Levels, c.DurationS, c.WarmupS = levels, d, 0.1
	return []results.ScenarioConfig{c}
}

// cpuLists pins servers and load to different CPUs when there are two.
func cpuLists() (string, string) {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return "", ""
	}
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		return strconv.Itoa(cpus[0]), strconv.Itoa(cpus[0])
	}
	return strconv.Itoa(cpus[0]), strconv.Itoa(cpus[1])
}

func testOptions(out string, grid []results.ScenarioConfig) Options {
	srv, load := cpuLists()
	return Options{Binary: os.Args[0], OutDir: out, Grid: "test", Custom: grid, Servers: []string{"thread"},
		ServerCPUs: srv, LoadCPUs: load, Version: "test", Period: 100 * time.Millisecond}
}

// alive reports whether pid runs (a zombie has finished).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// checkRunDir decodes every file of a run directory and finds no
// temporary file left behind.
func checkRunDir(t *testing.T, dir string) (results.Run, []results.Scenario) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", path)
		}
		if strings.HasSuffix(path, ".json") {
			var v any
			b, _ := os.ReadFile(path)
			if json.Unmarshal(b, &v) != nil {
				t.Errorf("%s does not decode", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run, scs, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return run, scs
}

func TestRunRecordsACrashAndGoesOn(t *testing.T) {
	pidDir := t.TempDir()
	t.Setenv(fakeDirEnv, pidDir)
	t.Setenv(crashEnv, "50")
	out := filepath.Join(t.TempDir(), "run")
	opt := testOptions(out, tinyGrid(0.5, 10, 100, 20))
	opt.Servers = []string{"thread", "goroutine"}
	run, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.StatusComplete || run.Done != 6 || run.Failures != 1 {
		t.Errorf("status %s, done %d of %d, failures %d; want complete, 6, 1", run.Status, run.Done, run.Planned, run.Failures)
	}
	got, scs := checkRunDir(t, out)
	if got.Status != results.StatusComplete || len(scs) != 2 {
		t.Fatalf("run.json %s with %d scenario files", got.Status, len(scs))
	}
	for _, sc := range scs {
		wantLevels := map[string][]int{"thread": {10, 20}, "goroutine": {10, 100, 20}}[sc.Server]
		var levels []int
		for _, lv := range sc.Levels {
			levels = append(levels, lv.Level)
			m := lv.Repeats[0]
			if m.Load.Requests == 0 || m.ServerCPUUtil < 0 || len(m.Samples) < 2 || m.Point.Threads == 0 {
				t.Errorf("%s level %d: implausible measurement: requests %d, %d samples", sc.Server, lv.Level, m.Load.Requests, len(m.Samples))
			}
			if m.ServerConns < lv.Level {
				t.Errorf("%s level %d: server_conns %d", sc.Server, lv.Level, m.ServerConns)
			}
			if _, err := os.Stat(filepath.Join(out, m.HgrmFile)); m.HgrmFile == "" || err != nil {
				t.Errorf("%s level %d: hgrm file %q: %v", sc.Server, lv.Level, m.HgrmFile, err)
			}
		}
		if !equalInts(levels, wantLevels) || !sc.Complete {
			t.Errorf("%s: levels %v complete %v, want %v complete", sc.Server, levels, sc.Complete, wantLevels)
		}
		if sc.Server != "thread" {
			continue
		}
		if len(sc.Failures) != 1 {
			t.Fatalf("thread failures: %+v", sc.Failures)
		}
		f := sc.Failures[0]
		if f.Level != 100 || f.Kind != results.FailureCrash || f.Exit != "exit status 2" ||
			!strings.Contains(strings.Join(f.Stderr, "\n"), "thread limit") {
			t.Errorf("failure %+v", f)
		}
		csv, err := os.ReadFile(filepath.Join(out, sc.CSVFile))
		if err != nil || !strings.Contains(string(csv), ",failed,") {
			t.Errorf("CSV lacks the failure row: %v\n%s", err, csv)
		}
	}
	for _, pid := range fakePIDs(pidDir) {
		if alive(pid) {
			t.Errorf("pid %d still running", pid)
		}
	}
}

// TestRunProxiesThroughABackend runs a proxy scenario end to end: each
// level starts a backend before the server, the server is told its
// address, the backend is sampled apart and stopped after the level, and
// the figures are what a 10 ms backend allows.
func TestRunProxiesThroughABackend(t *testing.T) {
	pidDir := t.TempDir()
	t.Setenv(fakeDirEnv, pidDir)
	out := filepath.Join(t.TempDir(), "run")
	proxy := scenario.Describe(scenario.Proxy)
	gather := scenario.Describe(scenario.Gather)
	proxy.Levels, proxy.DurationS, proxy.WarmupS = []int{5, 20}, 1, 0.3
	gather.Levels, gather.DurationS, gather.WarmupS, gather.Connections = []int{1, 3}, 1, 0.3, 5
	opt := testOptions(out, []results.ScenarioConfig{proxy, gather})
	run, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.StatusComplete || run.Done != 4 || run.Failures != 0 {
		t.Fatalf("status %s, done %d of %d, failures %d; want complete, 4, 0", run.Status, run.Done, run.Planned, run.Failures)
	}
	got, scs := checkRunDir(t, out)
	if got.Config.BackendCPUs == "" {
		t.Error("run.json does not say where the backend ran")
	}
	for _, sc := range scs {
		if !strings.Contains(strings.Join(sc.BackendCommand, " "), "-wait 10ms") || sc.BackendCPUs != got.Config.BackendCPUs {
			t.Errorf("%s: backend command %q on %q", sc.Scenario, sc.BackendCommand, sc.BackendCPUs)
		}
		if !strings.Contains(strings.Join(sc.Command, " "), "-upstream 127.0.0.1:") {
			t.Errorf("%s: server command %q has no -upstream", sc.Scenario, sc.Command)
		}
		for _, lv := range sc.Levels {
			m := lv.Repeats[0]
			conns := scenario.Conns(sc.Config, lv.Level)
			k := scenario.Fanout(sc.Config, lv.Level)
			// Closed loop over a 10 ms backend called k times one after
			// another: at most conns / (k x 10 ms) requests a second. No
			// lower bound beyond some: the machine may be busy.
			ceiling := float64(conns) / (float64(k) * 0.010)
			if m.Load.RPS <= 0 || m.Load.RPS > 1.1*ceiling {
				t.Errorf("%s level %d: %.0f req/s, want up to %.0f", sc.Scenario, lv.Level, m.Load.RPS, ceiling)
			}
			b := m.Backend
			if b == nil {
				t.Errorf("%s level %d: no backend figures", sc.Scenario, lv.Level)
				continue
			}
			// The most upstream connections the backend saw: on a busy
			// machine the point may catch the fakes still connecting.
			// -1 throughout: the kernel was not asked (sock_diag failed).
			most := -1
			for _, s := range b.Samples {
				most = max(most, s.ServerConns)
			}
			if most == 0 || most > conns || len(b.Samples) < 2 || b.Point.Threads == 0 || b.WaitMS != 10 {
				t.Errorf("%s level %d: implausible backend: up to %d conns, %d samples, %d threads", sc.Scenario, lv.Level, most, len(b.Samples), b.Point.Threads)
			}
			// The server holds the client's connection and its upstream
			// one: about two descriptors per in-flight request.
			if fds := m.PerConn.FDs; m.PerConn.Conns == conns && (fds < 1.5 || fds > 2.5) {
				t.Errorf("%s level %d: %.2f fds per in-flight request, want about 2", sc.Scenario, lv.Level, fds)
			}
		}
	}
	if names := fakePIDs(pidDir); len(names) != 3*4 {
		t.Errorf("%d processes started, want a backend, a server and a load generator for each of 4 levels", len(names))
	}
	for _, pid := range fakePIDs(pidDir) {
		if alive(pid) {
			t.Errorf("pid %d still running", pid)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInterruptLeavesNothingBehind(t *testing.T) {
	pidDir := t.TempDir()
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeDirEnv+"="+pidDir, benchEnv+"="+out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Interrupt in the middle of the second level: its load generator runs.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for countPrefix(pidDir, "load-") < 2 {
		select {
		case err := <-exited:
			t.Fatalf("the fake bench exited early (%v); stderr:\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fake bench never reached its second level; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit: %v, want status 130; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("harness did not exit 30 s after SIGINT")
	}
	for _, pid := range fakePIDs(pidDir) {
		if alive(pid) {
			t.Errorf("pid %d left running after the harness exited", pid)
		}
	}
	run, scs := checkRunDir(t, out)
	if run.Status != results.StatusIncomplete || !strings.Contains(run.Error, "interrupted") {
		t.Errorf("run.json status %q error %q, want incomplete and interrupted", run.Status, run.Error)
	}
	if len(scs) != 1 || scs[0].Complete || len(scs[0].Levels) < 1 {
		t.Fatalf("scenario files: %+v", scs)
	}
	if run.Done < 1 || run.Done >= run.Planned {
		t.Errorf("done %d of %d", run.Done, run.Planned)
	}
}

func countPrefix(dir, prefix string) int {
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			n++
		}
	}
	return n
}

func TestRunStopsALevelOverItsBudget(t *testing.T) {
	pidDir := t.TempDir()
	t.Setenv(fakeDirEnv, pidDir)
	t.Setenv(hangEnv, "1")
	out := filepath.Join(t.TempDir(), "run")
	opt := testOptions(out, tinyGrid(0.2, 5))
	opt.LevelBudget = 1500 * time.Millisecond
	start := time.Now()
	run, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	_, scs := checkRunDir(t, out)
	if run.Status != results.StatusComplete || len(scs) != 1 || len(scs[0].Failures) != 1 {
		t.Fatalf("status %s, files %d", run.Status, len(scs))
	}
	if f := scs[0].Failures[0]; f.Kind != results.FailureBudget || f.ElapsedS < 1.4 || !strings.Contains(f.Reason, "1.5 s") {
		t.Errorf("failure %+v", f)
	}
	for _, pid := range fakePIDs(pidDir) {
		if alive(pid) {
			t.Errorf("pid %d still running", pid)
		}
	}
}

// Each way a level can fail before it measures anything is recorded with
// its kind and the last words of the processes involved, and the run goes
// on.
func TestRunRecordsEachFailureKind(t *testing.T) {
	tests := []struct {
		fail       string
		kind       string
		exit       string
		stderr     string // in the server's last words
		loadStderr string // in the load generator's
	}{
		{"start", results.FailureStart, "exit status 3", "bind: permission denied", ""},
		{"load", results.FailureLoad, "exit status 0", "", "out of memory"},
		{"refused", results.FailureRefused, "exit status 0", "", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.fail, func(t *testing.T) {
			t.Setenv(fakeDirEnv, t.TempDir())
			t.Setenv(failEnv, tt.fail)
			out := filepath.Join(t.TempDir(), "run")
			run, err := Run(context.Background(), testOptions(out, tinyGrid(0.2, 5)))
			if err != nil {
				t.Fatal(err)
			}
			_, scs := checkRunDir(t, out)
			if run.Status != results.StatusComplete || run.Failures != 1 || len(scs) != 1 || len(scs[0].Failures) != 1 {
				t.Fatalf("status %s, failures %d, %d files", run.Status, run.Failures, len(scs))
			}
			f := scs[0].Failures[0]
			if f.Kind != tt.kind || f.Level != 5 || f.Exit != tt.exit || f.ElapsedS <= 0 {
				t.Errorf("failure %+v, want kind %s exit %q", f, tt.kind, tt.exit)
			}
			if !strings.Contains(strings.Join(f.Stderr, "\n"), tt.stderr) {
				t.Errorf("server stderr %q lacks %q", f.Stderr, tt.stderr)
			}
			if !strings.Contains(strings.Join(f.Load, "\n"), tt.loadStderr) {
				t.Errorf("load stderr %q lacks %q", f.Load, tt.loadStderr)
			}
			if len(scs[0].Levels) != 0 {
				t.Errorf("a failed level was measured: %+v", scs[0].Levels)
			}
		})
	}
}

func TestScratchOfADeadHarnessIsRemoved(t *testing.T) {
	tmp := t.TempDir()
	self, err := proc.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("%s%d-%d-123", scratchPrefix, 1<<30, 1)
	alive := fmt.Sprintf("%s%d-%d-456", scratchPrefix, os.Getpid(), self)
	other := "c10k-something-else"
	for _, d := range []string{dead, alive, other} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleScratch(tmp)
	for _, tt := range []struct {
		name string
		want bool
	}{{dead, false}, {alive, true}, {other, true}} {
		_, err := os.Stat(filepath.Join(tmp, tt.name))
		if got := err == nil; got != tt.want {
			t.Errorf("%s: present %v, want %v", tt.name, got, tt.want)
		}
	}
}
