package harness

import (
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"c10k/harness/proc"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

// The backend of the proxy scenarios is our own epoll model with -wait:
// it answers each request after the wait without blocking, so one core
// holds thousands of requests waiting and the backend is never what
// limits the server under test. It is started before the server (whose
// configuration names its address), sampled like a server, and stopped
// after the level.

// backendModel is the model the backend runs.
const backendModel = "epoll"

// backend is a started backend.
type backend struct {
	p      child
	port   int
	args   []string
	cpus   string
	waitMS float64
	stderr *proc.Tail
	smp    probe
}

// addr is the backend's HOST:PORT, for the server's -upstream.
func (b *backend) addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// backendCPUs picks the backend's CPUs: the CPUs the harness may use that
// neither the server nor the load generator is pinned to, when there are
// any (a set of its own); else the load generator's, so that the server's
// CPUs stay the server's alone.
func backendCPUs(serverCPUs, loadCPUs string) string {
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		return loadCPUs
	}
	return spareCPUs(mine, serverCPUs, loadCPUs)
}

// spareCPUs is the CPUs of avail outside the server's and load's lists,
// or loadCPUs when none is left.
func spareCPUs(avail unix.CPUSet, serverCPUs, loadCPUs string) string {
	for _, list := range []string{serverCPUs, loadCPUs} {
		set, err := proc.ParseCPUList(list)
		if err != nil {
			return loadCPUs
		}
		for c := 0; c < len(set)*64; c++ {
			if set.IsSet(c) {
				avail.Clear(c)
			}
		}
	}
	if avail.Count() == 0 {
		return loadCPUs
	}
	return proc.FormatCPUList(avail)
}

// startBackend starts the level's backend, pinned to its CPUs, waits
// until it listens and starts sampling it.
func (h *harness) startBackend(sc results.ScenarioConfig, epoch time.Time) (*backend, error) {
	b := &backend{stderr: proc.NewTail(stderrLines), cpus: h.run.Config.BackendCPUs, waitMS: sc.BackendWaitMS}
	// On another host the agent counts the backend's connections by its
	// port, so the port is chosen here.
	addr, port := "127.0.0.1:0", 0
	if h.hosts.remote() {
		port = pickPort(h.env.PortRangeLow)
		addr = "127.0.0.1:" + strconv.Itoa(port)
	}
	args := []string{"serve", "-model", backendModel, "-addr", addr,
		"-body", strconv.Itoa(h.opt.BodyBytes), "-wait", fmtDur(sc.BackendWaitMS * 1e6)}
	lines := newLineWatch("listening on ")
	// The private copy of the binary, as for the load generator: the
	// backend must not share executable pages with a model under test.
	p, err := h.startChild(proc.Spec{Path: h.loadBinary, Args: args, CPUs: b.cpus, Stdout: lines, Stderr: b.stderr},
		h.hosts.backBin, "127.0.0.1", port, epoch)
	if err != nil {
		return nil, fmt.Errorf("harness: starting the backend: %w", err)
	}
	b.p = p
	b.args = append([]string{h.loadBinary}, args...)
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	select {
	case line := <-lines.found:
		b.port, err = parseListening(line)
	case <-p.Exited():
		err = fmt.Errorf("%w: the backend exited before listening", ErrNotReady)
	case <-deadline.C:
		err = fmt.Errorf("%w: the backend printed no %q line in %v", ErrNotReady, "listening on", readyTimeout)
	case <-h.ctx.Done():
		err = contextErr(h)
	}
	if err != nil {
		return b, err
	}
	b.smp = p.probe(h.opt.Period, b.port, epoch)
	if _, remote := p.(remoteChild); remote {
		_, _ = b.smp.Take() // the local sampler takes its first at once
	}
	return b, nil
}

// stop stops sampling and the backend; it returns the samples and how the
// backend ended.
func (b *backend) stop() ([]results.Sample, string) {
	var samples []results.Sample
	if b.smp != nil {
		_, _ = b.smp.Take()
		samples, _ = b.smp.Stop()
		b.smp = nil
	}
	var exit string
	if b.p != nil {
		st, err := b.p.Stop(stopGrace)
		exit = proc.ExitString(st)
		if err != nil {
			exit += " (" + err.Error() + ")"
		}
		b.p = nil
	}
	return samples, exit
}

// figures summarises the backend's samples over the load's window w:
// its state before the load and at the server's point, and its CPU.
func (b *backend) figures(samples []results.Sample, w window, pointT float64, exit string) *results.Backend {
	out := &results.Backend{Command: b.args, CPUs: b.cpus, WaitMS: b.waitMS, Port: b.port, Exit: exit, Samples: samples}
	if len(samples) == 0 {
		return out
	}
	out.Baseline = samples[0].Proc
	pt := samples[nearest(samples, pointT)]
	out.Point, out.Conns = pt.Proc, max(pt.ServerConns, 0)
	if a, z := bracket(samples, w, func(*results.Sample) bool { return true }); a >= 0 {
		ua, ya := cpuOf(&samples[a])
		uz, yz := cpuOf(&samples[z])
		out.CPUUtil = (uz - ua + yz - ya) / (samples[z].T - samples[a].T)
	}
	return out
}

// upstreamArgs are a model's flags to proxy to b at one level.
func upstreamArgs(b *backend, sc results.ScenarioConfig, level int) []string {
	return []string{"-upstream", b.addr(), "-fanout", strconv.Itoa(max(scenario.Fanout(sc, level), 1))}
}
