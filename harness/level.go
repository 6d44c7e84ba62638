package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"c10k/harness/proc"
	"c10k/harness/results"
	"c10k/harness/scenario"
	"c10k/loadgen"
	"c10k/loadgen/fleet"
)

// Timings of a level, beyond what the scenario sets.
const (
	settle     = 300 * time.Millisecond // after ready, before the baseline sample
	loadGrace  = 3 * time.Second        // for the load generator to write partial results after SIGTERM
	afterLevel = 300 * time.Millisecond // lets the kernel free the level's sockets before the next baseline
	// defaultTimeout is the load generator's request timeout (its own default).
	defaultTimeout = 2 * time.Second
)

// runLevel runs one step: a fresh server, a baseline, the load, samples,
// and the server stopped again. It never returns an error: what went wrong
// is a failure in the result.
func (h *harness) runLevel(st scenario.Step) levelResult {
	lv := &level{h: h, st: st, epoch: time.Now()}
	defer lv.cleanup()
	if err := h.checkHosts(st.Scenario); err != nil {
		lv.res.failure = lv.newFailure(results.FailureHost, err.Error())
		return lv.res
	}
	if !lv.startBackend() || !lv.startServer() {
		return lv.res
	}
	defer time.Sleep(afterLevel)
	baseline, ok := lv.takeBaseline()
	if !ok || !lv.startLoad() {
		return lv.res
	}
	samples, loadExit := lv.awaitLoad()
	exit := lv.rs.stop()
	backendSamples, backendExit := lv.stopBackend()
	if f := lv.res.failure; f != nil {
		return lv.fail(f, exit)
	}
	load, err := readLoad(lv.jsonTmp)
	switch {
	case err != nil && lv.res.interrupted:
		return lv.res
	case err != nil:
		return lv.fail(lv.newFailure(results.FailureLoad, fmt.Sprintf("load generator gave no result (%s): %v", loadExit, err)), exit)
	case refused(load):
		return lv.fail(lv.newFailure(results.FailureRefused, fmt.Sprintf("no request succeeded: errors %v", load.Errors)), exit)
	case lostAgent(load) != "":
		return lv.fail(lv.newFailure(results.FailureHost, lostAgent(load)), exit)
	}
	var be *results.Backend
	if lv.be != nil {
		w := loadWindow(lv.loadStart, load)
		be = lv.be.figures(backendSamples, w, (w.start+w.end)/2, backendExit)
	}
	lv.res.m = lv.measurement(baseline, samples, load, exit, be)
	return lv.res
}

// level is one step being run: the state its steps share.
type level struct {
	h     *harness
	st    scenario.Step
	epoch time.Time // the level's clock: samples and the window are seconds since it
	res   levelResult

	be        *backend      // the backend of a proxied level, once started
	rs        *running      // the server, once started
	smp       probe         // sampling the server, once it is up
	load      *proc.Process // the load generator, once started
	loadTail  *proc.Tail    // its stderr
	loadArgs  []string
	loadStart float64 // when the load generator started, on the level's clock
	// heldSample is the sample taken when the load generator said its idle
	// pool was open ("started"), in flight until Done.
	heldSample sync.WaitGroup
	// Where the load generator writes; the hgrm file is kept (renamed)
	// only with a measurement.
	jsonTmp, hgrmTmp string
}

// newFailure is a failure of kind seen now.
func (lv *level) newFailure(kind, reason string) *results.Failure {
	return &results.Failure{Level: lv.st.Level, Repeat: lv.st.Repeat, Kind: kind, Reason: reason,
		ElapsedS: time.Since(lv.epoch).Seconds()}
}

// fail makes f the level's result. The server must be stopped (exit is how
// it ended): its stderr is complete only once it was reaped.
func (lv *level) fail(f *results.Failure, exit string) levelResult {
	f.Exit = exit
	if lv.rs != nil {
		f.Stderr = lv.rs.lastWords()
	}
	if lv.loadTail != nil {
		f.Load = lv.loadTail.Lines()
	}
	lv.res.failure = f
	return lv.res
}

// stopAndFail stops what runs and fails the level with kind, timed after
// the stop.
func (lv *level) stopAndFail(kind, reason string) levelResult {
	exit := lv.stop()
	return lv.fail(lv.newFailure(kind, reason), exit)
}

// interrupt stops what runs and gives up the level: the run is ending.
func (lv *level) interrupt() levelResult {
	lv.stop()
	lv.res.interrupted = true
	return lv.res
}

// stop stops the sampler and the server, whichever run, and returns how
// the server ended.
func (lv *level) stop() (exit string) {
	if lv.smp != nil {
		_, _ = lv.smp.Stop()
	}
	if lv.rs != nil {
		exit = lv.rs.stop()
	}
	lv.stopBackend()
	return exit
}

// stopBackend stops the backend, after the server so that the server
// never sees it go; safe to call twice, and without a backend.
func (lv *level) stopBackend() ([]results.Sample, string) {
	if lv.be == nil {
		return nil, ""
	}
	return lv.be.stop()
}

