package report

import (
	"strings"
	"testing"

	"c10k/harness/registry"
	"c10k/harness/results"
)

func TestJudgeThreadCost(t *testing.T) {
	mem := func(thread, epoll float64) threadCostInput {
		return threadCostInput{IdleLevel: 10000, HaveMem: true, ThreadMem: thread, EpollMem: epoll}
	}
	withCtx := func(in threadCostInput, tc, ec, tr, er float64) threadCostInput {
		in.CtxLevel, in.HaveCtx = 1000, true
		in.ThreadCtx, in.EpollCtx, in.ThreadRPS, in.EpollRPS = tc, ec, tr, er
		return in
	}
	tests := []struct {
		name string
		in   threadCostInput
		want Verdict
	}{
		{"happy: costly memory and switching", withCtx(mem(28000, 600), 2, 0.02, 57000, 119000), Holds},
		{"happy: memory only, switching cheap", withCtx(mem(28000, 600), 0.03, 0.02, 118000, 119000), Partly},
		{"happy: switching often but as fast", withCtx(mem(700, 600), 2, 0.02, 118000, 119000), DoesNotHold},
		{"happy: memory measured alone and costly", mem(28000, 600), Partly},
		{"sad: memory measured alone and cheap", mem(650, 600), DoesNotHold},
		{"sad: event loop used nothing", mem(28000, 0), Partly},
		{"sad: nothing measured", threadCostInput{}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, because := judgeThreadCost(tt.in)
			if got != tt.want {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
			if because == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestJudgeFD(t *testing.T) {
	tests := []struct {
		name string
		in   fdInput
		want Verdict
	}{
		{"happy: fds follow sockets", fdInput{Have: true, ThreadFDs: 1, ThreadThreads: 1, EpollFDs: 1.01, EpollThreads: 0}, DoesNotHold},
		{"happy: thread model holds a second fd per connection", fdInput{Have: true, ThreadFDs: 2, ThreadThreads: 1, EpollFDs: 1, EpollThreads: 0}, Partly},
		{"sad: the loop lost its connections", fdInput{Have: true, ThreadFDs: 1, ThreadThreads: 1, EpollFDs: 0.3, EpollThreads: 0}, Partly},
		{"sad: the loop has a thread per connection", fdInput{Have: true, ThreadFDs: 1, ThreadThreads: 1, EpollFDs: 1, EpollThreads: 1}, Partly},
		{"sad: not measured", fdInput{}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, because := judgeFD(tt.in); got != tt.want {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
		})
	}
}

func TestJudgeLoopMemory(t *testing.T) {
	base := loopInput{Have: true, Held: 15000, BytesPerConn: 10 << 10, NoFile: 1 << 20, Ports: 28232, MemTotal: 24 << 30}
	emfile := base
	emfile.Failure = "accept: too many open files"
	unlimited := base
	unlimited.NoFile = 1 << 40
	tests := []struct {
		name    string
		in      loopInput
		want    Verdict
		mention string
	}{
		{"happy: descriptor limit below memory's", base, Partly, "RLIMIT_NOFILE 1,048,576"},
		{"happy: no limit below memory's", unlimited, Holds, "memory would allow"},
		{"sad: ran out of descriptors", emfile, DoesNotHold, "too many open files"},
		{"sad: not measured", loopInput{}, NotMeasured, "did not run"},
		{"sad: zero bytes per connection", loopInput{Have: true, Held: 10}, NotMeasured, "did not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, because := judgeLoopMemory(tt.in)
			if got != tt.want {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
			if !strings.Contains(because, tt.mention) {
				t.Errorf("reason %q does not mention %q", because, tt.mention)
			}
		})
	}
}

func TestJudgePeers(t *testing.T) {
	nginx := peerFigures{Server: "nginx", Have: true, RPS: 120000, P99: 10000, MemPerConn: 600, HaveAlive: true, AliveFrac: 1, AliveLevel: 10000}
	good := func(name string) peerFigures {
		return peerFigures{Server: name, Have: true, RPS: 110000, P99: 12000, MemPerConn: 900, HaveAlive: true, AliveFrac: 1, AliveLevel: 10000}
	}
	slow := func(name string) peerFigures {
		p := good(name)
		p.RPS, p.P99 = 20000, 120000
		return p
	}
	broken := func(name string) peerFigures {
		p := slow(name)
		p.ErrorRate = 0.05
		return p
	}
	dropped := func(name string) peerFigures {
		p := good(name)
		p.AliveFrac = 0.9
		return p
	}
	crashed := func(name string) peerFigures {
		p := good(name)
		p.Failure = "in the idle scenario at 5k idle connections (timeout)"
		return p
	}
	badNginx := nginx
	badNginx.ErrorRate = 0.2
	tests := []struct {
		name string
		in   peersInput
		want Verdict
	}{
		{"happy: every apache fell short", peersInput{Level: 10000, Nginx: nginx, Apaches: []peerFigures{broken("apache-worker"), dropped("apache-event"), crashed("apache-prefork")}}, Holds},
		{"happy: some fell short", peersInput{Level: 10000, Nginx: nginx, Apaches: []peerFigures{broken("apache-worker"), slow("apache-event")}}, Partly},
		{"happy: all served, worse", peersInput{Level: 10000, Nginx: nginx, Apaches: []peerFigures{slow("apache-worker"), slow("apache-event")}}, Partly},
		{"happy: all served as well", peersInput{Level: 10000, Nginx: nginx, Apaches: []peerFigures{good("apache-worker"), good("apache-event")}}, DoesNotHold},
		{"sad: nginx itself failed", peersInput{Level: 10000, Nginx: badNginx, Apaches: []peerFigures{broken("apache-worker")}}, DoesNotHold},
		{"sad: no apache", peersInput{Level: 10000, Nginx: nginx}, NotMeasured},
		{"sad: no nginx", peersInput{Level: 10000, Apaches: []peerFigures{good("apache-worker")}}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, because := judgePeers(tt.in); got != tt.want {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
		})
	}
}

func TestJudgeOneCore(t *testing.T) {
	tests := []struct {
		name string
		in   coreInput
		want Verdict
	}{
		{"happy: one cpu, loop at the ceiling", coreInput{Have: true, WorkUS: 100, ServerCPUs: 1, EpollRPS: 9600, Best: 9300, BestName: "goroutine"}, Partly},
		{"happy: two cpus, threads use both", coreInput{Have: true, WorkUS: 100, ServerCPUs: 2, EpollRPS: 9600, Best: 18500, BestName: "goroutine"}, Holds},
		{"happy: two cpus, nobody scaled", coreInput{Have: true, WorkUS: 100, ServerCPUs: 2, EpollRPS: 9600, Best: 9900, BestName: "thread"}, Partly},
		{"sad: loop above one core", coreInput{Have: true, WorkUS: 100, ServerCPUs: 2, EpollRPS: 16000}, DoesNotHold},
		{"sad: no work recorded", coreInput{Have: true, EpollRPS: 9600}, NotMeasured},
		{"sad: not measured", coreInput{}, NotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, because := judgeOneCore(tt.in); got != tt.want {
				t.Errorf("verdict %q, want %q (%s)", got, tt.want, because)
			}
		})
	}
}

func TestSwitchingJudgedPrefersApacheWorker(t *testing.T) {
	level := func(ctxN int) []results.Level {
		var l results.Level
		l.Level = 1000
		l.Summary.RPS = results.Stat{Median: 9000, N: 3}
		l.Summary.CtxSwitchesPerReq = results.Stat{Median: 0.5, N: ctxN}
		return []results.Level{l}
	}
	sc := func(server string, ctxN int) results.Scenario {
		return results.Scenario{Scenario: "concurrency", Server: server, Levels: level(ctxN)}
	}
	tests := []struct {
		name   string
		scs    []results.Scenario
		want   string
		wantOK bool
	}{
		{"Apache worker beside the thread model", []results.Scenario{sc(registry.Thread, 3), sc(registry.ApacheWorker, 3), sc(registry.Epoll, 3)}, registry.ApacheWorker, true},
		{"no Apache worker", []results.Scenario{sc(registry.Thread, 3), sc(registry.Epoll, 3)}, registry.Thread, true},
		{"Apache worker without switches counted", []results.Scenario{sc(registry.Thread, 3), sc(registry.ApacheWorker, 0), sc(registry.Epoll, 3)}, registry.Thread, true},
		{"no event loop", []results.Scenario{sc(registry.Thread, 3), sc(registry.ApacheWorker, 3)}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lvl, ok := switchingJudged(newView(results.Run{}, tt.scs))
			if got != tt.want || ok != tt.wantOK || (ok && lvl != 1000) {
				t.Errorf("switchingJudged = %q, %d, %v; want %q, 1000, %v", got, lvl, ok, tt.want, tt.wantOK)
			}
		})
	}
}
