package modeltest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/server"
)

// ChildEnv is set in the environment of the child that RunFDExhaustion
// starts; ServeChild serves only when it is set.
const ChildEnv = "C10K_MODELTEST_CHILD"

// Figures of the descriptor-exhaustion test. The child's limit leaves room
// for about 58 connections once stdio, the listener and the runtime's
// poller have theirs; the parent opens well over that.
const (
	childNoFile     = 64
	fdConns         = 100
	fdMinAnswered   = 40              // more than fdFreed, so some stay open through recovery
	fdPendingWait   = 2 * time.Second // for answers on the first connections
	fdCPUWindow     = time.Second
	fdMaxRan        = 0.5 // of one core, used while over the limit
	fdMaxDemand     = 0.8 // of one core, runnable while over the limit
	fdFreed         = 30
	fdNewConns      = 10
	fdRecoverWithin = 8 * time.Second
	clockTicks      = 100 // USER_HZ: the unit of /proc/PID/stat times on every Linux port
)

// ServeChild is the child half of RunFDExhaustion; a model's test file
// calls it from the helper test it names to RunFDExhaustion. Run normally,
// it skips. Run as the child, it lowers RLIMIT_NOFILE to 64, starts the
// model on 127.0.0.1:0, prints "listening on ADDR" and serves until the
// parent kills it; it never returns.
func ServeChild(t *testing.T, newServer func(server.Config) (server.Server, error)) {
	if os.Getenv(ChildEnv) == "" {
		t.Skip("helper process of RunFDExhaustion; runs only as its child")
	}
	lim := unix.Rlimit{Cur: childNoFile, Max: childNoFile}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "modeltest child:", os.NewSyscallError("setrlimit", err))
		os.Exit(3)
	}
	s, err := newServer(DefaultConfig())
	if err != nil {
		fmt.Fprintln(os.Stderr, "modeltest child:", err)
		os.Exit(3)
	}
	fmt.Printf("listening on %s\n", s.Addr())
	if err := s.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "modeltest child: serve:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// RunFDExhaustion starts this test binary again as a child running only
// helperTest (which must call ServeChild) with RLIMIT_NOFILE at 64, and
// checks the model's behaviour out of file descriptors:
//
//   - of 100 connections, each sending a request, some are answered and
//     some are not (the limit is real); those not answered may wait in the
//     backlog or be closed by the server, both are designed answers;
//   - while the backlog holds connections it cannot accept, the child uses
//     under half a core, and is runnable (on a CPU or waiting for one)
//     under 80% of the time: it backs off, it does not spin on EMFILE;
//   - the answered keep-alive connections are still answered;
//   - once 30 of them and every unanswered one are closed, new connections
//     are answered within a few seconds.
//
// The child is killed by PID when the test ends.
func RunFDExhaustion(t *testing.T, helperTest string) {
	child := startChild(t, helperTest)

	clients := make([]*client, 0, fdConns)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for i := 0; i < fdConns; i++ {
		c, err := dial(child.addr)
		if err != nil {
			t.Fatalf("connection %d: %v (the backlog should take it)", i+1, err)
		}
		clients = append(clients, c)
		if err := c.send(get(fmt.Sprintf("/fd/%d", i), "")); err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
	}

	answered, waiting := sortByAnswer(t, clients)
	t.Logf("%d of %d connections answered under RLIMIT_NOFILE=%d, %d not", len(answered), fdConns, childNoFile, len(waiting))
	if len(answered) < fdMinAnswered {
		t.Fatalf("only %d connections answered, want at least %d; child stderr:\n%s", len(answered), fdMinAnswered, child.stderr())
	}
	if len(answered) >= childNoFile {
		t.Fatalf("%d connections answered with only %d descriptors: the limit did not apply", len(answered), childNoFile)
	}

	use, err := measureCPU(child.cmd.Process.Pid, fdCPUWindow)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("child while out of descriptors: ran %.1f%% of a core, runnable %.1f%%", use.ran*100, use.demand*100)
	// Either figure catches a spinning child: CPU time on an idle machine,
	// runnable time on a busy one, where a spinner gets a fraction of a
	// core but wants all of it. A backing-off child ran 1% and was runnable
	// under 10% here, its wake-ups waiting for a busy CPU.
	if use.ran > fdMaxRan || use.demand > fdMaxDemand {
		t.Errorf("child ran %.0f%% of a core (limit %.0f%%) and was runnable %.0f%% of the time (limit %.0f%%) while out of descriptors: it spins on EMFILE",
			use.ran*100, fdMaxRan*100, use.demand*100, fdMaxDemand*100)
	}

	for i, c := range answered {
		if err := answerAgain(c); err != nil {
			t.Fatalf("accepted connection %d while out of descriptors: %v", i+1, err)
		}
	}

	for _, c := range answered[:fdFreed] {
		c.close()
	}
	for _, c := range waiting {
		c.close()
	}
	kept := answered[fdFreed:]
	fresh := make([]*client, 0, fdNewConns)
	defer func() {
		for _, c := range fresh {
			c.close()
		}
	}()
	start := time.Now()
	for i := 0; i < fdNewConns; i++ {
		c, err := dial(child.addr)
		if err != nil {
			t.Fatalf("new connection %d after freeing descriptors: %v", i+1, err)
		}
		fresh = append(fresh, c)
		if err := c.conn.SetDeadline(start.Add(fdRecoverWithin)); err != nil {
			t.Fatal(err)
		}
		if err := answerAgain(c); err != nil {
			t.Fatalf("new connection %d after freeing %d descriptors: %v; child stderr:\n%s", i+1, fdFreed, err, child.stderr())
		}
	}
	t.Logf("new connections answered %v after freeing descriptors", time.Since(start).Round(time.Millisecond))
	for i, c := range kept {
		if err := answerAgain(c); err != nil {
			t.Fatalf("kept connection %d after recovery: %v", i+1, err)
		}
	}
}

