package procfs

import (
	"testing"
)

func TestSampleMachine(t *testing.T) {
	m, err := SampleMachine()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", m)
	// Any running Linux has kernel stacks, page tables, slab and free
	// memory; the TCP counts may legitimately be zero on an idle box.
	if m.KernelStack == 0 || m.PageTables == 0 || m.Slab == 0 || m.SUnreclaim == 0 || m.MemAvailable == 0 {
		t.Errorf("zero memory field in %+v", m)
	}
	if m.Slab < m.SUnreclaim {
		t.Errorf("Slab %d < SUnreclaim %d", m.Slab, m.SUnreclaim)
	}
	if m.SocketsUsed <= 0 {
		t.Errorf("SocketsUsed = %d, want > 0 (this test binary has sockets? at least the kernel counts some)", m.SocketsUsed)
	}
	if m.TCPInUse < 0 || m.TCPOrphan < 0 || m.TCPTimeWait < 0 || m.TCPAlloc < 0 {
		t.Errorf("negative TCP count in %+v", m)
	}
}

func TestReadEnv(t *testing.T) {
	e, err := ReadEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", e)
	if e.Kernel == "" || e.GoVersion == "" || e.Hostname == "" {
		t.Errorf("empty string field in %+v", e)
	}
	if e.Cores < 1 || e.PidMax <= 0 || e.ThreadsMax <= 0 || e.Somaxconn <= 0 || e.MemTotal == 0 {
		t.Errorf("non-positive field in %+v", e)
	}
	if e.NoFileSoft == 0 || e.NoFileSoft > e.NoFileHard {
		t.Errorf("RLIMIT_NOFILE soft %d hard %d", e.NoFileSoft, e.NoFileHard)
	}
	if e.PortRangeLow <= 0 || e.PortRangeLow >= e.PortRangeHigh {
		t.Errorf("port range %d-%d", e.PortRangeLow, e.PortRangeHigh)
	}
}
