package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lastAllowedCPU is a CPU the harness may use, preferring one that is not
// its whole mask, so a pinned child differs visibly from its parent.
func lastAllowedCPU(t *testing.T) (cpu int, parent unix.CPUSet) {
	t.Helper()
	if err := unix.SchedGetaffinity(0, &parent); err != nil {
		t.Fatal(err)
	}
	cpu = -1
	for c := 0; c < len(parent)*64; c++ {
		if parent.IsSet(c) {
			cpu = c
		}
	}
	return cpu, parent
}

func TestStartPinsEveryThread(t *testing.T) {
	cpu, parent := lastAllowedCPU(t)
	want := strconv.Itoa(cpu)
	out := newLineWriter()
	p := startHelper(t, "threads", want, out, nil)
	if l := out.next(t); l != "ready" {
		t.Fatalf("helper said %q", l)
	}
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(p.PID()) + "/task/*/status")
	if err != nil || len(tasks) < 5 {
		t.Fatalf("want >= 5 threads, got %d (%v)", len(tasks), err)
	}
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := field(string(b), "Cpus_allowed_list")
		if got != want {
			t.Errorf("%s: Cpus_allowed_list %q, want %q", path, got, want)
		}
	}
	// The harness's own threads must not have been pinned along the way.
	var now unix.CPUSet
	if err := unix.SchedGetaffinity(0, &now); err != nil {
		t.Fatal(err)
	}
	if now != parent {
		t.Errorf("test thread mask changed from %s to %s", FormatCPUList(parent), FormatCPUList(now))
	}
}

func TestStartUnpinnedInheritsHarnessMask(t *testing.T) {
	_, parent := lastAllowedCPU(t)
	out := newLineWriter()
	p := startHelper(t, "threads", "", out, nil)
	out.next(t)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := field(string(b), "Cpus_allowed_list"), FormatCPUList(parent); got != want {
		t.Errorf("unpinned child Cpus_allowed_list %q, want the harness's %q", got, want)
	}
}

func TestStopKillsTheWholeGroup(t *testing.T) {
	out := newLineWriter()
	p := startHelper(t, "grandchild", "", out, nil)
	out.next(t)
	kids := descendants(p.PID())
	if len(kids) != 1 {
		t.Fatalf("descendants %v, want one grandchild", kids)
	}
	gc := kids[0]
	if !alive(gc) {
		t.Fatalf("grandchild %d not running", gc)
	}
	if _, err := p.Stop(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if alive(p.PID()) || alive(gc) {
		t.Errorf("left behind: child alive %v, grandchild alive %v", alive(p.PID()), alive(gc))
	}
	for _, pid := range Live() {
		if pid == p.PID() {
			t.Error("stopped process still listed by Live")
		}
	}
}

// TestNothingOutlivesAKilledHarness: SIGKILL, which no handler sees, on a
// process that started a child with a child of its own leaves neither.
func TestNothingOutlivesAKilledHarness(t *testing.T) {
	if !Contained() {
		t.Skip("PID namespaces are not allowed here: only Stop reaches grandchildren")
	}
	// The stand-in harness runs in this PID namespace, as a real one
	// does, so the PIDs it reads from /proc are PIDs here.
	out := newLineWriter()
	h := exec.Command(os.Args[0], "-test.run=^$")
	h.Env = append(os.Environ(), helperEnv+"=harness")
	h.Stdout = out
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	defer h.Wait()
	line := out.next(t)
	var child, grandchild int
	if _, err := fmt.Sscan(line, &child, &grandchild); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	if !alive(child) || !alive(grandchild) {
		t.Fatalf("child %d alive %v, grandchild %d alive %v", child, alive(child), grandchild, alive(grandchild))
	}
	if err := h.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(child) || alive(grandchild) {
		if time.Now().After(deadline) {
			t.Fatalf("5 s after the harness's SIGKILL: child alive %v, grandchild alive %v", alive(child), alive(grandchild))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	out := newLineWriter()
	p := startHelper(t, "stubborn", "", out, nil)
	out.next(t)
	start := time.Now()
	st, err := p.Stop(300 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got := ExitString(st); got != "killed by signal: killed" {
		t.Errorf("ExitString = %q, want SIGKILL", got)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("stopped after %v, before the grace period", d)
	}
}

func TestExitedReportsACrashWithItsStderr(t *testing.T) {
	tail := NewTail(1)
	p := startHelper(t, "crash", "", nil, tail)
	select {
	case <-p.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("crashing helper did not exit")
	}
	st, err := p.Stop(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := ExitString(st); got != "exit status 3" {
		t.Errorf("ExitString = %q", got)
	}
	if got := tail.Lines(); len(got) != 1 || got[0] != "fatal: out of threads" {
		t.Errorf("tail = %q", got)
	}
	// Idempotent.
	if st2, _ := p.Stop(time.Second); st2 != st {
		t.Error("second Stop returned a different state")
	}
}

func TestStartSadBadCPUList(t *testing.T) {
	if _, err := Start(Spec{Path: "/bin/true", CPUs: "x"}); err == nil {
		t.Error("want error for CPU list x")
	}
	if _, err := Start(Spec{Path: "/nonexistent/binary"}); err == nil {
		t.Error("want error for a missing binary")
	}
}

func field(status, key string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
