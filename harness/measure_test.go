package harness

import (
	"math"
	"strings"
	"testing"

	"c10k/harness/results"
	"c10k/loadgen"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// sample builds a sample at t with the server's CPU at cpu seconds and the
// machine busy for busy seconds.
func sample(t, cpu, busy float64) results.Sample {
	return results.Sample{T: t, Proc: results.Proc{UserCPUSec: cpu / 2, SystemCPUSec: cpu / 2, CtxtAllThreads: true,
		VoluntaryCtxt: uint64(t * 1000)}, CPUBusyS: busy}
}

func TestBracket(t *testing.T) {
	ss := []results.Sample{sample(0, 0, 0), sample(1, 0, 0), sample(2, 0, 0), sample(3, 0, 0), sample(4, 0, 0)}
	all := func(*results.Sample) bool { return true }
	tests := []struct {
		name   string
		w      window
		ok     func(*results.Sample) bool
		wa, wb int
	}{
		{name: "happy inner bracket", w: window{start: 0.5, end: 3.5}, ok: all, wa: 1, wb: 3},
		{name: "happy exact edges", w: window{start: 1, end: 3}, ok: all, wa: 1, wb: 3},
		{name: "happy short window widens outward", w: window{start: 1.2, end: 1.8}, ok: all, wa: 1, wb: 2},
		{name: "happy window past the samples", w: window{start: 3.5, end: 9}, ok: all, wa: 3, wb: 4},
		{name: "sad one qualifying sample", w: window{start: 0, end: 4}, ok: func(s *results.Sample) bool { return s.T == 2 }, wa: -1, wb: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := bracket(ss, tc.w, tc.ok)
			if a != tc.wa || b != tc.wb {
				t.Errorf("bracket = %d, %d; want %d, %d", a, b, tc.wa, tc.wb)
			}
		})
	}
}

