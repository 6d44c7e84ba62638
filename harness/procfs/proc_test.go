package procfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What the "alloc" helper holds, and the slack the assertions allow for the
// Go runtime and test binary on top of it.
const (
	helperMiB     = 64
	helperFDs     = 200
	helperThreads = 20

	slackMiB     = 60
	slackFDs     = 30
	slackThreads = 15
)

const helperEnv = "C10K_PROCFS_HELPER"

// sink keeps the helper's allocation reachable so it stays resident.
var sink []byte

// TestHelperProcess is not a real test: it is the body of the child
// processes the sampler tests measure, run by re-executing the test binary
// (the os/exec trick), so the tests need no external fixture programs.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	switch mode {
	case "alloc":
		helperAlloc()
	case "tree":
		helperTree()
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		os.Exit(2)
	}
	os.Exit(0)
}

func helperAlloc() {
	sink = make([]byte, helperMiB<<20)
	// Write every page: untouched pages of a fresh allocation are never
	// faulted in and would not count in RSS.
	for i := 0; i < len(sink); i += os.Getpagesize() {
		sink[i] = 1
	}
	files := make([]*os.File, 0, helperFDs)
	for range helperFDs {
		f, err := os.Open(os.DevNull)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		files = append(files, f)
	}
	block := make(chan struct{})
	started := make(chan struct{})
	for range helperThreads {
		go func() {
			// A goroutine locked to its thread keeps that thread to itself
			// while it blocks, forcing the runtime to hold one more thread.
			runtime.LockOSThread()
			started <- struct{}{}
			<-block
		}()
	}
	for range helperThreads {
		<-started
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	runtime.KeepAlive(files)
	runtime.KeepAlive(sink)
}

func helperTree() {
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Started and deliberately not waited for until the end, so that it
	// sits in the tree as a zombie, which has no memory or fds to read.
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Wait for it to exit without reaping it (WNOWAIT), so the test sees a
	// zombie for certain rather than racing its exit.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, zombie.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		fmt.Fprintln(os.Stderr, "waitid:", err)
		os.Exit(2)
	}
	fmt.Printf("ready %d %d\n", sleep.Process.Pid, zombie.Process.Pid)
	io.Copy(io.Discard, os.Stdin)
	sleep.Process.Kill()
	sleep.Wait()
	zombie.Wait()
}

// startHelper runs the test binary as a helper in mode, waits for its
// "ready" line and returns the child and the words after "ready" (the
// grandchild PIDs, if any). Cleanup closes stdin so the helper exits (and
// reaps its own children); if it does not, it is killed by PID, its
// grandchildren first while their PIDs still belong to them.
func startHelper(t *testing.T, mode string) (*exec.Cmd, []int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "GOMAXPROCS=2")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var grandchildren []int
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
			return
		case <-time.After(10 * time.Second):
		}
		for _, pid := range grandchildren {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		<-done
	})

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready") {
				lines <- sc.Text()
				break
			}
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("helper %q exited before ready", mode)
		}
		for _, w := range strings.Fields(line)[1:] {
			pid, err := strconv.Atoi(w)
			if err != nil {
				t.Fatalf("helper ready line %q: %v", line, err)
			}
			grandchildren = append(grandchildren, pid)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("helper %q not ready after 20s", mode)
	}
	return cmd, grandchildren
}

func inRange[T int | uint64](t *testing.T, name string, got, low, high T) {
	t.Helper()
	if got < low || got >= high {
		t.Errorf("%s = %d, want in [%d, %d)", name, got, low, high)
	}
}

