package loadgen

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Every failure is counted by kind and the run ends by itself, cleanly.

func TestConnectionRefusedEndsTheRun(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there now
	begin := time.Now()
	r := run(t, Options{URL: url, Connections: 4, Duration: 10 * time.Second, DeadAfter: 300 * time.Millisecond, Loops: 1})
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("took %v: a refusing server must end the run early", took)
	}
	if r.Complete || !strings.Contains(r.Message, "gone") || !strings.Contains(r.Message, "refused") {
		t.Fatalf("complete %v message %q: want an early end that says why", r.Complete, r.Message)
	}
	if r.Errors["connect"] == 0 || r.Requests != 0 {
		t.Fatalf("errors %v requests %d, want connect errors only", r.Errors, r.Requests)
	}
}

func TestServerKilledMidRunEndsWithPartialResults(t *testing.T) {
	tests := []struct {
		name string
		rate float64
	}{
		{"sad closed loop", 0},
		{"sad open loop", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			go func() {
				time.Sleep(500 * time.Millisecond)
				s.kill()
			}()
			begin := time.Now()
			r := run(t, Options{URL: s.url(), Connections: 4, Duration: 10 * time.Second, Rate: tt.rate,
				DeadAfter: 300 * time.Millisecond, Loops: 1})
			if took := time.Since(begin); took > 5*time.Second {
				t.Fatalf("took %v: a dead server must end the run early", took)
			}
			if r.Complete || !strings.Contains(r.Message, "partial") {
				t.Fatalf("complete %v message %q, want a partial result", r.Complete, r.Message)
			}
			if r.Requests == 0 || r.Errors["connect"] == 0 {
				t.Fatalf("requests %d errors %v: want the half second of work and the failed reconnects", r.Requests, r.Errors)
			}
			if r.DurationS < 0.4 || r.DurationS > 3 {
				t.Fatalf("duration %v s, want the part that ran (~0.5-1 s)", r.DurationS)
			}
		})
	}
}

func TestNon200IsAStatusError(t *testing.T) {
	s := startServer(t, withStatus(503))
	r := run(t, Options{URL: s.url(), Connections: 2, Duration: 300 * time.Millisecond, Loops: 1})
	if r.Requests == 0 || r.Errors["status"] != r.Requests || !r.Complete {
		t.Fatalf("requests %d errors %v complete %v: every answer is a status error, and still a request",
			r.Requests, r.Errors, r.Complete)
	}
	if r.TotalErrors() != r.Errors["status"] {
		t.Fatalf("errors %v: only status errors expected", r.Errors)
	}
}

func TestMalformedResponseIsAParseError(t *testing.T) {
	tests := []struct {
		name string
		opt  serverOption
	}{
		{"sad not http", withGarbage()},
		{"sad answer nobody asked for", withExtra()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.opt)
			r := run(t, Options{URL: s.url(), Connections: 2, Duration: 300 * time.Millisecond, Loops: 1})
			if r.Errors["parse"] == 0 {
				t.Fatalf("errors %v, want parse errors", r.Errors)
			}
			if !r.Complete {
				t.Fatalf("message %q: a server answering garbage is alive; the run should complete", r.Message)
			}
		})
	}
}

// A request left unanswered past -timeout counts as a timeout and its
// connection is replaced; the run goes on.
func TestUnansweredRequestsTimeOut(t *testing.T) {
	s := startServer(t)
	s.freeze(time.Hour)
	r := run(t, Options{URL: s.url(), Connections: 2, Duration: 800 * time.Millisecond, Timeout: 200 * time.Millisecond, Loops: 1})
	if r.Errors["timeout"] < 2 || r.Requests != 0 {
		t.Fatalf("requests %d errors %v, want timeouts", r.Requests, r.Errors)
	}
	if got := s.accepted.Load(); got < 4 {
		t.Fatalf("server accepted %d connections, want the timed-out ones replaced", got)
	}
	s.freeze(0)
}

// With no connection open and every connect failing, the verdict names the
// cause: a server gone, or this side out of local ports (EADDRNOTAVAIL),
// which no restart of the server would fix.
func TestDeadServerVerdictNamesTheCause(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"server gone", os.NewSyscallError("connect", unix.ECONNREFUSED), "server at 127.0.0.1:1 gone"},
		{"out of local ports", os.NewSyscallError("connect", unix.EADDRNOTAVAIL), "out of local ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &plan{tgt: target{addr: netip.MustParseAddrPort("127.0.0.1:1")}, base: time.Now().Add(-time.Minute)}
			w := &worker{p: p}
			w.connectError(tt.err)
			c := &coordinator{p: p, o: &Options{}, workers: []*worker{w}}
			if got := c.deadServer(); !strings.Contains(got, tt.want) {
				t.Fatalf("verdict %q, want it to say %q", got, tt.want)
			}
		})
	}
}
