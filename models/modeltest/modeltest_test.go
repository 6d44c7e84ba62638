package modeltest

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"c10k/models/server"
)

func startFixture(f fault) StartFunc {
	return func(t *testing.T, cfg server.Config) server.Server {
		s, err := newFixture(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRunHappyFixture(t *testing.T) {
	Run(t, startFixture(faultNone))
}

// TestChecksSadFixtures runs single checks against broken servers: each
// check must notice the fault it exists for.
func TestChecksSadFixtures(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
		check string
	}{
		{name: "sad pipelining dropped", fault: faultNoPipeline, check: "pipelined three in one write"},
		{name: "sad pipelined bodies dropped", fault: faultNoPipeline, check: "pipelined with request bodies"},
		{name: "sad connection close ignored", fault: faultIgnoreClose, check: "connection close honoured"},
		{name: "sad http/1.0 left open", fault: faultIgnoreClose, check: "http/1.0 closes"},
		{name: "sad error without close", fault: faultKeepOnError, check: "garbage gets 400"},
		{name: "sad 431 without close", fault: faultKeepOnError, check: "header over 8 KiB gets 431"},
		{name: "sad waits serialised", fault: faultSerialWait, check: "wait overlaps across connections"},
		{name: "sad no work", fault: faultNoWork, check: "work is burned per request"},
		{name: "sad body size ignored", fault: faultFixedBody, check: "body size 1000"},
		{name: "sad head with body", fault: faultHeadBody, check: "head has no body"},
		{name: "sad close leaks connections", fault: faultLeakOnClose, check: "close ends connections and stops accepting"},
		{name: "sad slow clients dropped", fault: faultDropPartial, check: "slowloris does not starve others"},
		{name: "sad split request dropped", fault: faultDropPartial, check: "request split over many writes"},
		{name: "sad upstream connection per call", fault: faultNoUpstreamPool, check: "proxy answers after the upstream and reuses its connection"},
		{name: "sad upstream failure hidden", fault: faultUpstreamErrorIs200, check: "upstream sending garbage gets 502"},
		{name: "sad upstream timeout hidden", fault: faultUpstreamErrorIs200, check: "upstream slower than the timeout gets 504"},
	}
	// A broken server makes the checks wait out their timeouts; shorten them.
	defer func(io, cl time.Duration) { ioTimeout, closeTimeout = io, cl }(ioTimeout, closeTimeout)
	ioTimeout, closeTimeout = time.Second, 300*time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := findCheck(t, tt.check)
			cfg, bs := c.config(t)
			s, err := newFixture(cfg, tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			r := serve(t, s, cfg)
			r.backends = bs
			err = c.run(r)
			if err == nil {
				t.Fatalf("check %q passed a server with fault %d", tt.check, tt.fault)
			}
			t.Logf("check %q failed as it should: %v", tt.check, err)
		})
	}
}

func findCheck(t *testing.T, name string) check {
	t.Helper()
	for _, c := range checks {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no check named %q", name)
	return check{}
}

func TestHelperServe(t *testing.T) {
	f := faultNone
	if os.Getenv("MODELTEST_FAULT") == "spin" {
		f = faultSpinOnEMFILE
	}
	ServeChild(t, func(cfg server.Config) (server.Server, error) { return newFixture(cfg, f) })
}

func TestFDExhaustionHappyFixture(t *testing.T) {
	RunFDExhaustion(t, "TestHelperServe")
}

// TestFDExhaustionSadSpin runs the exhaustion test in a separate test
// process against a server that retries accept in a tight loop, and wants
// that process to fail for the spinning.
func TestFDExhaustionSadSpin(t *testing.T) {
	if os.Getenv("MODELTEST_FAULT") != "" {
		t.Skip("inner run")
	}
	if testing.Short() {
		t.Skip("starts two processes")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFDExhaustionHappyFixture$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "MODELTEST_FAULT=spin")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("exhaustion test passed a server that spins on EMFILE:\n%s", out)
	}
	if !strings.Contains(string(out), "spins on EMFILE") {
		t.Fatalf("exhaustion test failed, but not for spinning:\n%s", out)
	}
}

// lifecycleFake is a server whose Serve and Close return what it is told.
type lifecycleFake struct{ serveErr, closeErr error }

func (f lifecycleFake) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (f lifecycleFake) Serve() error   { return f.serveErr }
func (f lifecycleFake) Close() error   { return f.closeErr }

// The lifecycle check must fail a server that errs in Close or in a Serve
// that follows it.
func TestServeAfterCloseCatchesBrokenServers(t *testing.T) {
	tests := []struct {
		name    string
		s       lifecycleFake
		wantErr bool
	}{
		{"happy: both nil", lifecycleFake{}, false},
		{"sad: Close fails", lifecycleFake{closeErr: errors.New("boom")}, true},
		{"sad: Serve after Close fails", lifecycleFake{serveErr: errors.New("use of closed listener")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := serveAfterClose(tt.s); (err != nil) != tt.wantErr {
				t.Fatalf("serveAfterClose = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
