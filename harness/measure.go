package harness

import (
	"fmt"
	"math"

	"c10k/harness/results"
	"c10k/loadgen"
)

// Thresholds that mark a window noisy: CPU, in cores, used during the
// window by anything other than the server, the load generator and the
// harness, and CPU stolen by the hypervisor.
const (
	noisyOtherCPU = 0.25
	noisyStealCPU = 0.05
	// fewConns: below it, per-connection deltas drown in the machine's noise.
	fewConns = 100
	// countsAgree: the server's connection count at the point must reach
	// this share of the idle connections the load generator held, or the
	// per-connection figures are flagged.
	countsAgree = 0.9
	// otherTasksSlack is the thread churn elsewhere on the machine that a
	// level tolerates (kernel workers come and go) before its machine-wide
	// kernel figures are called unreliable; 2% of its connections more.
	otherTasksSlack = 50
)

// window is the load generator's measured window on the sampler's clock;
// held is when its warm-up began, from which its idle pool was whole.
type window struct{ held, start, end float64 }

// loadWindow places the load's measured window: it started loadStart
// seconds after the level's epoch, then opened its idle pool, warmed up,
// and measured.
func loadWindow(loadStart float64, l loadgen.Result) window {
	h := loadStart + max(l.IdleOpenS, l.ReleasedS)
	return window{held: h, start: h + l.WarmupS, end: h + l.WarmupS + l.DurationS}
}

// pointSample is the sample the level's point is read from: the one
// nearest the middle of the window among those taken while every
// connection was open, or, if none was, the nearest at all. At a million
// connections a sample takes seconds and the nearest one can fall in the
// opening, when half the pool is open, or in the closing after the window.
func pointSample(samples []results.Sample, w window) int {
	mid := (w.start + w.end) / 2
	best, bestD := -1, math.Inf(1)
	for i := range samples {
		if t := samples[i].T; t >= w.held && t <= w.end {
			if d := math.Abs(t - mid); d < bestD {
				best, bestD = i, d
			}
		}
	}
	if best < 0 {
		return nearest(samples, mid)
	}
	return best
}

