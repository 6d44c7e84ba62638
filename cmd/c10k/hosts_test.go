package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"c10k/harness/results"
	"c10k/hosts/netnstest"
	"c10k/loadgen"
)

// benchOn runs `c10k bench -smoke` with bin (the test binary, as the
// other bench tests do) and returns the run it wrote.
func benchOn(t *testing.T, bin string, args ...string) (results.Run, []results.Scenario, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, append([]string{"bench", "-smoke", "-out", out}, args...)...)
	cmd.Env = append(os.Environ(), benchTestEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("c10k bench %v: %v\n%s", args, err, stderr.String())
	}
	t.Logf("bench %v took %v", args, time.Since(start).Round(time.Second))
	run, scs, err := results.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	return run, scs, stderr.String()
}

// checkMerged checks that a level's load result is the merge of its
// agents' results, one per load host, each run where it was sent.
func checkMerged(t *testing.T, name string, l loadgen.Result, loadHosts []string) {
	t.Helper()
	if len(l.Procs) != len(loadHosts) {
		t.Fatalf("%s: %d agent results, want one per load host %v", name, len(l.Procs), loadHosts)
	}
	var requests, idle, errs int64
	var hosts []string
	for _, p := range l.Procs {
		if !p.Complete {
			t.Errorf("%s: agent on %s incomplete: %s", name, p.Host, p.Message)
		}
		requests += p.Requests
		idle += int64(p.IdleAlive)
		errs += p.TotalErrors()
		hosts = append(hosts, p.Host)
	}
	if strings.Join(hosts, ",") != strings.Join(loadHosts, ",") {
		t.Errorf("%s: agents ran on %v, want %v", name, hosts, loadHosts)
	}
	if l.Requests == 0 || l.Requests != requests || int64(l.IdleAlive) != idle || l.TotalErrors() != errs {
		t.Errorf("%s: merged %d requests, %d idle, %d errors; the agents' sum: %d, %d, %d",
			name, l.Requests, l.IdleAlive, l.TotalErrors(), requests, idle, errs)
	}
}

// checkNothingLeft checks that no process runs in the topology's
// namespaces any more (sshd excepted: the topology's own).
func checkNothingLeft(t *testing.T, topo *netnstest.Topology) {
	t.Helper()
	for _, ns := range []string{topo.Server, topo.Load1, topo.Load2} {
		name := strings.TrimPrefix(ns, "netns:")
		out, err := exec.Command("ip", "netns", "pids", name).Output()
		if err != nil {
			t.Errorf("ip netns pids %s: %v", name, err)
			continue
		}
		for _, pid := range strings.Fields(string(out)) {
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			if c := strings.TrimSpace(string(comm)); !strings.HasPrefix(c, "sshd") && c != "" {
				t.Errorf("%s: process %s (%s) still runs there after the bench", name, pid, c)
			}
		}
	}
}

