package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"c10k/hosts"
	"c10k/models/modeltest"
)

// syncBuffer is what a session writes while the test reads.
type syncBuffer = modeltest.SyncBuffer

// waitFor polls cond until it holds or d has passed, and says which.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// waitLine waits for a line of buf starting with prefix and returns the
// rest of it.
func waitLine(t *testing.T, buf *syncBuffer, prefix string) string {
	t.Helper()
	var rest string
	found := waitFor(10*time.Second, func() bool {
		for _, line := range strings.Split(buf.String(), "\n") {
			if r, ok := strings.CutPrefix(line, prefix); ok {
				rest = r
				return true
			}
		}
		return false
	})
	if !found {
		t.Fatalf("no line %q in 10 s; output so far: %q", prefix, buf.String())
	}
	return rest
}

// waitPID waits for the agent to say its child's PID.
func waitPID(t *testing.T, s *Session) int {
	t.Helper()
	if !waitFor(10*time.Second, func() bool { return s.PID() > 0 }) {
		t.Fatal("the agent said no child PID in 10 s")
	}
	return s.PID()
}

// startSession starts a session and makes sure it is stopped when the
// test ends; a failed test shows the session's stderr.
func startSession(t *testing.T, h *hosts.Host, spec Spec) *Session {
	t.Helper()
	if spec.Stderr == nil {
		errs := &syncBuffer{}
		spec.Stderr = errs
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("stderr of %q on %s: %s", spec.Argv, h, errs.String())
			}
		})
	}
	s, err := Start(h, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(0) })
	return s
}

