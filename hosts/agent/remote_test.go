package agent

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"c10k/hosts"
	"c10k/hosts/netnstest"
)

// TestTopology runs agents on the hosts of one netnstest topology: a
// network namespace, and the same over ssh. The ssh host is a namespace
// of this machine, so it shares this machine's files (the c10k binary
// runs there as it is) and /proc (its PIDs are checked here).
func TestTopology(t *testing.T) {
	topo := netnstest.Up(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	srv, err := hosts.Parse(topo.Server, hosts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("netns clock and env", func(t *testing.T) { testClockAndEnv(ctx, t, srv) })
	t.Run("netns session", func(t *testing.T) { testNetnsSession(ctx, t, srv) })

	spec, cfg := topo.SSHD(t, topo.Load2)
	ssh, err := hosts.Parse(spec, hosts.Options{SSHConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	// An ssh login takes about a second here, waiting more than working:
	// the subtests run at once, whatever -parallel says.
	var wg sync.WaitGroup
	for name, f := range map[string]func(*testing.T){
		"ssh clock and env": func(t *testing.T) { testClockAndEnv(ctx, t, ssh) },
		"ssh session":       func(t *testing.T) { testSSHSession(t, ssh) },
		"ssh client killed": func(t *testing.T) { testSSHClientKilled(t, ssh) },
	} {
		wg.Go(func() { t.Run(name, f) })
	}
	wg.Wait()
}

// testClockAndEnv checks Clock and Env on a host that is this machine
// under another name: one clock, one description.
func testClockAndEnv(ctx context.Context, t *testing.T, h *hosts.Host) {
	offset, rtt, err := Clock(ctx, h, bin)
	if err != nil {
		t.Fatal(err)
	}
	if offset < -50*time.Millisecond || offset > 50*time.Millisecond || rtt <= 0 {
		t.Errorf("Clock on %s: offset %v, rtt %v; want |offset| < 50ms and rtt > 0", h, offset, rtt)
	}
	env, err := Env(ctx, h, bin)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if env.Hostname != host || env.Cores < 1 || env.Kernel == "" {
		t.Errorf("Env on %s = %+v; want hostname %q, cores and a kernel", h, env, host)
	}
}

// testNetnsSession runs a server in the server namespace and checks that
// the agent samples it there: its connections are counted by the
// namespace's sock_diag, which sees no other namespace's sockets.
//
// The server listens on the namespace's loopback, with a client inside
// the namespace: sampler.CountConns counts connections to 127.0.0.1:PORT
// only, so a server on the host's own address is never counted.
func testNetnsSession(ctx context.Context, t *testing.T, h *hosts.Host) {
	// The namespace is ours alone: any port is free in it.
	const port = 8080
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var out syncBuffer
	s := startSession(t, h, Spec{Bin: bin, Argv: []string{"serve", "-model", "epoll", "-addr", addr},
		Period: 100 * time.Millisecond, Port: port, Epoch: time.Now(), Stdout: &out})
	if got := waitLine(t, &out, "listening on "); got != addr {
		t.Fatalf("listening on %q, want %q", got, addr)
	}
	pid := waitPID(t, s)
	if cl := cmdline(pid); !strings.Contains(cl, "serve -model epoll") {
		t.Fatalf("PID() = %d, which runs %q, not the server", pid, cl)
	}
	if !sameNetns(t, pid, h) {
		t.Errorf("the server %d does not run in %s", pid, h)
	}

	// One connection from inside the namespace, held until the test ends.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := h.Command(cctx, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(port)+" && echo connected && sleep 20")
	var clientOut syncBuffer
	client.Stdout = &clientOut
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	defer client.Wait()
	defer cancel()
	waitLine(t, &clientOut, "connected")

	smp, err := s.Take()
	if err != nil {
		t.Fatal(err)
	}
	if smp.Proc.Processes < 1 || smp.ServerConns+smp.QueuedConns != 1 {
		t.Errorf("Take in %s: %d processes, %d+%d connections; want the server and our one connection",
			h, smp.Proc.Processes, smp.ServerConns, smp.QueuedConns)
	}
	if !waitFor(5*time.Second, func() bool { return len(s.Samples()) >= 2 }) {
		t.Errorf("%d samples in 5 s at a 100 ms period", len(s.Samples()))
	}
	procs := tree(t, s.LocalPID())
	st, err := s.Stop(5 * time.Second)
	if err != nil || st.ExitCode() != 0 || s.Exit() != "exit status 0" {
		t.Errorf("Stop: %v, %v, Exit() = %q; want the server's exit 0", st, err, s.Exit())
	}
	checkGone(t, procs)
}

// sameNetns reports whether pid runs in the network namespace of h, a
// netns:NAME host.
func sameNetns(t *testing.T, pid int, h *hosts.Host) bool {
	t.Helper()
	var a, b syscall.Stat_t
	if err := syscall.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &a); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat("/run/netns/"+strings.TrimPrefix(h.String(), "netns:"), &b); err != nil {
		t.Fatal(err)
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// testSSHSession runs cat over ssh: it waits for the gate, ends on
// Release, and its status comes back through ssh.
func testSSHSession(t *testing.T, h *hosts.Host) {
	s := startSession(t, h, Spec{Bin: bin, Argv: []string{"/bin/cat"}})
	pid := waitPID(t, s)
	if cl := cmdline(pid); cl != "/bin/cat" {
		t.Errorf("PID() = %d, which runs %q, not cat", pid, cl)
	}
	checkReleaseEndsCat(t, s)
}

// testSSHClientKilled kills the local ssh client, as a crash of the
// harness would: the connection closes, and the remote agent must stop
// the server.
func testSSHClientKilled(t *testing.T, h *hosts.Host) {
	var out syncBuffer
	s := startSession(t, h, Spec{Bin: bin, Argv: []string{"serve", "-model", "epoll", "-addr", "127.0.0.1:0"}, Stdout: &out})
	waitLine(t, &out, "listening on ")
	pid := waitPID(t, s)
	if cl := cmdline(pid); !strings.Contains(cl, "serve -model epoll") {
		t.Fatalf("PID() = %d, which runs %q, not the server", pid, cl)
	}
	// The remote agent is the server's parent; both must go.
	f := statFields(pid)
	if len(f) < 2 {
		t.Fatalf("no /proc/%d/stat", pid)
	}
	agentPID, _ := strconv.Atoi(f[1])
	procs := tree(t, agentPID)
	if cl := cmdline(agentPID); !strings.Contains(cl, " agent ") || !contains(procs, pid) {
		t.Fatalf("the server's parent %d runs %q; want the agent", agentPID, cl)
	}
	if err := syscall.Kill(s.LocalPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	checkGone(t, procs)
}
