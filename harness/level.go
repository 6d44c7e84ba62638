package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"c10k/harness/proc"
	"c10k/harness/results"
	"c10k/harness/sampler"
	"c10k/harness/scenario"
	"c10k/loadgen"
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
func (h *harness) runLevel(st scenario.Step) (res levelResult) {
	epoch := time.Now()
	srv := h.out.serverOf(st.Server.Name)
	fail := func(kind, reason string, rs *running) *results.Failure {
		f := &results.Failure{Level: st.Level, Repeat: st.Repeat, Kind: kind, Reason: reason,
			ElapsedS: time.Since(epoch).Seconds()}
		if rs != nil {
			f.Stderr = rs.lastWords()
		}
		return f
	}
	rs, err := h.startServer(srv, st.Scenario, epoch)
	if rs != nil {
		res.command = rs.args
		defer rs.cleanup()
	}
	if err != nil {
		if h.ctx.Err() != nil {
			if rs != nil {
				rs.stop()
			}
			return levelResult{interrupted: true, command: res.command}
		}
		// Stop (and reap) first: its stderr is complete only then.
		var exit string
		if rs != nil {
			exit = rs.stop()
		}
		res.failure = fail(results.FailureStart, err.Error(), rs)
		res.failure.Exit = exit
		return res
	}
	defer time.Sleep(afterLevel)

	smp := sampler.Start(sampler.Config{Root: rs.p.PID(), Port: rs.port, Period: h.opt.Period, Epoch: epoch})
	stopAll := func() (exit string) {
		_, _ = smp.Stop()
		return rs.stop()
	}
	select {
	case <-time.After(settle):
	case <-rs.p.Exited():
	case <-h.ctx.Done():
		stopAll()
		return levelResult{interrupted: true, command: res.command}
	}
	baseline, err := smp.Take()
	if err != nil {
		exit := stopAll()
		res.failure = fail(results.FailureCrash, "server exited before the load started: "+err.Error(), rs)
		res.failure.Exit = exit
		return res
	}

	hgrmTmp := filepath.Join(h.opt.OutDir, results.HgrmDir, "."+strconv.FormatInt(epoch.UnixNano(), 36)+".hgrm.tmp")
	jsonTmp := filepath.Join(h.opt.OutDir, "."+strconv.FormatInt(epoch.UnixNano(), 36)+".load.json.tmp")
	defer os.Remove(hgrmTmp)
	defer os.Remove(jsonTmp)
	args := loadArgs(st, rs.port, jsonTmp, hgrmTmp)
	loadTail := proc.NewTail(stderrLines)
	lp, err := proc.Start(proc.Spec{Path: h.loadBinary, Args: args, CPUs: h.opt.LoadCPUs, Stderr: loadTail})
	if err != nil {
		exit := stopAll()
		res.failure = fail(results.FailureLoad, "starting the load generator: "+err.Error(), rs)
		res.failure.Exit = exit
		return res
	}
	loadStart := time.Since(epoch).Seconds()
	smp.SetLoad(lp.PID())

	budgetS := st.BudgetS
	if h.opt.LevelBudget > 0 {
		budgetS = h.opt.LevelBudget.Seconds()
	}
	budget := time.NewTimer(time.Duration(budgetS*float64(time.Second)) - time.Since(epoch))
	defer budget.Stop()
	select {
	case <-lp.Exited():
	case <-rs.p.Exited():
		res.failure = fail(results.FailureCrash, "server exited during the level", rs)
	case <-budget.C:
		res.failure = fail(results.FailureBudget, fmt.Sprintf("level overran its time budget of %.1f s and was stopped", budgetS), rs)
	case <-h.ctx.Done():
		res.interrupted = true
	}
	// SIGTERM lets the load generator write what it measured so far.
	lst, _ := lp.Stop(loadGrace)
	smp.SetLoad(0)
	_, _ = smp.Take() // the end of the window, if the server is still there
	samples, _ := smp.Stop()
	// A server that died while the load generator was finishing is a
	// crash too, not a measurement.
	select {
	case <-rs.p.Exited():
		if res.failure == nil && !res.interrupted {
			res.failure = fail(results.FailureCrash, "server exited during the level", rs)
		}
	default:
	}
	exit := rs.stop()
	if res.failure != nil {
		res.failure.Exit = exit
		res.failure.Load = loadTail.Lines()
		// Reaped now: its stderr is complete.
		res.failure.Stderr = rs.lastWords()
		return res
	}

	load, err := readLoad(jsonTmp)
	if err != nil {
		if res.interrupted {
			return res
		}
		res.failure = fail(results.FailureLoad, fmt.Sprintf("load generator gave no result (%s): %v", proc.ExitString(lst), err), rs)
		res.failure.Load = loadTail.Lines()
		res.failure.Exit = exit
		return res
	}
	if refused(load) {
		res.failure = fail(results.FailureRefused, fmt.Sprintf("no request succeeded: errors %v", load.Errors), rs)
		res.failure.Load = loadTail.Lines()
		res.failure.Exit = exit
		return res
	}
	m := measure(baseline, samples, load, loadStart, cpuCount(h.opt.LoadCPUs))
	m.Repeat = st.Repeat
	m.ReadyS = rs.readyS
	m.ServerExit = exit
	m.LoadArgs = args
	if res.interrupted {
		m.Notes = append(m.Notes, "interrupted: partial level")
	}
	if rel := results.HgrmFile(st.Scenario.Name, st.Server.Name, st.Level, st.Repeat); os.Rename(hgrmTmp, filepath.Join(h.opt.OutDir, rel)) == nil {
		m.HgrmFile = rel
	}
	res.m = &m
	return res
}

// loadArgs is the `c10k load` command line of a step.
func loadArgs(st scenario.Step, port int, jsonPath, hgrmPath string) []string {
	sc := st.Scenario
	a := []string{"load", "-q", "-url", "http://127.0.0.1:" + strconv.Itoa(port) + "/",
		"-d", dur(sc.DurationS), "-warmup", dur(sc.WarmupS), "-json", jsonPath, "-hgrm", hgrmPath}
	switch sc.Name {
	case scenario.Idle:
		// A server that grows its pool slowly (Apache prefork: 32 children
		// a second) answers the idle pool's first requests late: stretch
		// the timeout to cover its known growth, so the level measures the
		// connections it holds rather than a client that gave up.
		timeout := max(defaultTimeout.Seconds(), 1.5*st.Server.SpawnS*float64(scenario.Conns(sc, st.Level))+5)
		a = append(a, "-c", strconv.Itoa(sc.ProbeConc), "-rate", strconv.Itoa(sc.ProbeRate),
			"-idle", strconv.Itoa(st.Level), "-connect-rate", strconv.Itoa(sc.ConnectRate), "-timeout", dur(math.Ceil(timeout)))
	case scenario.Rate:
		a = append(a, "-c", strconv.Itoa(sc.Connections), "-rate", strconv.Itoa(st.Level))
	default:
		a = append(a, "-c", strconv.Itoa(st.Level))
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