func localHost(t *testing.T) *hosts.Host {
	t.Helper()
	h, err := hosts.Parse("local", hosts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// freePort returns a TCP port nobody listens on at 127.0.0.1 just now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// procID names one process for good: a PID and its start time, so that a
// PID reused by another process does not pass for it.
type procID struct {
	pid   int
	start string
}

// statFields are the fields of /proc/PID/stat after the command name:
// [0] state, [1] ppid, [19] start time.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func identify(pid int) (procID, bool) {
	f := statFields(pid)
	if len(f) < 20 {
		return procID{}, false
	}
	return procID{pid, f[19]}, true
}

// alive reports whether the process still runs (a zombie does not).
func (p procID) alive() bool {
	f := statFields(p.pid)
	return len(f) >= 20 && f[19] == p.start && f[0] != "Z"
}

// tree returns root and every process below it, from the parent links of
// /proc/*/stat.
func tree(t *testing.T, root int) []procID {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	kids := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	var out []procID
	for todo := []int{root}; len(todo) > 0; todo = todo[1:] {
		if id, ok := identify(todo[0]); ok {
			out = append(out, id)
		}
		todo = append(todo, kids[todo[0]]...)
	}
	return out
}

// checkGone fails the test if any of ps is still running within a few
// seconds.
func checkGone(t *testing.T, ps []procID) {
	t.Helper()
	var left []procID
	waitFor(5*time.Second, func() bool {
		left = left[:0]
		for _, p := range ps {
			if p.alive() {
				left = append(left, p)
			}
		}
		return len(left) == 0
	})
	for _, p := range left {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
		t.Errorf("process %d (%q) still running", p.pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
	}
}

func contains(ps []procID, pid int) bool {
	for _, p := range ps {
		if p.pid == pid {
			return true
		}
	}
	return false
}

// cmdline is the command line of pid, space-separated.
func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.TrimSpace(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// TestSessionServe runs a server under an agent on this host: periodic
// samples come without asking, Take gives one now, Stop ends it with its
// status and leaves nothing behind.
func TestSessionServe(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var out, errs syncBuffer
	epoch := time.Now()
	s := startSession(t, localHost(t), Spec{Bin: bin, Argv: []string{"serve", "-model", "epoll", "-addr", addr},
		Period: 100 * time.Millisecond, Port: port, Epoch: epoch, Stdout: &out, Stderr: &errs})
	if got := waitLine(t, &out, "listening on "); got != addr {
		t.Fatalf("listening on %q, want %q", got, addr)
	}
	if strings.Contains(out.String(), Prefix) {
		t.Errorf("the agent's own lines reached the child's stdout: %q", out.String())
	}
	pid := waitPID(t, s)
	// PID is the server as this machine's /proc knows it, though the
	// agent runs in a PID namespace of its own.
	if cl := cmdline(pid); !strings.Contains(cl, "serve -model epoll") {
		t.Fatalf("PID() = %d, which runs %q, not the server", pid, cl)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	if !waitFor(5*time.Second, func() bool { return len(s.Samples()) >= 3 }) {
		t.Fatalf("%d periodic samples in 5 s at a 100 ms period", len(s.Samples()))
	}
	smp, err := s.Take()
	if err != nil {
		t.Fatalf("Take: %v (stderr %q)", err, errs.String())
	}
	if smp.Proc.Processes < 1 || smp.Proc.Threads < 1 || smp.Proc.RSS == 0 {
		t.Errorf("Take sampled no server: %+v", smp.Proc)
	}
	if conns := smp.ServerConns + smp.QueuedConns; conns < 1 {
		t.Errorf("Take counted %d+%d connections on port %d, want our one", smp.ServerConns, smp.QueuedConns, port)
	}
	if since := time.Since(epoch).Seconds(); smp.T <= 0 || smp.T > since {
		t.Errorf("sample time %v s, want in (0, %v] since the epoch", smp.T, since)
	}
	samples := s.Samples()
	taken := 0
	for i, x := range samples {
		if i > 0 && x.T <= samples[i-1].T {
			t.Errorf("samples out of order or repeated: T[%d] = %v after %v", i, x.T, samples[i-1].T)
		}
		if x.T == smp.T {
			taken++
		}
	}
	if taken != 1 {
		t.Errorf("the taken sample (T %v) is in Samples %d times, want once", smp.T, taken)
	}

	procs := tree(t, s.LocalPID())
	if !contains(procs, pid) {
		t.Fatalf("the server %d is not below the local end %d: %v", pid, s.LocalPID(), procs)
	}
	st, err := s.Stop(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode() != 0 || s.Exit() != "exit status 0" {
		t.Errorf("Stop: %v, Exit() = %q; want the server's exit 0 (stderr %q)", st, s.Exit(), errs.String())
	}
	select {
	case <-s.Exited():
	default:
		t.Error("Exited() is open after Stop")
	}
	checkGone(t, procs)
	if _, err := s.Take(); !errors.Is(err, ErrGone) {
		t.Errorf("Take after Stop: %v, want ErrGone", err)
	}
}

// TestSessionKillLocalEnd kills the local end of the channel as a crash of
// the harness would: the agent's child must not outlive it.
func TestSessionKillLocalEnd(t *testing.T) {
	s := startSession(t, localHost(t), Spec{Bin: bin, Argv: []string{"/bin/sleep", "60"}})
	pid := waitPID(t, s)
	if cl := cmdline(pid); cl != "/bin/sleep 60" {
		t.Fatalf("PID() = %d, which runs %q, not the child", pid, cl)
	}
	procs := tree(t, s.LocalPID())
	if !contains(procs, pid) {
		t.Fatalf("the child %d is not below the local end %d: %v", pid, s.LocalPID(), procs)
	}
	if err := syscall.Kill(s.LocalPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("the local end still there 5 s after SIGKILL")
	}
	checkGone(t, procs)
	st, _ := s.Stop(0)
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("local end ended %v, want killed", st)
	}
	if s.Exit() != "" {
		t.Errorf("Exit() = %q, but the agent was killed before it could say", s.Exit())
	}
}

// TestSessionRelease checks the start gate: cat ends on its stdin's end,
// which only Release brings.
func TestSessionRelease(t *testing.T) {
	s := startSession(t, localHost(t), Spec{Bin: bin, Argv: []string{"/bin/cat"}})
	waitPID(t, s)
	checkReleaseEndsCat(t, s)
}

// checkReleaseEndsCat checks that a session running cat waits at its
// gate until Release, then ends by itself, with exit status 0.
func checkReleaseEndsCat(t *testing.T, s *Session) {
	t.Helper()
	select {
	case <-s.Exited():
		t.Fatalf("cat ended before Release: %q", s.Exit())
	case <-time.After(300 * time.Millisecond):
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("cat still running 10 s after Release")
	}
	st, err := s.Stop(time.Second)
	if err != nil || st.ExitCode() != 0 || s.Exit() != "exit status 0" {
		t.Errorf("Stop: %v, %v, Exit() = %q; want exit 0", st, err, s.Exit())
	}
}

func TestSessionExitStatus(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		code int
		exit string // what the agent says
	}{
		{name: "happy zero", argv: []string{"/bin/sh", "-c", "exit 0"}, code: 0, exit: "exit status 0"},
		{name: "happy seven", argv: []string{"/bin/sh", "-c", "exit 7"}, code: 7, exit: "exit status 7"},
		{name: "sad no such program", argv: []string{"/nonexistent/program"}, code: 1, exit: ""},
		{name: "sad no such c10k command", argv: []string{"nosuchcommand"}, code: 2, exit: "exit status 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errs syncBuffer
			s := startSession(t, localHost(t), Spec{Bin: bin, Argv: tc.argv, Stderr: &errs})
			select {
			case <-s.Exited():
			case <-time.After(10 * time.Second):
				t.Fatal("still running after 10 s")
			}
			st, err := s.Stop(0)
			if err != nil || st.ExitCode() != tc.code || s.Exit() != tc.exit {
				t.Errorf("Stop: %v, %v, Exit() = %q; want code %d and %q (stderr %q)", st, err, s.Exit(), tc.code, tc.exit, errs.String())
			}
		})
	}
}

// TestSessionStopGrace checks that Stop's grace is the one the agent
// keeps: a child deaf to SIGTERM is killed after it, and the agent still
// says how the child ended.
func TestSessionStopGrace(t *testing.T) {
	s := startSession(t, localHost(t), Spec{Bin: bin, Argv: []string{"/bin/sh", "-c", `trap "" TERM; sleep 60`}})
	waitPID(t, s)
	procs := tree(t, s.LocalPID())
	st, err := s.Stop(200 * time.Millisecond)
	if err != nil || st.ExitCode() != 128+9 || s.Exit() != "killed by signal: killed" {
		t.Errorf("Stop: %v, %v, Exit() = %q; want the agent's exit 137 and \"killed by signal: killed\"", st, err, s.Exit())
	}
	checkGone(t, procs)
}

func TestClockLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	offset, rtt, err := Clock(ctx, localHost(t), bin)
	if err != nil {
		t.Fatal(err)
	}
	// The same clock: the offset is what the measurement can tell, well
	// under a round trip, and a round trip takes some time.
	if offset < -50*time.Millisecond || offset > 50*time.Millisecond || rtt <= 0 {
		t.Errorf("Clock on this host: offset %v, rtt %v; want |offset| < 50ms and rtt > 0", offset, rtt)
	}
}

func TestEnvLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	env, err := Env(ctx, localHost(t), bin)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if env.Hostname != host || env.Cores < 1 || env.Kernel == "" {
		t.Errorf("Env = %+v; want hostname %q, cores and a kernel", env, host)
	}
}

func TestClockAndEnvSad(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	h := localHost(t)
	for _, c := range []struct{ name, bin string }{
		{"missing binary", "/nonexistent/c10k"},
		{"not an agent", "/bin/true"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := Clock(ctx, h, c.bin); err == nil || !strings.Contains(err.Error(), "host local") {
				t.Errorf("Clock: %v, want an error naming the host", err)
			}
			if _, err := Env(ctx, h, c.bin); err == nil || !strings.Contains(err.Error(), "host local") {
				t.Errorf("Env: %v, want an error naming the host", err)
			}
		})
	}
}