func TestSampleProcessKnownChild(t *testing.T) {
	cmd, _ := startHelper(t, "alloc")
	pid := cmd.Process.Pid

	p, err := SampleProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", p)
	const mib = 1 << 20
	if p.Processes != 1 {
		t.Errorf("Processes = %d, want 1", p.Processes)
	}
	memHigh := uint64(helperMiB+slackMiB) * mib
	if raceEnabled {
		memHigh = uint64(3*helperMiB+slackMiB) * mib
	}
	inRange(t, "RSS", p.RSS, helperMiB*mib, memHigh)
	inRange(t, "PSS", p.PSS, helperMiB*mib, memHigh)
	inRange(t, "FDs", p.FDs, helperFDs, helperFDs+slackFDs)
	inRange(t, "Threads", p.Threads, helperThreads, helperThreads+slackThreads)
	// The stat-size shortcut and the directory listing must agree (on
	// kernels before 6.2 this compares the listing with itself).
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	fast, err1 := countFDs(fdDir)
	slow, err2 := countDir(fdDir)
	if err1 != nil || err2 != nil || fast != slow {
		t.Errorf("countFDs = %d, %v; countDir = %d, %v", fast, err1, slow, err2)
	}
	if p.UserCPUSec < 0 || p.SystemCPUSec < 0 {
		t.Errorf("negative CPU: %+v", p)
	}
	if p.CtxtAllThreads {
		t.Error("CtxtAllThreads set by SampleProcess")
	}

	// The helper has no children, so the tree is the process.
	tree, err := SampleTree(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Threads are not compared exactly: the Go runtime of the helper may
	// start another thread between the two samples.
	if tree.Processes != 1 || tree.FDs != p.FDs {
		t.Errorf("SampleTree of a childless process = %+v, want it to match %+v", tree, p)
	}
	inRange(t, "tree Threads", tree.Threads, helperThreads, helperThreads+slackThreads)

	// Every thread's switches include the main thread's, and the helper's
	// locked threads each switched at least once to block.
	all, err := SampleTreeAllThreads(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !all.CtxtAllThreads {
		t.Error("CtxtAllThreads not set by SampleTreeAllThreads")
	}
	if all.VoluntaryCtxt+all.InvoluntaryCtxt <= tree.VoluntaryCtxt+tree.InvoluntaryCtxt {
		t.Errorf("all-thread switches %d+%d not above main-thread %d+%d",
			all.VoluntaryCtxt, all.InvoluntaryCtxt, tree.VoluntaryCtxt, tree.InvoluntaryCtxt)
	}
}

func TestSampleTreeWithGrandchildren(t *testing.T) {
	cmd, grandchildren := startHelper(t, "tree")
	root := cmd.Process.Pid
	if len(grandchildren) != 2 {
		t.Fatalf("helper reported grandchildren %v, want 2", grandchildren)
	}

	tree, err := SampleTree(root)
	if err != nil {
		t.Fatal(err)
	}
	one, err := SampleProcess(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tree %+v", tree)
	t.Logf("root %+v", one)
	// Root, running sleep, zombie true.
	if tree.Processes != 3 {
		t.Errorf("tree Processes = %d, want 3", tree.Processes)
	}
	if tree.Threads <= one.Threads {
		t.Errorf("tree Threads = %d, want more than the root's %d", tree.Threads, one.Threads)
	}
	if tree.RSS <= one.RSS || tree.PSS <= one.PSS || tree.FDs <= one.FDs {
		t.Errorf("tree %+v does not exceed root %+v in RSS, PSS and FDs", tree, one)
	}

	found, err := walkTree(root, func(pid int) (rawProc, error) { return sampleOne(pid, false) })
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range append([]int{root}, grandchildren...) {
		if _, ok := found[pid]; !ok {
			t.Errorf("walkTree(%d) = %v, missing %d", root, keys(found), pid)
		}
	}

	// A descendant that vanishes mid-walk is skipped; the root vanishing is
	// ErrNoProcess. Simulated, since real exits cannot be timed reliably.
	vanish := func(victim int) func(int) (rawProc, error) {
		return func(pid int) (rawProc, error) {
			if pid == victim {
				return rawProc{}, fmt.Errorf("procfs: read /proc/%d/status: %w", pid, syscall.ESRCH)
			}
			return sampleOne(pid, false)
		}
	}
	found, err = walkTree(root, vanish(grandchildren[0]))
	if err != nil {
		t.Fatalf("vanished descendant: %v", err)
	}
	if _, ok := found[grandchildren[0]]; ok || len(found) != 2 {
		t.Errorf("vanished descendant: walkTree = %v, want root and %d only", keys(found), grandchildren[1])
	}
	if _, err := walkTree(root, vanish(root)); !errors.Is(err, ErrNoProcess) {
		t.Errorf("vanished root: err = %v, want ErrNoProcess", err)
	}

	// The fast path cannot run on kernels without CONFIG_PROC_CHILDREN, so
	// only check that it agrees with the scan where it exists.
	if haveChildrenFiles() {
		kids, err := childrenFromTasks(root)
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != 2 {
			t.Errorf("childrenFromTasks(%d) = %v, want %v", root, kids, grandchildren)
		}
	}
}

func keys(m map[int]rawProc) []int {
	var k []int
	for pid := range m {
		k = append(k, pid)
	}
	return k
}

func TestSampleGoneProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	// Reaped, so its PID is free; reuse this quickly is very unlikely.
	pid := cmd.Process.Pid
	if _, err := SampleTree(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("SampleTree(reaped %d) err = %v, want ErrNoProcess", pid, err)
	}
	if _, err := SampleProcess(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("SampleProcess(reaped %d) err = %v, want ErrNoProcess", pid, err)
	}
	for _, pid := range []int{0, -1} {
		if _, err := SampleTree(pid); err == nil || errors.Is(err, ErrNoProcess) {
			t.Errorf("SampleTree(%d) err = %v, want an invalid-pid error", pid, err)
		}
	}
}

func TestSampleSelfCountsFDs(t *testing.T) {
	before, err := SampleProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	const extra = 5
	for range extra {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	after, err := SampleProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Exactly, if nothing else in this process opens or closes fds
	// meanwhile; nothing does in this package's tests (no t.Parallel).
	if after.FDs-before.FDs != extra {
		t.Errorf("FDs went %d -> %d, want +%d", before.FDs, after.FDs, extra)
	}
}

func TestSampleSelfCPUAdvances(t *testing.T) {
	cpu := func() float64 {
		p, err := SampleProcess(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		return p.UserCPUSec + p.SystemCPUSec
	}
	// Burn CPU until the 10 ms tick counter moves: a fixed amount of work
	// could round to zero ticks, and a noisy machine makes any fixed wall
	// time a guess, so only the deadline is fixed.
	start := cpu()
	deadline := time.Now().Add(5 * time.Second)
	x := 0
	for cpu() <= start {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stuck at %v s after 5 s of spinning", start)
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	runtime.KeepAlive(x)
}

func TestGone(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"enoent", fmt.Errorf("procfs: read x: %w", &fs.PathError{Op: "open", Path: "/proc/1/stat", Err: syscall.ENOENT}), true},
		{"esrch", fmt.Errorf("procfs: read x: %w", &fs.PathError{Op: "read", Path: "/proc/1/stat", Err: syscall.ESRCH}), true},
		{"eacces", fmt.Errorf("procfs: read x: %w", &fs.PathError{Op: "open", Path: "/proc/1/fd", Err: syscall.EACCES}), false},
		{"parse", errors.New("procfs: stat: no (comm) field"), false},
	}
	for _, tc := range tests {
		if got := gone(tc.err); got != tc.want {
			t.Errorf("gone(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
