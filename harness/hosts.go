package harness

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"c10k/harness/proc"
	"c10k/harness/procfs"
	"c10k/harness/results"
	"c10k/harness/sampler"
	"c10k/hosts"
	"c10k/hosts/agent"
)

// hostTimeout bounds each step of setting a host up: copying the binary
// (tens of MB over ssh), reading its clock and its description.
const hostTimeout = 2 * time.Minute

// hostSet is where a run's processes go: the server host, which runs the
// servers and the proxy scenarios' backend, and the load hosts. A run
// given neither has a local server host and no load hosts, and runs as it
// always did.
type hostSet struct {
	server  *hosts.Host
	addr    string        // the server host's address, where the load goes
	offset  time.Duration // the server host's clock minus the harness's
	bin     string        // opt.Binary on the server host: the models
	backBin string        // the harness's private copy there: the backend
	load    []*hosts.Host
	offsets map[string]time.Duration // per load host
	err     error                    // a host could not be set up: every level fails with it
	control string                   // the ssh connections' directory
	masters []func()                 // closes them
}

// parseHosts reads Options' hosts; bad specifications are usage errors.
func parseHosts(opt Options) (*hostSet, error) {
	o := hosts.Options{SSHConfig: opt.SSHConfig}
	server, err := hosts.Parse(opt.ServerHost, o)
	if err != nil {
		return nil, fmt.Errorf("harness: -server-host: %w", err)
	}
	var load []*hosts.Host
	for _, spec := range opt.LoadHosts {
		h, err := hosts.Parse(spec, o)
		if err != nil {
			return nil, fmt.Errorf("harness: -load-hosts: %w", err)
		}
		load = append(load, h)
	}
	return &hostSet{server: server, addr: "127.0.0.1", load: load, offsets: map[string]time.Duration{}}, nil
}

// remote reports whether the servers run on another host.
func (hs *hostSet) remote() bool { return !hs.server.IsLocal() }

// elsewhere reports whether any process of the run leaves this host.
func (hs *hostSet) elsewhere() bool { return hs.remote() || len(hs.load) > 0 }

// setupHosts gets every host ready: the binaries copied to the server
// host, and each host's address, clock offset and description recorded
// in run.json. A host that cannot be reached is recorded with its error,
// and every level then fails saying so: the run still ends with its
// files, and nothing was left running anywhere.
func (h *harness) setupHosts() {
	if !h.hosts.elsewhere() {
		return
	}
	// Now that the scratch directory can hold the sockets of one ssh
	// connection per host, every command to a host shares its one.
	hs := h.hosts
	hs.control = h.scratch
	hs.server.ShareConnections(hs.control)
	for _, l := range hs.load {
		l.ShareConnections(hs.control)
	}
	h.run.Config.ServerHost = hs.server.String()
	for _, l := range hs.load {
		h.run.Config.LoadHosts = append(h.run.Config.LoadHosts, l.String())
	}
	rec, offset, backBin, err := h.describeHost(hs.server, results.HostServer)
	hs.offset, hs.backBin = offset, backBin
	if err == nil {
		hs.addr = rec.Addr
		hs.bin, err = hs.install(h.ctx, h.opt.Binary)
	}
	if err != nil {
		rec.Error, hs.err = err.Error(), err
	}
	h.run.Hosts = append(h.run.Hosts, rec)
	for _, l := range hs.load {
		rec, offset, _, err := h.describeHost(l, results.HostLoad)
		if err != nil {
			rec.Error = err.Error()
			if hs.err == nil {
				hs.err = err
			}
		}
		hs.offsets[l.String()] = offset
		h.run.Hosts = append(h.run.Hosts, rec)
	}
}

// onServer names the server host in a message about the server, when it
// is not this machine.
func (hs *hostSet) onServer(msg string) string {
	if !hs.remote() {
		return msg
	}
	return msg + " (on host " + hs.server.String() + ")"
}

