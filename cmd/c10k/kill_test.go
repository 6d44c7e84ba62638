package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"c10k/harness/proc"
	"c10k/harness/registry"
	"c10k/harness/results"
)

// TestSIGKILLedBenchLeavesNothing kills a bench with SIGKILL, which no
// handler sees, while nginx (a master and its worker) runs under it, and
// then finds none of the bench's descendants alive and the run marked
// interrupted.
func TestSIGKILLedBenchLeavesNothing(t *testing.T) {
	nginx, _ := registry.Lookup(registry.Nginx)
	if _, err := os.Stat(nginx.Peer.Binary); err != nil {
		t.Skipf("nginx is not installed (%v): make peers installs it", err)
	}
	if !proc.Contained() {
		t.Skip("PID namespaces are not allowed here: a SIGKILLed harness cannot take a peer's workers with it")
	}
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "bench", "-smoke", "-models", "nginx", "-out", out)
	cmd.Env = append(os.Environ(), benchTestEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()

	// Wait for nginx's master and at least one worker under the bench.
	var tree map[int]uint64
	deadline := time.Now().Add(30 * time.Second)
	for {
		tree = descendants(cmd.Process.Pid)
		if countComm(tree, "nginx") >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no nginx master and worker under the bench after 30 s; tree %v", tree)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var left []int
		for pid, start := range tree {
			if proc.Alive(pid, start) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after SIGKILL, still running: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Wait()
	// The next bench would remove the dead one's scratch directory (with
	// its 17 MB copy of the binary); the test does not wait for one.
	stale, _ := filepath.Glob(filepath.Join(os.TempDir(), "c10k-bench-"+strconv.Itoa(cmd.Process.Pid)+"-*"))
	for _, d := range stale {
		os.RemoveAll(d)
	}
	run, _, err := results.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.StatusInterrupted {
		t.Errorf("run status %q after its harness was killed, want %q", run.Status, results.StatusInterrupted)
	}
}

// descendants maps every process below pid to its start time, read from
// /proc.
func descendants(pid int) map[int]uint64 {
	out := map[int]uint64{}
	var walk func(int)
	walk = func(p int) {
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		for _, task := range tasks {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/task/" + task.Name() + "/children")
			for _, f := range strings.Fields(string(b)) {
				kid, err := strconv.Atoi(f)
				if err != nil {
					continue
				}
				if start, err := proc.StartTime(kid); err == nil {
					out[kid] = start
					walk(kid)
				}
			}
		}
	}
	walk(pid)
	return out
}

func countComm(tree map[int]uint64, comm string) int {
	n := 0
	for pid := range tree {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err == nil && strings.TrimSpace(string(b)) == comm {
			n++
		}
	}
	return n
}
