package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"c10k/harness/results"
)

// bin is the c10k binary TestMain builds for the sessions to run.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "c10k-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "c10k")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		build := exec.Command(goTool, "build", "-o", bin, "c10k/cmd/c10k")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building c10k for the agent tests: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func TestArgs(t *testing.T) {
	epoch := time.Unix(1700000000, 5)
	tests := []struct {
		name   string
		cpus   string
		period time.Duration
		addr   string
		port   int
		epoch  time.Time
		want   []string
	}{
		{name: "bare", want: []string{"/b/c10k", "agent", "--", "serve", "-model", "epoll"}},
		{name: "everything", cpus: "0-1", period: 250 * time.Millisecond, addr: "198.18.0.10", port: 8080, epoch: epoch,
			want: []string{"/b/c10k", "agent", "-cpus", "0-1", "-sample", "250ms", "-port", "8080", "-addr", "198.18.0.10", "-epoch", "1700000000000000005", "--", "serve", "-model", "epoll"}},
		{name: "port without sampling", port: 1, want: []string{"/b/c10k", "agent", "-port", "1", "--", "serve", "-model", "epoll"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Args("/b/c10k", tc.cpus, tc.period, tc.addr, tc.port, tc.epoch, []string{"serve", "-model", "epoll"})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Args = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLines(t *testing.T) {
	var buf bytes.Buffer
	l := &lines{w: &buf}
	// The child's output arrives in pieces; an agent line in between must
	// not split one of the child's lines.
	l.Write([]byte("one\ntw"))
	l.say("pid %d", 7)
	l.Write([]byte("o\nthr"))
	l.Write([]byte("ee"))
	l.flush()
	l.flush()
	want := "one\n" + Prefix + "pid 7\ntwo\nthree\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestExitCode(t *testing.T) {
	if got := exitCode(nil); got != 1 {
		t.Errorf("exitCode(nil) = %d, want 1", got)
	}
	for _, c := range []struct {
		script string
		want   int
	}{{"exit 0", 0}, {"exit 7", 7}, {"kill -KILL $$", 128 + 9}, {"kill -TERM $$", 128 + 15}} {
		cmd := exec.Command("/bin/sh", "-c", c.script)
		_ = cmd.Run()
		if got := exitCode(cmd.ProcessState); got != c.want {
			t.Errorf("sh -c %q: exitCode = %d, want %d", c.script, got, c.want)
		}
	}
}

func TestMainUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no program", nil, "usage: c10k agent"},
		{"only the separator", []string{"--"}, "usage: c10k agent"},
		{"unknown flag", []string{"-bogus", "--", "/bin/true"}, "flag provided but not defined"},
		{"bad period", []string{"-sample", "often", "--", "/bin/true"}, "invalid value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Main(c.args, strings.NewReader(""), &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
				t.Errorf("Main(%q) = %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
			}
		})
	}
}