// installedOnServerHost says why a peer's binary cannot run on the server
// host: a peer runs there if it is installed there. A host that shares
// this machine's files has what this machine has.
func (h *harness) installedOnServerHost(binary string) error {
	host := h.hosts.server
	if host.SharesFiles() {
		return nil
	}
	ctx, cancel := context.WithTimeout(h.ctx, hostTimeout)
	defer cancel()
	if err := host.Command(ctx, "test", "-x", binary).Run(); err != nil {
		return fmt.Errorf("%s is not installed on host %s (%v)", binary, host, err)
	}
	return nil
}

// close closes the hosts' ssh connections.
func (hs *hostSet) close() {
	for _, stop := range hs.masters {
		stop()
	}
	hs.masters = nil
}

// install copies bin to the server host.
func (hs *hostSet) install(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, hostTimeout)
	defer cancel()
	return hs.server.Install(ctx, bin)
}

// describeHost reads a host's address, clock offset and description. The
// agent that answers runs the harness's private binary, installed there
// first; bin is its path on the host (the backend runs it too).
func (h *harness) describeHost(host *hosts.Host, role string) (rec results.Host, offset time.Duration, bin string, err error) {
	rec = results.Host{Spec: host.String(), Role: role}
	ctx, cancel := context.WithTimeout(h.ctx, hostTimeout)
	defer cancel()
	stop, err := host.Master(ctx)
	if err != nil {
		return rec, 0, "", err
	}
	h.hosts.masters = append(h.hosts.masters, stop)
	if rec.Addr, err = host.Addr(ctx); err != nil {
		return rec, 0, "", err
	}
	if bin, err = host.Install(ctx, h.loadBinary); err != nil {
		return rec, 0, "", err
	}
	offset, rtt, err := agent.Clock(ctx, host, bin)
	if err != nil {
		return rec, 0, bin, err
	}
	rec.ClockOffsetMS, rec.ClockRTTMS = ms(offset), ms(rtt)
	env, err := agent.Env(ctx, host, bin)
	if err != nil {
		return rec, offset, bin, err
	}
	rec.Env = &env
	return rec, offset, bin, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkHosts says why a level cannot run on the hosts: one could not be
// set up, or one's clock is off by more than the level's measured window,
// so that its samples could not be placed in it.
func (h *harness) checkHosts(sc results.ScenarioConfig) error {
	hs := h.hosts
	if hs.err != nil {
		return hs.err
	}
	window := time.Duration(sc.DurationS * float64(time.Second))
	check := func(host *hosts.Host, off time.Duration) error {
		if off.Abs() > window {
			return fmt.Errorf("host %s: its clock is %v off this machine's, more than the level's %v window", host, off.Round(time.Millisecond), window)
		}
		return nil
	}
	if err := check(hs.server, hs.offset); err != nil {
		return err
	}
	for _, l := range hs.load {
		if err := check(l, hs.offsets[l.String()]); err != nil {
			return err
		}
	}
	return nil
}

// child is a started server or backend: a process here, or an agent's
// session on the server host.
type child interface {
	Exited() <-chan struct{}
	Stop(grace time.Duration) (*os.ProcessState, error)
	// probe starts sampling the child, counting the connections to port.
	probe(period time.Duration, port int, epoch time.Time) probe
	// tree samples the child's process tree once.
	tree() (results.Proc, error)
}

// localChild is a child running here: sampled from this machine's /proc.
type localChild struct{ *proc.Process }

func (c localChild) probe(period time.Duration, port int, epoch time.Time) probe {
	return sampler.Start(sampler.Config{Root: c.PID(), Port: port, Period: period, Epoch: epoch})
}

func (c localChild) tree() (results.Proc, error) { return procfs.SampleTree(c.PID()) }

// remoteChild is a child an agent runs on the server host: sampled there,
// through the agent's session.
type remoteChild struct{ *agent.Session }

func (c remoteChild) probe(period time.Duration, _ int, epoch time.Time) probe {
	return newSessionProbe(c.Session, epoch, period)
}

func (c remoteChild) tree() (results.Proc, error) {
	s, err := c.Take()
	return s.Proc, err
}

// probe samples a server: the local sampler, or the server host's agent.
type probe interface {
	Take() (results.Sample, error)
	Stop() ([]results.Sample, error)
	SetLoad(pid int)
}

// startChild starts spec on the server host: here with proc.Start, there
// under an agent that samples it every period, counting the connections
// to addr:port, on the level's clock. bin is spec.Path's copy on the host.
func (h *harness) startChild(spec proc.Spec, bin, addr string, port int, epoch time.Time) (child, error) {
	if !h.hosts.remote() {
		p, err := proc.Start(spec)
		if err != nil {
			return nil, err
		}
		return localChild{p}, nil
	}
	argv := append([]string{spec.Path}, spec.Args...)
	if spec.Path == h.opt.Binary || spec.Path == h.loadBinary {
		argv = spec.Args // a c10k command: the agent runs its own binary
	}
	s, err := agent.Start(h.hosts.server, agent.Spec{Bin: bin, Argv: argv, CPUs: spec.CPUs, Period: h.opt.Period,
		Addr: addr, Port: port, Epoch: epoch, Offset: h.hosts.offset, Stdout: spec.Stdout, Stderr: spec.Stderr})
	if err != nil {
		return nil, err
	}
	return remoteChild{s}, nil
}

// sessionProbe samples through an agent's session. The agent samples from
// the child's start; the figures begin at the first sample taken here (the
// baseline), as with the local sampler. The load generator runs here (its
// processes here too, or on hosts that share this machine's /proc, or out
// of sight over ssh): its tree is sampled here and each server sample gets
// the load sample nearest in time.
type sessionProbe struct {
	s      *agent.Session
	epoch  time.Time
	period time.Duration
	from   float64
	set    bool

	mu       sync.Mutex
	load     []results.Sample // T and Load only
	stopLoad chan struct{}
	loadDone chan struct{}
}

func newSessionProbe(s *agent.Session, epoch time.Time, period time.Duration) *sessionProbe {
	return &sessionProbe{s: s, epoch: epoch, period: period}
}

func (p *sessionProbe) Take() (results.Sample, error) {
	smp, err := p.s.Take()
	if err == nil && !p.set {
		p.from, p.set = smp.T, true
	}
	return smp, err
}

func (p *sessionProbe) Stop() ([]results.Sample, error) {
	p.SetLoad(0)
	all := p.s.Samples()
	out := all[:0]
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, smp := range all {
		if smp.T < p.from {
			continue
		}
		if l := nearestLoad(p.load, smp.T, p.period.Seconds()); l != nil {
			smp.Load = l
		}
		out = append(out, smp)
	}
	return out, nil
}

// SetLoad samples the load generator's tree (pid) here every period from
// now on; 0 stops.
func (p *sessionProbe) SetLoad(pid int) {
	if p.stopLoad != nil {
		close(p.stopLoad)
		<-p.loadDone
		p.stopLoad = nil
	}
	if pid <= 0 {
		return
	}
	p.stopLoad, p.loadDone = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(p.period)
		defer t.Stop()
		for {
			if lp, err := procfs.SampleTree(pid); err == nil {
				p.mu.Lock()
				p.load = append(p.load, results.Sample{T: time.Since(p.epoch).Seconds(), Load: &lp})
				p.mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}(p.stopLoad, p.loadDone)
}

// nearestLoad is the load reading taken closest to t, if one is within
// tol seconds of it.
func nearestLoad(load []results.Sample, t, tol float64) *results.Proc {
	var best *results.Proc
	bestD := tol
	for i := range load {
		if d := math.Abs(load[i].T - t); d <= bestD {
			best, bestD = load[i].Load, d
		}
	}
	return best
}

// loadArgs are the load generator's flags that send its processes to the
// load hosts, pinned there to the load CPUs.
func (hs *hostSet) loadArgs(opt Options) []string {
	if len(hs.load) == 0 {
		return nil
	}
	specs := make([]string, len(hs.load))
	for i, l := range hs.load {
		specs[i] = l.String()
	}
	a := []string{"-hosts", strings.Join(specs, ",")}
	if opt.LoadCPUs != "" {
		a = append(a, "-host-cpus", opt.LoadCPUs)
	}
	if opt.SSHConfig != "" {
		a = append(a, "-ssh-config", opt.SSHConfig)
	}
	if hs.control != "" {
		a = append(a, "-ssh-control", hs.control)
	}
	return a
}
