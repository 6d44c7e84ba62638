package sampler

import (
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestSamplerTicksAndCountsConns samples this test process, which holds
// known connections to its own listener, in the background.
func TestSamplerTicksAndCountsConns(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 3
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	s := Start(Config{Root: os.Getpid(), Port: ln.Addr().(*net.TCPAddr).Port, Period: 20 * time.Millisecond})
	s.SetLoad(os.Getpid())
	time.Sleep(150 * time.Millisecond)
	point, err := s.Take()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 3 {
		t.Fatalf("%d samples in 150 ms at 20 ms", len(samples))
	}
	for i := 1; i < len(samples); i++ {
		if samples[i].T < samples[i-1].T {
			t.Errorf("sample %d goes back in time", i)
		}
	}
	if point.ServerConns != n || point.QueuedConns != 0 {
		t.Errorf("conns %d queued %d, want %d and 0", point.ServerConns, point.QueuedConns, n)
	}
	if point.Proc.FDs < 2*n || point.Proc.Threads < 1 || point.Proc.PSS == 0 || !point.Proc.CtxtAllThreads {
		t.Errorf("implausible process sample %+v", point.Proc)
	}
	if point.Load == nil || point.CPUBusyS <= 0 || point.Machine.Slab == 0 {
		t.Errorf("missing load, CPU or machine reading: %+v", point)
	}
}

func TestSamplerSadServerGone(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := cmd.Run(); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	s := Start(Config{Root: cmd.Process.Pid, Period: 10 * time.Millisecond})
	samples, err := s.Stop()
	if !Gone(err) || len(samples) != 0 {
		t.Errorf("Stop = %d samples, %v; want none and a gone error", len(samples), err)
	}
	if _, err := s.Take(); !Gone(err) {
		t.Errorf("Take after gone = %v", err)
	}
}