// bracket returns the indexes of two samples accepted by ok that span
// the window: the first at or after its start and the last at or before
// its end, so that rates are those of the window alone (and a server's
// threads that exit after the load are not subtracted). When the window is
// too short to hold two samples it widens to the nearest ones outside.
// It returns -1, -1 when fewer than two samples qualify.
func bracket(samples []results.Sample, w window, ok func(*results.Sample) bool) (int, int) {
	var idx []int
	for i := range samples {
		if ok(&samples[i]) {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return -1, -1
	}
	a, b := -1, -1
	for _, i := range idx {
		if a < 0 && samples[i].T >= w.start {
			a = i
		}
		if samples[i].T <= w.end {
			b = i
		}
	}
	if a >= 0 && b > a {
		return a, b
	}
	// Outer bracket: the last at or before the start, the first at or
	// after the end.
	a, b = idx[0], idx[len(idx)-1]
	for _, i := range idx {
		if samples[i].T <= w.start {
			a = i
		}
	}
	for j := len(idx) - 1; j >= 0; j-- {
		if samples[idx[j]].T >= w.end {
			b = idx[j]
		}
	}
	if b <= a {
		return -1, -1
	}
	return a, b
}

// nearest returns the index of the sample closest to t, -1 if none.
func nearest(samples []results.Sample, t float64) int {
	best, bestD := -1, math.Inf(1)
	for i := range samples {
		if d := math.Abs(samples[i].T - t); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// loadCPUAt is the load generator's CPU seconds at sample i: its last
// reading at or before i, and 0 before it was first seen (it did not exist
// yet, or had just started).
func loadCPUAt(samples []results.Sample, i int) float64 {
	for ; i >= 0; i-- {
		if l := samples[i].Load; l != nil {
			return l.UserCPUSec + l.SystemCPUSec
		}
	}
	return 0
}

func cpuOf(s *results.Sample) (user, sys float64) {
	p := s.Proc
	return p.UserCPUSec + p.ReapedUserCPUSec, p.SystemCPUSec + p.ReapedSystemCPUSec
}

// measure turns one level's samples and load result into a Measurement.
// baseline is the sample taken before the load started; loadStart is when
// the load generator was started, on the samples' clock; loadCPUs is how
// many CPUs the load generator may use.
//
// backendCPU is the cores a proxied level's backend used over the window:
// part of the run, not noise from elsewhere.
func measure(baseline results.Sample, samples []results.Sample, load loadgen.Result, loadStart float64, loadCPUs int, backendCPU float64) results.Measurement {
	m := results.Measurement{
		Load:            load,
		Baseline:        baseline.Proc,
		MachineBaseline: baseline.Machine,
		Samples:         samples,
	}
	w := loadWindow(loadStart, load)
	m.WindowStartS, m.WindowEndS = w.start, w.end
	if len(samples) == 0 {
		m.Notes = append(m.Notes, "no samples during the level")
		return m
	}

	// The point: nearest the middle of the window, every connection open.
	pi := pointSample(samples, w)
	pt := samples[pi]
	m.Point, m.MachinePoint, m.PointT = pt.Proc, pt.Machine, pt.T
	m.ServerConns, m.QueuedConns = max(pt.ServerConns, 0), max(pt.QueuedConns, 0)
	m.PerConn = perConn(baseline, pt)
	if baseline.MachineTasks > 0 && pt.MachineTasks > 0 {
		loadThreads := 0
		if pt.Load != nil {
			loadThreads = pt.Load.Threads
		}
		m.OtherTasksDelta = pt.MachineTasks - baseline.MachineTasks - (pt.Proc.Threads - baseline.Proc.Threads) - loadThreads
	}

	// CPU over the window, from the samples that bracket it.
	if a, b := bracket(samples, w, func(*results.Sample) bool { return true }); a >= 0 {
		sa, sb := &samples[a], &samples[b]
		dt := sb.T - sa.T
		ua, ya := cpuOf(sa)
		ub, yb := cpuOf(sb)
		m.ServerUserCPUS = (ub - ua) * load.DurationS / dt
		m.ServerSysCPUS = (yb - ya) * load.DurationS / dt
		m.ServerCPUS = m.ServerUserCPUS + m.ServerSysCPUS
		m.ServerCPUUtil = (ub - ua + yb - ya) / dt
		loadCPU := loadCPUAt(samples, b) - loadCPUAt(samples, a)
		m.LoadCPUUtil = loadCPU / dt
		harnessCPU := sb.HarnessCPUS - sa.HarnessCPUS
		m.HarnessCPUUtil = harnessCPU / dt
		m.OtherCPUUtil = math.Max(0, (sb.CPUBusyS-sa.CPUBusyS)-(ub-ua+yb-ya)-loadCPU-harnessCPU-backendCPU*dt) / dt
		m.StealUtil = (sb.StealS - sa.StealS) / dt
		if load.RPS > 0 {
			m.ServerCPUPerReqUS = m.ServerCPUUtil / load.RPS * 1e6
		}
	} else {
		m.Notes = append(m.Notes, "window too short to bracket with samples: no CPU figures")
	}
	// Context switches only from samples that summed every thread.
	all := func(s *results.Sample) bool { return s.Proc.CtxtAllThreads }
	if a, b := bracket(samples, w, all); a >= 0 {
		sa, sb := &samples[a], &samples[b]
		cs := float64(sb.Proc.VoluntaryCtxt+sb.Proc.InvoluntaryCtxt) - float64(sa.Proc.VoluntaryCtxt+sa.Proc.InvoluntaryCtxt)
		// Threads that exited take their counts with them, so a difference
		// can come out negative; it is then unknown, not negative.
		if cs >= 0 {
			m.CtxSwitches = uint64(cs * load.DurationS / (sb.T - sa.T))
			if load.RPS > 0 {
				m.CtxSwitchesPerReq = cs / (sb.T - sa.T) / load.RPS
			}
		}
	}
	judge(&m, loadCPUs)
	return m
}

// perConn divides the growth from baseline to point by the connections
// the kernel says the server had accepted at the point.
func perConn(base, pt results.Sample) results.PerConn {
	n := pt.ServerConns
	pc := results.PerConn{Conns: max(n, 0)}
	if n <= 0 {
		return pc
	}
	d := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	di := func(a, b int) float64 { return float64(b-a) / float64(n) }
	pc.PSSBytes = d(base.Proc.PSS, pt.Proc.PSS)
	pc.RSSBytes = d(base.Proc.RSS, pt.Proc.RSS)
	pc.KernelStack = d(base.Machine.KernelStack, pt.Machine.KernelStack)
	pc.PageTables = d(base.Machine.PageTables, pt.Machine.PageTables)
	pc.SocketBytes = d(base.Machine.Slab, pt.Machine.Slab)
	pc.TCPMemBytes = d(base.Machine.TCPMem, pt.Machine.TCPMem)
	pc.KernelBytes = pc.KernelStack + pc.PageTables + pc.SocketBytes
	pc.Threads = di(base.Proc.Threads, pt.Proc.Threads)
	pc.FDs = di(base.Proc.FDs, pt.Proc.FDs)
	pc.Processes = di(base.Proc.Processes, pt.Proc.Processes)
	return pc
}

// judge flags what makes a measurement doubtful, so nobody has to find it
// in the raw figures.
func judge(m *results.Measurement, loadCPUs int) {
	if m.OtherCPUUtil > noisyOtherCPU {
		m.Noisy = true
		m.Notes = append(m.Notes, fmt.Sprintf("noisy: %.2f cores used by other processes during the window", m.OtherCPUUtil))
	}
	if m.StealUtil > noisyStealCPU {
		m.Noisy = true
		m.Notes = append(m.Notes, fmt.Sprintf("noisy: %.2f cores stolen by the hypervisor during the window", m.StealUtil))
	}
	if d := m.OtherTasksDelta; abs(d) > otherTasksSlack+m.PerConn.Conns/50 {
		m.Noisy = true
		m.Notes = append(m.Notes, fmt.Sprintf("noisy: %+d threads started or ended elsewhere on the machine during the level: the kernel-side per-connection figures (kernel stack, page tables, slab) are unreliable", d))
	}
	// Judged by loop_busy, not by the generator's CPU time: in open loop it
	// polls for imminent requests rather than sleeping, and a polling loop
	// uses its whole core however little it has to do.
	if m.Load.LoopBusy >= results.GeneratorSaturated {
		m.Notes = append(m.Notes, fmt.Sprintf("load generator saturated (its busiest loop worked %.0f%% of the window, %.2f cores of %d): the figures may rank the client, not the server",
			100*m.Load.LoopBusy, m.LoadCPUUtil, loadCPUs))
	}
	if n := m.PerConn.Conns; n > 0 && n < fewConns {
		m.Notes = append(m.Notes, fmt.Sprintf("per-connection figures over only %d connections: machine-wide deltas are mostly noise here", n))
	}
	l := m.Load
	if l.IdleRequested > 0 && l.IdleAlive < l.IdleOpened {
		m.Notes = append(m.Notes, fmt.Sprintf("server closed %d of %d idle connections during the level", l.IdleOpened-l.IdleAlive, l.IdleOpened))
	}
	if l.IdleRequested > 0 && l.IdleOpened < l.IdleRequested {
		m.Notes = append(m.Notes, fmt.Sprintf("only %d of %d idle connections opened", l.IdleOpened, l.IdleRequested))
	}
	// The divisor of every per-connection figure is the kernel's count at
	// the point; when it is far below what the load generator held to the
	// end, the point fell before the pool was open (a slow sample at
	// hundreds of thousands of connections) and the figures are not
	// per connection.
	if l.IdleAlive > 0 && float64(m.ServerConns) < countsAgree*float64(l.IdleAlive) {
		m.Notes = append(m.Notes, fmt.Sprintf("unreliable per-connection figures: the server held %d connections at the point, the load generator %d idle ones at the end",
			m.ServerConns, l.IdleAlive))
	}
	var errs int64
	for _, n := range l.Errors {
		errs += n
	}
	if errs > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("load errors: %v", nonZero(l.Errors)))
	}
	if !l.Complete {
		m.Notes = append(m.Notes, "load generator ended early: "+l.Message)
	}
}

// nonZero keeps the error kinds that happened.
func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