// startBackend starts the backend of a proxied level; true when there is
// none to start or it listens, false when it did not come up or the run
// is ending.
func (lv *level) startBackend() bool {
	sc := lv.st.Scenario
	if sc.BackendWaitMS <= 0 {
		return true
	}
	be, err := lv.h.startBackend(sc, lv.epoch)
	lv.be = be
	lv.res.backend = be
	switch {
	case err == nil:
		return true
	case lv.h.ctx.Err() != nil:
		lv.interrupt()
	default:
		f := lv.newFailure(results.FailureStart, "backend did not start: "+err.Error())
		_, f.Exit = lv.stopBackend()
		if be != nil {
			f.Stderr = be.stderr.Lines()
		}
		lv.res.failure = f
	}
	return false
}

// cleanup removes what the level left behind: a peer's directory and the
// load generator's temporary files.
func (lv *level) cleanup() {
	if lv.rs != nil {
		lv.rs.cleanup()
	}
	if lv.jsonTmp != "" {
		os.Remove(lv.jsonTmp)
		os.Remove(lv.hgrmTmp)
	}
}

// startServer starts the step's server and waits until it serves; false
// when it did not come up or the run is ending.
func (lv *level) startServer() bool {
	srv := lv.h.out.serverOf(lv.st.Server.Name)
	rs, err := lv.h.startServer(srv, lv.st.Scenario, lv.st.Level, lv.be, lv.epoch)
	lv.rs = rs
	if rs != nil {
		lv.res.command = rs.args
	}
	switch {
	case err == nil:
		return true
	case lv.h.ctx.Err() != nil:
		lv.interrupt()
	default:
		lv.stopAndFail(results.FailureStart, err.Error())
	}
	return false
}

// takeBaseline starts sampling, lets the server settle and samples it
// before any connection; false when it exited or the run is ending.
func (lv *level) takeBaseline() (results.Sample, bool) {
	lv.smp = lv.rs.p.probe(lv.h.opt.Period, lv.rs.port, lv.epoch)
	select {
	case <-time.After(settle):
	case <-lv.rs.p.Exited():
	case <-lv.h.ctx.Done():
		lv.interrupt()
		return results.Sample{}, false
	}
	baseline, err := lv.smp.Take()
	if err != nil {
		lv.stopAndFail(results.FailureCrash, lv.h.hosts.onServer("server exited before the load started: "+err.Error()))
		return results.Sample{}, false
	}
	return baseline, true
}

// startLoad starts the load generator, pinned to its CPUs; false when it
// could not be started.
func (lv *level) startLoad() bool {
	stamp := "." + strconv.FormatInt(lv.epoch.UnixNano(), 36)
	lv.hgrmTmp = filepath.Join(lv.h.opt.OutDir, results.HgrmDir, stamp+".hgrm.tmp")
	lv.jsonTmp = filepath.Join(lv.h.opt.OutDir, stamp+".load.json.tmp")
	lv.loadArgs = loadArgs(lv.st, lv.h.hosts.addr, lv.rs.port, lv.jsonTmp, lv.hgrmTmp, lv.h.env.NoFileHard)
	lv.loadArgs = append(lv.loadArgs, lv.h.hosts.loadArgs(lv.h.opt)...)
	tail := proc.NewTail(stderrLines)
	// The sampler's own rhythm slows to a sample every ten seconds or more
	// at a million connections (a count walks two million sockets): take
	// one as the pool is known whole, so the level's point has all of it.
	tail.OnLine(fleet.Started, func() {
		lv.heldSample.Go(func() { _, _ = lv.smp.Take() })
	})
	lp, err := proc.Start(proc.Spec{Path: lv.h.loadBinary, Args: lv.loadArgs, CPUs: lv.h.opt.LoadCPUs, Stderr: tail})
	if err != nil {
		lv.stopAndFail(results.FailureLoad, "starting the load generator: "+err.Error())
		return false
	}
	lv.load, lv.loadTail = lp, tail
	lv.loadStart = time.Since(lv.epoch).Seconds()
	lv.smp.SetLoad(lp.PID())
	return true
}

// awaitLoad waits for the load generator to finish, the server to die, the
// level's time budget to run out or the run to end, whichever comes
// first, and stops the load generator and the sampler. A crash or an
// overrun is left in lv.res.failure for the caller to complete once the
// server is stopped. It returns the samples and how the load generator
// ended.
func (lv *level) awaitLoad() (samples []results.Sample, loadExit string) {
	budgetS := lv.st.BudgetS
	if lv.h.opt.LevelBudget > 0 {
		budgetS = lv.h.opt.LevelBudget.Seconds()
	}
	budget := time.NewTimer(time.Duration(budgetS*float64(time.Second)) - time.Since(lv.epoch))
	defer budget.Stop()
	select {
	case <-lv.load.Exited():
	case <-lv.rs.p.Exited():
		lv.res.failure = lv.newFailure(results.FailureCrash, lv.h.hosts.onServer("server exited during the level"))
	case <-budget.C:
		lv.res.failure = lv.newFailure(results.FailureBudget, fmt.Sprintf("level overran its time budget of %.1f s and was stopped", budgetS))
	case <-lv.h.ctx.Done():
		lv.res.interrupted = true
	}
	// SIGTERM lets the load generator write what it measured so far.
	lst, _ := lv.load.Stop(loadGrace)
	lv.smp.SetLoad(0)
	lv.heldSample.Wait()
	_, _ = lv.smp.Take() // the end of the window, if the server is still there
	samples, _ = lv.smp.Stop()
	// A server that died while the load generator was finishing is a
	// crash too, not a measurement.
	select {
	case <-lv.rs.p.Exited():
		if lv.res.failure == nil && !lv.res.interrupted {
			lv.res.failure = lv.newFailure(results.FailureCrash, lv.h.hosts.onServer("server exited during the level"))
		}
	default:
	}
	return samples, proc.ExitString(lst)
}