func TestMainClock(t *testing.T) {
	var out bytes.Buffer
	before := time.Now().UnixNano()
	if code := Main([]string{"-clock"}, strings.NewReader("a\nb\nc\n"), &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	after := time.Now().UnixNano()
	got := strings.Fields(out.String())
	if len(got) != 3 {
		t.Fatalf("%d answers to 3 lines: %q", len(got), out.String())
	}
	last := before
	for _, s := range got {
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ns < last || ns > after {
			t.Errorf("answer %q: not a time in [%d, %d] after the last", s, last, after)
		}
		last = ns
	}
}

func TestMainEnv(t *testing.T) {
	var out bytes.Buffer
	if code := Main([]string{"-env"}, strings.NewReader(""), &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var env results.Env
	if err := json.Unmarshal(out.Bytes(), &env); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if env.Kernel == "" || env.Cores < 1 || env.MemTotal == 0 {
		t.Errorf("env = %+v: no kernel, cores or memory", env)
	}
}

// mainResult is what one in-process run of Main gave.
type mainResult struct {
	code         int
	stdout, errs string
}

// runMain runs Main with stdin and returns what it did, failing the test if
// it does not return within a bound.
func runMain(t *testing.T, args []string, stdin io.Reader) mainResult {
	t.Helper()
	done := make(chan mainResult, 1)
	go func() {
		var out, errb bytes.Buffer
		code := Main(args, stdin, &out, &errb)
		done <- mainResult{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("Main(%q) still running after 20 s", args)
		return mainResult{}
	}
}

func TestMainRun(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		pid   bool     // a pid line in stdout
		has   []string // in stdout, in order
		errs  string   // in stderr
	}{
		// The child may write before the agent says its PID.
		{name: "happy exit status and output", args: []string{"--", "/bin/sh", "-c", "echo out; printf 'no newline'; exit 7"},
			code: 7, pid: true, has: []string{"out\n", "no newline\n", Prefix + "exit exit status 7\n"}},
		{name: "happy gate opens on go", args: []string{"--", "/bin/cat"}, stdin: "go\n",
			code: 0, pid: true, has: []string{Prefix + "exit exit status 0\n"}},
		// -grace 1m would hold this test for a minute: the stop word's own
		// grace (none) is what counts.
		{name: "happy stop with a grace", args: []string{"-grace", "1m", "--", "/bin/sleep", "30"}, stdin: "sample\nstop 0s\n",
			code: 128 + 9, pid: true, has: []string{Prefix + "take-error not sampling\n", Prefix + "exit killed by signal: killed\n"}},
		{name: "sad no such program", args: []string{"--", "/nonexistent/program"}, code: 1, errs: "c10k agent: proc: starting /nonexistent/program"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runMain(t, tc.args, strings.NewReader(tc.stdin))
			if r.code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tc.code, r.errs)
			}
			if hasPID := regexp.MustCompile(`(?m)^` + Prefix + `pid [1-9][0-9]*$`).MatchString(r.stdout); hasPID != tc.pid {
				t.Errorf("stdout %q: pid line %v, want %v", r.stdout, hasPID, tc.pid)
			}
			rest := r.stdout
			for _, s := range tc.has {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Errorf("stdout %q lacks %q (in this order: %q)", r.stdout, s, tc.has)
					break
				}
				rest = rest[i+len(s):]
			}
			if !strings.Contains(r.errs, tc.errs) {
				t.Errorf("stderr %q lacks %q", r.errs, tc.errs)
			}
		})
	}
}

// TestMainGate checks that the child's stdin stays open until "go": cat
// ends only on its stdin's end.
func TestMainGate(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- Main([]string{"--", "/bin/cat"}, stdinR, &out, io.Discard) }()
	select {
	case code := <-done:
		t.Fatalf("cat ended (exit %d) before the gate opened: %q", code, out.String())
	case <-time.After(300 * time.Millisecond):
	}
	io.WriteString(stdinW, "go\n")
	select {
	case code := <-done:
		if code != 0 || !strings.HasSuffix(out.String(), Prefix+"exit exit status 0\n") {
			t.Errorf("exit %d, stdout %q; want 0 and an exit line", code, out.String())
		}
	case <-time.After(10 * time.Second):
		stdinW.Close() // stops it
		<-done
		t.Fatalf("cat still running 10 s after go: %q", out.String())
	}
}

// TestProcPIDOutsideNamespaces checks the common case: an agent in the
// namespace /proc belongs to knows its child by the PID /proc shows.
func TestProcPIDOutsideNamespaces(t *testing.T) {
	ns, err := nsPIDs("self")
	if err != nil {
		t.Skip(err)
	}
	if len(ns) != 1 {
		t.Skipf("this test runs in a nested PID namespace (%q)", ns)
	}
	if got, err := procPID(12345); err != nil || got != 12345 {
		t.Errorf("procPID(12345) = %d, %v; want it unchanged", got, err)
	}
	if _, err := nsPIDs("0"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("nsPIDs of no process: %v", err)
	}
}
