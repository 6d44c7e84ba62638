package proc

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv selects what the re-executed test binary does instead of
// running tests: it is the known child the tests start.
const helperEnv = "PROC_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "threads":
		// Several OS threads, each parked on a locked goroutine, so the test
		// can check that every one of them inherited the mask.
		for i := 0; i < 4; i++ {
			go func() {
				runtime.LockOSThread()
				select {}
			}()
		}
		time.Sleep(100 * time.Millisecond)
		fmt.Println("ready")
		time.Sleep(time.Minute)
	case "grandchild":
		// Starts a child of its own (same process group) and reports its PID.
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), helperEnv+"=sleep")
		if err := c.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("started")
		time.Sleep(time.Minute)
	case "harness":
		// A harness of its own: starts a "grandchild" helper through Start,
		// prints the host PIDs of that child and of its child, and waits to
		// be killed.
		out := newLineWriter()
		p, err := Start(Spec{Path: os.Args[0], Args: []string{"-test.run=^$"},
			Env: append(os.Environ(), helperEnv+"=grandchild"), Stdout: out})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		<-out.ch
		kids := descendants(p.PID())
		if len(kids) == 0 {
			fmt.Println("error: no grandchild")
			os.Exit(1)
		}
		fmt.Println(p.PID(), kids[0])
		time.Sleep(time.Minute)
	case "sleep":
		time.Sleep(time.Minute)
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Minute)
	case "crash":
		fmt.Fprintln(os.Stderr, "line one")
		fmt.Fprintln(os.Stderr, "fatal: out of threads")
		os.Exit(3)
	}
	os.Exit(0)
}

// startHelper starts the test binary in helper mode and stops it when the
// test ends.
func startHelper(t *testing.T, mode, cpus string, stdout *lineWriter, stderr *Tail) *Process {
	t.Helper()
	spec := Spec{
		Path: os.Args[0],
		Args: []string{"-test.run=^$"},
		Env:  append(os.Environ(), helperEnv+"="+mode),
		CPUs: cpus,
	}
	if stdout != nil {
		spec.Stdout = stdout
	}
	if stderr != nil {
		spec.Stderr = stderr
	}
	p, err := Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = p.Stop(0) })
	return p
}

// lineWriter hands each stdout line to a channel.
type lineWriter struct {
	ch  chan string
	buf []byte
}

func newLineWriter() *lineWriter { return &lineWriter{ch: make(chan string, 16)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := -1
		for j, c := range w.buf {
			if c == '\n' {
				i = j
				break
			}
		}
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.ch <- string(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.ch:
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("no line from helper in 20 s")
		return ""
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// State follows the ")" closing the command name.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return b[i+2] != 'Z'
		}
	}
	return true
}

// descendants returns the host PIDs of pid's children and their children,
// read from /proc (a PID a child prints is its PID in its own namespace).
func descendants(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if kid, err := strconv.Atoi(f); err == nil {
				out = append(out, kid)
				out = append(out, descendants(kid)...)
			}
		}
	}
	return out
}