// TestBenchAcrossNetworkNamespaces runs a small bench with the server (and
// the proxy scenario's backend) in one namespace and the load from two
// others, and checks that every level measured there: the server's
// connections counted in its own namespace, the load split between the
// agents and merged into their sum, the hosts recorded.
func TestBenchAcrossNetworkNamespaces(t *testing.T) {
	topo := netnstest.Up(t)
	loadHosts := []string{topo.Load1, topo.Load2}
	run, scs, stderr := benchOn(t, os.Args[0], "-models", "epoll", "-scenarios", "idle,proxy",
		"-server-host", topo.Server, "-load-hosts", strings.Join(loadHosts, ","))
	checkNothingLeft(t, topo)
	if run.Status != results.StatusComplete || run.Failures != 0 || len(scs) != 2 {
		t.Fatalf("run: status %s, %d failures, %d files; stderr:\n%s", run.Status, run.Failures, len(scs), stderr)
	}
	if run.Config.ServerHost != topo.Server || strings.Join(run.Config.LoadHosts, ",") != strings.Join(loadHosts, ",") {
		t.Errorf("config: server host %q, load hosts %v", run.Config.ServerHost, run.Config.LoadHosts)
	}
	wantAddr := map[string]string{topo.Server: topo.ServerAddr, topo.Load1: topo.Load1Addr, topo.Load2: topo.Load2Addr}
	if len(run.Hosts) != 3 {
		t.Fatalf("%d hosts recorded, want 3: %+v", len(run.Hosts), run.Hosts)
	}
	for _, h := range run.Hosts {
		if h.Addr != wantAddr[h.Spec] || h.Env == nil || h.Env.Kernel == "" || h.Error != "" || h.ClockRTTMS <= 0 {
			t.Errorf("host %+v: want address %s, a description, a clock reading", h, wantAddr[h.Spec])
		}
	}
	for _, sc := range scs {
		name := sc.Scenario + "-" + sc.Server
		if len(sc.Levels) != 1 || len(sc.Failures) > 0 {
			t.Errorf("%s: %d levels, failures %+v", name, len(sc.Levels), sc.Failures)
			continue
		}
		m := sc.Levels[0].Repeats[0]
		checkMerged(t, name, m.Load, loadHosts)
		if len(m.Samples) < 4 || m.Point.Threads == 0 || m.ServerCPUUtil <= 0 || m.LoadCPUUtil <= 0 {
			t.Errorf("%s: implausible samples: %d samples, point %+v, server cpu %v, load cpu %v", name, len(m.Samples), m.Point, m.ServerCPUUtil, m.LoadCPUUtil)
		}
		if !strings.Contains(strings.Join(sc.Command, " "), topo.ServerAddr) {
			t.Errorf("%s: the server was not told to listen on %s: %v", name, topo.ServerAddr, sc.Command)
		}
		switch sc.Scenario {
		case "idle":
			// 200 idle and 4 probe connections, counted by the agent in
			// the server's namespace on the server's address.
			if m.ServerConns < 200 || m.Load.IdleAlive != 200 {
				t.Errorf("%s: server_conns %d idle_alive %d, want >= 200 and 200", name, m.ServerConns, m.Load.IdleAlive)
			}
		case "proxy":
			checkProxyLevel(t, name, sc.Server, m)
		}
	}
}

// TestBenchOverSSH runs the same path over OpenSSH: the server's host and
// one load host are reached by ssh (each an sshd in its namespace, a key
// made for the test), the other load host by ip netns exec. The binary is
// copied to the ssh hosts, the server sampled over the ssh channel.
func TestBenchOverSSH(t *testing.T) {
	topo := netnstest.Up(t)
	serverHost, cfg := topo.SSHD(t, topo.Server)
	loadSSH, _ := topo.SSHD(t, topo.Load2)
	loadHosts := []string{topo.Load1, loadSSH}
	run, scs, stderr := benchOn(t, os.Args[0], "-models", "epoll", "-scenarios", "concurrency",
		"-server-host", serverHost, "-load-hosts", strings.Join(loadHosts, ","), "-ssh-config", cfg)
	checkNothingLeft(t, topo)
	if run.Status != results.StatusComplete || run.Failures != 0 || len(scs) != 1 || len(scs[0].Levels) != 1 {
		t.Fatalf("run: status %s, %d failures, %d files; stderr:\n%s", run.Status, run.Failures, len(scs), stderr)
	}
	m := scs[0].Levels[0].Repeats[0]
	checkMerged(t, "concurrency-epoll", m.Load, loadHosts)
	if len(m.Samples) < 4 || m.ServerConns != 10 || m.ServerCPUUtil <= 0 {
		t.Errorf("server sampled over ssh: %d samples, %d connections at the point, cpu %v", len(m.Samples), m.ServerConns, m.ServerCPUUtil)
	}
}