// sortByAnswer waits up to fdPendingWait for every connection's response
// and splits them into answered ones and the rest (still waiting in the
// backlog, or closed by the server).
func sortByAnswer(t *testing.T, clients []*client) (answered, rest []*client) {
	t.Helper()
	deadline := time.Now().Add(fdPendingWait)
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			if err := c.conn.SetReadDeadline(deadline); err != nil {
				errs[i] = err
				return
			}
			resp, err := c.read()
			if err == nil {
				err = expectOK(resp, DefaultConfig().BodySize, true)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, c := range clients {
		switch err := errs[i]; {
		case err == nil:
			answered = append(answered, c)
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, errClosed):
			rest = append(rest, c)
		default:
			t.Fatalf("connection %d: %v", i+1, err)
		}
	}
	return answered, rest
}

func answerAgain(c *client) error {
	if err := c.conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return err
	}
	resp, err := c.roundTrip(get("/again", ""))
	if err != nil {
		return err
	}
	return expectOK(resp, DefaultConfig().BodySize, true)
}

// child is the serving child process.
type child struct {
	cmd    *exec.Cmd
	addr   string
	errBuf *SyncBuffer
}

func (c *child) stderr() string { return c.errBuf.String() }

func startChild(t *testing.T, helperTest string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helperTest+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	errBuf := &SyncBuffer{}
	cmd.Stderr = errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() // by PID; the child serves until killed
		cmd.Wait()
	})
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrs <- a
				break
			}
		}
		io.Copy(io.Discard, out) // keep the pipe drained
	}()
	select {
	case a := <-addrs:
		if _, _, err := net.SplitHostPort(a); err != nil {
			t.Fatalf("child printed a bad address %q", a)
		}
		return &child{cmd: cmd, addr: a, errBuf: errBuf}
	case <-time.After(ioTimeout):
		t.Fatalf("child did not print its address within %v; stderr:\n%s", ioTimeout, errBuf.String())
		return nil
	}
}

// cpuUse is what the child used over a window, as shares of one core.
type cpuUse struct {
	ran    float64 // utime+stime: the CPU it got
	demand float64 // time on a CPU plus time runnable but waiting for one
}

// measureCPU samples pid over window. A process spinning on EMFILE is
// always runnable, so its demand is near one core whatever else the
// machine runs; the CPU it gets depends on the competition, and on a
// shared two-core box a spinning server was seen to get only 36%.
func measureCPU(pid int, window time.Duration) (cpuUse, error) {
	ticks0, err := cpuTicks(pid)
	if err != nil {
		return cpuUse{}, err
	}
	demand0, err := schedDemand(pid)
	if err != nil {
		return cpuUse{}, err
	}
	t0 := time.Now()
	time.Sleep(window)
	ticks1, err := cpuTicks(pid)
	if err != nil {
		return cpuUse{}, err
	}
	demand1, err := schedDemand(pid)
	if err != nil {
		return cpuUse{}, err
	}
	wall := time.Since(t0)
	ran := time.Duration(ticks1-ticks0) * time.Second / clockTicks
	return cpuUse{
		ran:    ran.Seconds() / wall.Seconds(),
		demand: time.Duration(demand1-demand0).Seconds() / wall.Seconds(),
	}, nil
}

// schedDemand sums, over pid's threads, the first two fields of
// /proc/PID/task/TID/schedstat: nanoseconds on a CPU and nanoseconds
// runnable on a run queue. Threads that exit between two samples drop out
// of the sum; the check holds connections open, so none do.
func schedDemand(pid int) (uint64, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("modeltest: listing child threads: %w", err)
	}
	var sum uint64
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/" + task.Name() + "/schedstat")
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, fmt.Errorf("modeltest: malformed %s/%s/schedstat", dir, task.Name())
		}
		for _, v := range f[:2] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("modeltest: %s/%s/schedstat: %w", dir, task.Name(), err)
			}
			sum += n
		}
	}
	return sum, nil
}

// cpuTicks reads utime+stime, fields 14 and 15 of /proc/PID/stat, counted
// after the last ')' since the command name may contain anything.
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("modeltest: reading child stat: %w", err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("modeltest: malformed /proc/%d/stat", pid)
	}
	// After ") " comes field 3 (state); utime is field 14, stime field 15.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("modeltest: short /proc/%d/stat", pid)
	}
	var utime, stime uint64
	if _, err := fmt.Sscan(f[11], &utime); err != nil {
		return 0, fmt.Errorf("modeltest: utime in /proc/%d/stat: %w", pid, err)
	}
	if _, err := fmt.Sscan(f[12], &stime); err != nil {
		return 0, fmt.Errorf("modeltest: stime in /proc/%d/stat: %w", pid, err)
	}
	return utime + stime, nil
}

// SyncBuffer is a bytes.Buffer one goroutine (a child's stderr, a
// logger) writes while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
