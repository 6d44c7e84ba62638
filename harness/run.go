package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"c10k/harness/peers"
	"c10k/harness/proc"
	"c10k/harness/procfs"
	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

// harness is one run in progress.
type harness struct {
	ctx   context.Context
	opt   Options
	env   results.Env
	start time.Time
	run   results.Run
	plan  scenario.Plan
	out   *store
	prog  *progress

	guard      *guard   // stops a server climbing the scale scenario at a limit
	hosts      *hostSet // where the servers run and the load comes from
	loadBinary string   // a private copy of opt.Binary for the load generator
	scratch    string   // the run's temporary files; see makeScratch

	confMu sync.Mutex
	confs  map[string]bool // peer configurations already copied into the run
}

// Notes written into every run.json: how to read the figures.
var runNotes = []string{
	"per_conn figures are (point - baseline) / server_conns: the growth of the server tree (PSS, RSS, threads, fds) and of the machine-wide kernel counters from before the load to the middle of the measured window, divided by the connections the kernel says the server had accepted then",
	"machine-wide deltas (kernel_stack, page_tables, socket/slab, tcp_mem) include the load generator's side of every socket and anything else that ran on the machine: other_cpu_util and noisy say how busy the rest of the machine was",
	"context switches are summed over every thread only while the server has at most 2,000 threads on every sample; above that, once a second (ctxt_all_threads in each sample says which)",
	"each level runs against a fresh server process; Go servers run with GOMAXPROCS unset, so the Go runtime sizes it from the CPU affinity (1 when pinned to one CPU)",
	"the load generator runs from a private copy of the c10k binary: sharing the server's executable pages would lower the server's PSS the moment it starts, and bias every per-connection PSS figure",
	"proxy and gather levels put a real backend behind the server: `c10k serve -model epoll -wait 10ms`, started before the server from the load generator's private binary, pinned to backend_cpus (the load generator's CPUs unless the machine has CPUs to spare), sampled apart (measurement.backend) and stopped after the level; the server's per_conn figures include its upstream sockets, and in closed loop, with one request in flight per connection, they are also the cost per in-flight request",
}

// Run runs the plan described by opt and writes the run directory. It
// returns ErrInterrupted (wrapped) when ctx is cancelled; the directory is
// then complete as far as it goes and marked incomplete.
func Run(ctx context.Context, opt Options) (results.Run, error) {
	h := &harness{ctx: ctx, opt: opt, start: time.Now(), confs: map[string]bool{}}
	if err := h.prepare(); err != nil {
		return h.run, err
	}
	if opt.DryRun {
		return h.run, nil
	}
	scratch, err := makeScratch()
	if err != nil {
		return h.run, h.finish(err)
	}
	h.scratch = scratch
	defer os.RemoveAll(scratch)     // after StopAll: the children go before their files
	defer proc.StopAll(time.Second) // the last line of defence; normally a no-op
	if err := h.copyLoadBinary(); err != nil {
		return h.run, h.finish(err)
	}
	h.setupHosts()
	defer h.hosts.close()
	if spreads(h.run.Config.Scenarios) {
		h.run.Sysctls = tuneKernel(scaleNeeds, h.env, scratch)
		if env, err := procfs.ReadEnv(); err == nil {
			h.env.Somaxconn = env.Somaxconn // the peers' backlog follows the tuned value
		}
		defer func() {
			if rerr := restoreKernel(h.run.Sysctls); rerr != nil {
				h.run.Warnings = append(h.run.Warnings, rerr.Error())
				_ = h.writeRun()
			}
		}()
	}
	err = h.execute()
	return h.run, err
}