// TestBenchWithAnUnreachableHost fails every level with a "host" failure
// that names the host, and still completes the run.
func TestBenchWithAnUnreachableHost(t *testing.T) {
	topo := netnstest.Up(t)
	_, cfg := topo.SSHD(t, topo.Load2)
	dead := "ssh://root@" + strings.TrimSuffix(topo.Load2Addr, ".12") + ".99"
	run, scs, stderr := benchOn(t, os.Args[0], "-models", "epoll", "-scenarios", "concurrency",
		"-server-host", topo.Server, "-load-hosts", topo.Load1+","+dead, "-ssh-config", cfg)
	checkNothingLeft(t, topo)
	if run.Status != results.StatusComplete || run.Failures != 1 || len(scs) != 1 || len(scs[0].Failures) != 1 {
		t.Fatalf("run: status %s, %d failures; stderr:\n%s", run.Status, run.Failures, stderr)
	}
	f := scs[0].Failures[0]
	if f.Kind != results.FailureHost || !strings.Contains(f.Reason, dead) {
		t.Errorf("failure %+v: want kind %q naming %s", f, results.FailureHost, dead)
	}
	var recorded bool
	for _, h := range run.Hosts {
		recorded = recorded || (h.Spec == dead && h.Error != "")
	}
	if !recorded {
		t.Errorf("run.json hosts do not record %s's error: %+v", dead, run.Hosts)
	}
}

// TestBenchWithALoadAgentKilled kills the load process in one load
// namespace during the level: the level fails naming that host, the run
// completes, and nothing is left running in any namespace.
func TestBenchWithALoadAgentKilled(t *testing.T) {
	topo := netnstest.Up(t)
	victim := strings.TrimPrefix(topo.Load2, "netns:")
	killed := make(chan string, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, _ := exec.Command("ip", "netns", "pids", victim).Output()
			for _, pid := range strings.Fields(string(out)) {
				cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				args := strings.Split(string(cmdline), "\x00")
				if len(args) > 1 && args[1] == "load" {
					exec.Command("kill", "-KILL", pid).Run()
					killed <- pid
					return
				}
			}
		}
	}()
	run, scs, stderr := benchOn(t, os.Args[0], "-models", "epoll", "-scenarios", "concurrency",
		"-server-host", topo.Server, "-load-hosts", topo.Load1+","+topo.Load2)
	select {
	case <-killed:
	default:
		t.Fatal("no load process seen in the second load namespace")
	}
	checkNothingLeft(t, topo)
	if run.Status != results.StatusComplete || run.Failures != 1 || len(scs) != 1 || len(scs[0].Failures) != 1 {
		t.Fatalf("run: status %s, %d failures; stderr:\n%s", run.Status, run.Failures, stderr)
	}
	if f := scs[0].Failures[0]; f.Kind != results.FailureHost || !strings.Contains(f.Reason, topo.Load2) {
		t.Errorf("failure %+v: want kind %q naming %s", f, results.FailureHost, topo.Load2)
	}
}

// TestSIGKILLedBenchAcrossHostsLeavesNothing kills a bench with SIGKILL
// while its server runs in one namespace and its load in two others, one
// reached over ssh: the server, the load processes here and the agent at
// the far end of the ssh channel must all go.
func TestSIGKILLedBenchAcrossHostsLeavesNothing(t *testing.T) {
	topo := netnstest.Up(t)
	loadSSH, cfg := topo.SSHD(t, topo.Load2)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "bench", "-smoke", "-models", "epoll", "-scenarios", "idle", "-out", out,
		"-server-host", topo.Server, "-load-hosts", topo.Load1+","+loadSSH, "-ssh-config", cfg)
	cmd.Env = append(os.Environ(), benchTestEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	// A load process in each load namespace and the server in its own.
	running := func(ns, command string) bool {
		pids, _ := exec.Command("ip", "netns", "pids", strings.TrimPrefix(ns, "netns:")).Output()
		for _, pid := range strings.Fields(string(pids)) {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			if args := strings.Split(string(cmdline), "\x00"); len(args) > 1 && args[1] == command {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(60 * time.Second)
	for !running(topo.Server, "serve") || !running(topo.Load1, "load") || !running(topo.Load2, "load") {
		if time.Now().After(deadline) {
			t.Fatal("the server and both load processes did not all start within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// The ssh end learns of the death when its channel closes.
	deadline = time.Now().Add(15 * time.Second)
	for running(topo.Server, "serve") || running(topo.Load1, "load") || running(topo.Load2, "load") ||
		running(topo.Load2, "agent") || running(topo.Server, "agent") {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkNothingLeft(t, topo)
	stale, _ := filepath.Glob(filepath.Join(os.TempDir(), "c10k-bench-"+strconv.Itoa(cmd.Process.Pid)+"-*"))
	for _, d := range stale {
		os.RemoveAll(d)
	}
}