// measurement turns the level's samples and load result into its
// Measurement, with the backend's figures when it had one, and keeps the load generator's hgrm file beside it.
func (lv *level) measurement(baseline results.Sample, samples []results.Sample, load loadgen.Result, exit string, be *results.Backend) *results.Measurement {
	var backendCPU float64
	if be != nil {
		backendCPU = be.CPUUtil
	}
	m := measure(baseline, samples, load, lv.loadStart, cpuCount(lv.h.opt.LoadCPUs), backendCPU)
	m.Backend = be
	m.Repeat = lv.st.Repeat
	m.ReadyS = lv.rs.readyS
	m.ServerExit = exit
	m.LoadArgs = lv.loadArgs
	if lv.res.interrupted {
		m.Notes = append(m.Notes, "interrupted: partial level")
	}
	st := lv.st
	if rel := results.HgrmFile(st.Scenario.Name, st.Server.Name, st.Level, st.Repeat); os.Rename(lv.hgrmTmp, filepath.Join(lv.h.opt.OutDir, rel)) == nil {
		m.HgrmFile = rel
	}
	return &m
}

// loadArgs is the `c10k load` command line of a step, run as as many
// processes as the step's connections need under nofile descriptors each.
func loadArgs(st scenario.Step, host string, port int, jsonPath, hgrmPath string, nofile uint64) []string {
	sc := st.Scenario
	a := []string{"load", "-q", "-url", "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/",
		"-d", dur(sc.DurationS), "-warmup", dur(sc.WarmupS), "-json", jsonPath, "-hgrm", hgrmPath}
	if n := scenario.LoadProcs(sc, st.Level, nofile); n > 1 {
		a = append(a, "-procs", strconv.Itoa(n))
	}
	switch {
	case sc.ProbeConc > 0:
		// A server that grows its pool slowly (Apache prefork: 32 children
		// a second) answers the idle pool's first requests late: stretch
		// the timeout to cover its known growth, so the level measures the
		// connections it holds rather than a client that gave up.
		timeout := max(defaultTimeout.Seconds(), 1.5*st.Server.SpawnS*float64(scenario.Conns(sc, st.Level))+5)
		a = append(a, "-c", strconv.Itoa(sc.ProbeConc), "-rate", strconv.Itoa(sc.ProbeRate),
			"-idle", strconv.Itoa(st.Level), "-connect-rate", strconv.Itoa(sc.ConnectRate), "-timeout", dur(math.Ceil(timeout)),
			"-say-started")
	case sc.Name == scenario.Rate:
		a = append(a, "-c", strconv.Itoa(sc.Connections), "-rate", strconv.Itoa(st.Level))
	default:
		// Closed loop at the level's connections (gather: a fixed C, the
		// level is K).
		a = append(a, "-c", strconv.Itoa(scenario.Conns(sc, st.Level)))
		if sc.FanoutLevels {
			// K sequential 10 ms calls take K x 10 ms: keep the timeout
			// above that, so a slow model is measured, not timed out.
			a = append(a, "-timeout", dur(math.Ceil(max(defaultTimeout.Seconds(), 3*float64(st.Level)*sc.BackendWaitMS/1e3))))
		}
	}
	return a
}

func dur(s float64) string { return time.Duration(s * float64(time.Second)).String() }

// readLoad decodes the load generator's JSON result.
func readLoad(path string) (loadgen.Result, error) {
	var l loadgen.Result
	b, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("decoding %s: %w", filepath.Base(path), err)
	}
	return l, nil
}

// lostAgent says which load agent on another host failed, "" if none
// did: a level that lost part of its load measured less than it asked
// for, and the host is named.
func lostAgent(l loadgen.Result) string {
	for _, p := range l.Procs {
		if p.Host != "" && !p.Complete && p.Requests == 0 && p.IdleOpened == 0 {
			return "the load agent on " + p.Host + " failed: " + p.Message
		}
	}
	return ""
}

// refused reports a level where the server took no request at all.
func refused(l loadgen.Result) bool {
	return l.Requests == 0 && l.IdleOpened == 0 && l.TotalErrors() > 0
}

// cpuCount is the number of CPUs in a CPU list, 0 if it does not parse.
func cpuCount(list string) int {
	if list == "" {
		return 0
	}
	set, err := proc.ParseCPUList(list)
	if err != nil {
		return 0
	}
	return set.Count()
}