// prepare reads the machine, resolves the servers, makes the plan and
// writes the first run.json.
func (h *harness) prepare() error {
	if h.opt.Period <= 0 {
		h.opt.Period = 250 * time.Millisecond
	}
	if h.opt.BodyBytes <= 0 {
		h.opt.BodyBytes = len(peers.Body)
	}
	grid := h.opt.Custom
	if grid == nil {
		var err error
		if grid, err = scenario.Grid(h.opt.Grid); err != nil {
			return err
		}
	}
	grid, err := scenario.Select(grid, h.opt.Scenarios)
	if err != nil {
		return err
	}
	grid = placeServers(grid)
	if h.hosts, err = parseHosts(h.opt); err != nil {
		return err
	}
	raiseFileLimit()
	if h.opt.BackendCPUs == "" {
		h.opt.BackendCPUs = backendCPUs(h.opt.ServerCPUs, h.opt.LoadCPUs)
	}
	env, envErr := procfs.ReadEnv()
	h.env = env
	h.run = results.Run{
		ID:        filepath.Base(h.opt.OutDir),
		Started:   h.start,
		Status:    results.StatusRunning,
		Version:   h.opt.Version,
		GitCommit: gitCommit(),
		Env:       env,
		Notes:     runNotes,
		Config: results.Config{
			Full: h.opt.Grid == scenario.Full, Repeats: h.opt.repeats(), Scenarios: grid,
			ServerCPUs: h.opt.ServerCPUs, LoadCPUs: h.opt.LoadCPUs, BodyBytes: h.opt.BodyBytes,
			Grid: h.opt.Grid, SampleMS: int(h.opt.Period / time.Millisecond), Binary: h.opt.Binary,
			BackendCPUs: h.opt.BackendCPUs,
		},
	}
	h.run.HarnessPID = os.Getpid()
	h.run.HarnessStart, _ = proc.StartTime(os.Getpid()) // 0: Orphaned then never fires, as for old runs
	if envErr != nil {
		h.run.Warnings = append(h.run.Warnings, "environment partly unread: "+envErr.Error())
	}
	servers, warnings, err := h.resolveServers()
	if err != nil {
		return err
	}
	h.run.Warnings = append(h.run.Warnings, warnings...)
	h.run.Config.Servers = names(servers)
	h.run.Peers = map[string]string{}
	for _, s := range servers {
		if s.peer != nil {
			h.run.Peers[s.Name] = s.version
		}
	}
	specs := make([]scenario.Server, len(servers))
	for i, s := range servers {
		specs[i] = s.Server
	}
	h.plan = scenario.MakePlan(grid, specs, h.opt.repeats(), scenario.Limits{
		NoFile: env.NoFileHard, PidMax: env.PidMax, ThreadsMax: env.ThreadsMax, TasksInUse: procfs.MachineThreads(),
	})
	h.run.Warnings = append(h.run.Warnings, h.plan.Warnings...)
	h.run.Skipped = h.plan.Skipped
	h.run.SitOuts = h.plan.SitOuts
	h.run.Planned = len(h.plan.Steps)
	h.run.EstimateS = h.plan.EstimateS()
	if h.opt.DryRun {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(h.opt.OutDir, results.HgrmDir), 0o755); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	h.out = newStore(h.opt.OutDir, servers, h.plan)
	h.guard = newGuard(env.MemTotal)
	h.prog = newProgress(h.opt.Progress, h.opt.Terminal, h.plan)
	for _, w := range h.run.Warnings {
		h.prog.warn(w)
	}
	return h.writeRun()
}

// placeServers fills in the CPU list of each scenario whose server takes
// every CPU: every CPU the harness may run on, which includes the load
// generator's.
func placeServers(grid []results.ScenarioConfig) []results.ScenarioConfig {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return grid // the scenario then runs on the run's server CPUs, and says so
	}
	out := slices.Clone(grid)
	for i, sc := range out {
		if sc.ServerAllCPUs && sc.ServerCPUs == "" {
			out[i].ServerCPUs = proc.FormatCPUList(all)
		}
	}
	return out
}

// resolveServers turns the requested names into servers: our models run
// as they are; a peer runs only if installed (a warning otherwise).
func (h *harness) resolveServers() ([]server, []string, error) {
	want := h.opt.Servers
	explicit := len(want) > 0
	if !explicit {
		want = registry.Names(registry.Servers)
	}
	var out []server
	var warnings []string
	for _, n := range want {
		e, ok := registry.Lookup(n)
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("harness: unknown server %q (models: %s; peers: %s)", n,
				strings.Join(registry.Names(registry.OfKind(results.KindModel)), ", "),
				strings.Join(registry.Names(registry.OfKind(results.KindPeer)), ", "))
		case e.Peer == nil:
			out = append(out, server{Server: e, version: h.opt.Version})
		default:
			p, err := peers.Lookup(e, h.opt.ScriptsDir)
			if err != nil {
				if explicit || !errors.Is(err, peers.ErrNotInstalled) {
					warnings = append(warnings, "peer skipped: "+err.Error())
				} else {
					warnings = append(warnings, "peer not installed, skipped (scripts/install-peers.sh): "+err.Error())
				}
				continue
			}
			if err := h.installedOnServerHost(p.Binary()); err != nil {
				warnings = append(warnings, "peer skipped: "+err.Error())
				continue
			}
			// p.Entry, not e: Lookup took away what a missing module forbids.
			out = append(out, server{Server: p.Entry, peer: &p, version: p.Version})
		}
	}
	if len(out) == 0 {
		return nil, nil, errors.New("harness: no server to run")
	}
	return out, warnings, nil
}

func names(ss []server) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