func TestPointSample(t *testing.T) {
	// A million connections: samples seconds apart, one in the opening,
	// one as the warm-up began, one long after the window closed.
	at := func(ts ...float64) []results.Sample {
		var ss []results.Sample
		for _, x := range ts {
			ss = append(ss, results.Sample{T: x})
		}
		return ss
	}
	w := window{held: 290, start: 290.5, end: 298.5}
	tests := []struct {
		name string
		ss   []results.Sample
		want int
	}{
		{name: "happy the one taken while held, though farther from the middle", ss: at(240, 291.2, 310), want: 1},
		{name: "happy nearest the middle of those held", ss: at(291.2, 294, 297.9, 299), want: 1},
		{name: "happy a sample at the end still counts", ss: at(280, 298.5), want: 1},
		{name: "sad none held: the nearest at all", ss: at(240, 300), want: 1},
		{name: "sad no samples", ss: nil, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pointSample(tc.ss, w); got != tc.want {
				t.Errorf("pointSample = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	base := results.Sample{Proc: results.Proc{PSS: 1 << 20, Threads: 4, FDs: 10, Processes: 1},
		Machine: results.Machine{KernelStack: 1000, Slab: 5000}}
	var ss []results.Sample
	for i := 0; i <= 12; i++ {
		// The server uses half a core, everything together one core.
		s := sample(float64(i)*0.5, float64(i)*0.25, float64(i)*0.5)
		s.Load = &results.Proc{UserCPUSec: float64(i) * 0.2}
		s.ServerConns = 1000
		s.Proc.PSS, s.Proc.Threads, s.Proc.FDs, s.Proc.Processes = 1<<20+1000*4096, 1004, 1010, 1
		s.Machine = results.Machine{KernelStack: 1000 + 1000*16384, Slab: 5000 + 1000*1024}
		ss = append(ss, s)
	}
	load := loadgen.Result{RPS: 10000, DurationS: 4, IdleOpenS: 0.5, WarmupS: 0.5, IdleRequested: 996, IdleOpened: 996, IdleAlive: 900, Complete: true}
	m := measure(base, ss, load, 0.5, 1, 0)
	if !near(m.WindowStartS, 1.5) || !near(m.WindowEndS, 5.5) || !near(m.PointT, 3.5) {
		t.Errorf("window %v-%v point %v", m.WindowStartS, m.WindowEndS, m.PointT)
	}
	if !near(m.ServerCPUUtil, 0.5) || !near(m.ServerCPUPerReqUS, 50) || !near(m.ServerCPUS, 2) {
		t.Errorf("server CPU util %v per req %v total %v", m.ServerCPUUtil, m.ServerCPUPerReqUS, m.ServerCPUS)
	}
	if !near(m.LoadCPUUtil, 0.4) || !near(m.OtherCPUUtil, 0.1) || m.Noisy {
		t.Errorf("load %v other %v noisy %v", m.LoadCPUUtil, m.OtherCPUUtil, m.Noisy)
	}
	if !near(m.CtxSwitchesPerReq, 0.1) {
		t.Errorf("ctx switches per request %v", m.CtxSwitchesPerReq)
	}
	pc := m.PerConn
	if pc.Conns != 1000 || !near(pc.PSSBytes, 4096) || !near(pc.KernelStack, 16384) || !near(pc.SocketBytes, 1024) ||
		!near(pc.Threads, 1) || !near(pc.FDs, 1) || !near(pc.KernelBytes, 16384+1024) || pc.Processes != 0 {
		t.Errorf("per conn %+v", pc)
	}
	if !strings.Contains(strings.Join(m.Notes, ";"), "closed 96 of 996 idle") {
		t.Errorf("notes %v", m.Notes)
	}
}

func TestMeasureSadThreadChurnElsewhere(t *testing.T) {
	base := results.Sample{MachineTasks: 500, Proc: results.Proc{Threads: 4}}
	var ss []results.Sample
	for i := 0; i <= 8; i++ {
		s := sample(float64(i)*0.5, 0, 0)
		s.Proc.Threads, s.ServerConns = 1004, 1000
		s.Load = &results.Proc{Threads: 3}
		s.MachineTasks = 500 + 1000 + 3 // the server's and the load's threads only
		if i >= 2 {
			s.MachineTasks += 9000 // someone else started 9,000 threads
		}
		ss = append(ss, s)
	}
	quiet := measure(base, ss[:4], loadgen.Result{RPS: 1, DurationS: 1, Complete: true}, 0, 1, 0)
	if quiet.Noisy || quiet.OtherTasksDelta != 0 {
		t.Errorf("quiet level: noisy %v, other tasks %d", quiet.Noisy, quiet.OtherTasksDelta)
	}
	noisy := measure(base, ss, loadgen.Result{RPS: 1, DurationS: 3, Complete: true}, 0, 1, 0)
	if !noisy.Noisy || noisy.OtherTasksDelta != 9000 || !strings.Contains(strings.Join(noisy.Notes, ";"), "unreliable") {
		t.Errorf("churn not flagged: noisy %v, other tasks %d, notes %v", noisy.Noisy, noisy.OtherTasksDelta, noisy.Notes)
	}
}

func TestMeasureSadNoisyAndSaturated(t *testing.T) {
	var ss []results.Sample
	for i := 0; i <= 8; i++ {
		s := sample(float64(i)*0.5, 0, float64(i)*1.0) // 2 cores busy, none of it the server
		s.Load = &results.Proc{UserCPUSec: float64(i) * 0.49}
		ss = append(ss, s)
	}
	m := measure(results.Sample{}, ss, loadgen.Result{RPS: 1, DurationS: 3, Complete: true, LoopBusy: 0.97}, 0, 1, 0)
	if !m.Noisy || !strings.Contains(strings.Join(m.Notes, ";"), "saturated") {
		t.Errorf("noisy %v notes %v", m.Noisy, m.Notes)
	}
	// A generator polling at a full core but with little to do is not
	// saturated: its CPU says nothing, its loop_busy does.
	spinning := measure(results.Sample{}, ss, loadgen.Result{RPS: 1, DurationS: 3, Complete: true, LoopBusy: 0.3}, 0, 1, 0)
	if strings.Contains(strings.Join(spinning.Notes, ";"), "saturated") {
		t.Errorf("a 30%% busy generator flagged saturated: %v", spinning.Notes)
	}
	if m.PerConn.Conns != 0 || m.PerConn.PSSBytes != 0 {
		t.Errorf("per conn without connections: %+v", m.PerConn)
	}
	if got := measure(results.Sample{}, nil, loadgen.Result{}, 0, 1, 0); len(got.Notes) == 0 {
		t.Error("no note for a level without samples")
	}
}

func TestParseListening(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
		wantErr  bool
	}{
		{name: "happy", in: "listening on 127.0.0.1:8080", want: 8080},
		{name: "happy trailing space", in: "listening on 127.0.0.1:41234 \r", want: 41234},
		{name: "sad no port", in: "listening on 127.0.0.1", wantErr: true},
		{name: "sad port zero", in: "listening on 127.0.0.1:0", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseListening(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got %d, %v", got, err)
			}
		})
	}
}

func TestLineWatch(t *testing.T) {
	w := newLineWatch("listening on ")
	for _, chunk := range []string{"c10k serve: model=x\nlisten", "ing on 127.0.0.1:5", "\nmore\n"} {
		w.Write([]byte(chunk))
	}
	select {
	case l := <-w.found:
		if l != "listening on 127.0.0.1:5" {
			t.Errorf("found %q", l)
		}
	default:
		t.Fatal("line not found")
	}
}