// execute runs every step, writing files after each.
func (h *harness) execute() error {
	var err error
	for i, st := range h.plan.Steps {
		if h.ctx.Err() != nil {
			err = ErrInterrupted
			break
		}
		if why := h.guardLevel(st); why != "" {
			sk := results.Skip{Scenario: st.Scenario.Name, Server: st.Server.Name, Level: st.Level, Reason: why}
			h.out.unplan(st, sk)
			h.run.Skipped = append(h.run.Skipped, sk)
			h.prog.warn(fmt.Sprintf("%s %s %d skipped: %s", st.Scenario.Name, st.Server.Name, st.Level, why))
			continue
		}
		h.prog.begin(i, st)
		res := h.runLevel(st)
		h.guard.after(st, res)
		h.out.record(st, res)
		if res.interrupted {
			err = ErrInterrupted
		} else {
			h.run.Done++
		}
		if werr := h.flush(st); werr != nil {
			return h.finish(werr)
		}
		h.prog.end(i, st, res)
		if err != nil {
			break
		}
	}
	return h.finish(err)
}

// spreads says whether a scenario spreads its levels over processes (and
// so needs the kernel tuned for a million connections).
func spreads(grid []results.ScenarioConfig) bool {
	return slices.ContainsFunc(grid, func(sc results.ScenarioConfig) bool { return sc.ConnsPerProc > 0 })
}

// guardLevel says why st must not run (see guard), reading the machine's
// available memory now; "" lets it run.
func (h *harness) guardLevel(st scenario.Step) string {
	if st.Scenario.ConnsPerProc <= 0 {
		return ""
	}
	m, err := procfs.SampleMachine()
	if err != nil {
		return "" // unreadable: the level runs, as it would without a guard
	}
	return h.guard.check(st, m.MemAvailable)
}

// flush writes the scenario file of st and run.json.
func (h *harness) flush(st scenario.Step) error {
	files, err := h.out.write(st.Scenario.Name, st.Server.Name)
	if err != nil {
		return err
	}
	h.run.Files = files
	h.run.Failures = h.out.failures()
	return h.writeRun()
}

func (h *harness) finish(err error) error {
	h.prog.done()
	h.run.Finished = time.Now()
	switch {
	case err == nil:
		h.run.Status = results.StatusComplete
	case errors.Is(err, ErrInterrupted):
		h.run.Status = results.StatusIncomplete
		h.run.Error = "interrupted: " + context.Cause(h.ctx).Error()
	default:
		h.run.Status = results.StatusIncomplete
		h.run.Error = err.Error()
	}
	if !proc.Contained() {
		h.run.Warnings = append(h.run.Warnings, "the kernel refused PID namespaces: had the harness been killed with SIGKILL, a peer's worker processes could have outlived it")
	}
	h.out.markIncomplete()
	if files, werr := h.out.writeAll(); werr != nil {
		err = errors.Join(err, werr)
	} else {
		h.run.Files = files
	}
	h.run.Failures = h.out.failures()
	if werr := h.writeRun(); werr != nil {
		err = errors.Join(err, werr)
	}
	return err
}

func (h *harness) writeRun() error {
	h.run.WallTimeS = time.Since(h.start).Seconds()
	return results.WriteJSON(filepath.Join(h.opt.OutDir, results.RunFile), h.run)
}

// keepPeerConf copies a peer's rendered configuration into the run
// directory once, for the record.
func (h *harness) keepPeerConf(name, path string) {
	h.confMu.Lock()
	defer h.confMu.Unlock()
	if h.confs[name] {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	dir := filepath.Join(h.opt.OutDir, "peers")
	if os.MkdirAll(dir, 0o755) == nil && results.WriteFile(filepath.Join(dir, name+".conf"), b) == nil {
		h.confs[name] = true
	}
}

// copyLoadBinary copies the c10k binary for the load generator into the
// scratch directory. PSS splits a shared page among its sharers: were the
// load generator the same file as one of our servers, its start would move
// the server's PSS by a megabyte or so between the baseline and the point.
func (h *harness) copyLoadBinary() error {
	src, err := os.ReadFile(h.opt.Binary)
	if err != nil {
		return fmt.Errorf("harness: copying the load generator binary: %w", err)
	}
	dst := filepath.Join(h.scratch, filepath.Base(h.opt.Binary))
	if err := os.WriteFile(dst, src, 0o755); err != nil {
		return fmt.Errorf("harness: copying the load generator binary: %w", err)
	}
	h.loadBinary = dst
	return nil
}

// raiseFileLimit raises RLIMIT_NOFILE's soft limit to the hard one for the
// harness and so for every server it starts. Go raises its own soft limit
// at start-up but gives children the original one back, unless the
// program sets the limit itself, as here: our Go models raise theirs
// anyway, nginx raises its own (worker_rlimit_nofile), Apache does not, and
// it must not lose a 10,000-connection level to a shell's default of 1,024.
func raiseFileLimit() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil || rl.Cur >= rl.Max {
		return
	}
	rl.Cur = rl.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) // best effort: Env records what is in force
}
