package procfs

import (
	"fmt"
	"os"

	"c10k/harness/results"
)

// SampleMachine reads /proc/meminfo and /proc/net/sockstat. The socket
// counts are those of the caller's network namespace, so the harness must
// run in the same namespace as the servers it measures.
func SampleMachine() (results.Machine, error) {
	var m results.Machine
	b, err := readFile("/proc/meminfo")
	if err != nil {
		return m, err
	}
	mi, err := parseMeminfo(b)
	if err != nil {
		return m, err
	}
	for _, f := range []struct {
		key string
		dst *uint64
	}{
		{"KernelStack", &m.KernelStack},
		{"PageTables", &m.PageTables},
		{"Slab", &m.Slab},
		{"SUnreclaim", &m.SUnreclaim},
		{"MemAvailable", &m.MemAvailable},
	} {
		v, ok := mi[f.key]
		if !ok {
			return m, fmt.Errorf("procfs: meminfo: no %s field", f.key)
		}
		*f.dst = v
	}

	if b, err = readFile("/proc/net/sockstat"); err != nil {
		return m, err
	}
	ss, err := parseSockstat(b)
	if err != nil {
		return m, err
	}
	var tcpMemPages int
	for _, f := range []struct {
		proto, key string
		dst        *int
	}{
		{"TCP", "inuse", &m.TCPInUse},
		{"TCP", "orphan", &m.TCPOrphan},
		{"TCP", "tw", &m.TCPTimeWait},
		{"TCP", "alloc", &m.TCPAlloc},
		{"TCP", "mem", &tcpMemPages},
		{"sockets", "used", &m.SocketsUsed},
	} {
		v, ok := ss[f.proto][f.key]
		if !ok {
			return m, fmt.Errorf("procfs: sockstat: no %s %s field", f.proto, f.key)
		}
		*f.dst = int(v)
	}
	m.TCPMem = uint64(tcpMemPages) * uint64(os.Getpagesize())
	return m, nil
}

// MachineThreads counts the threads (scheduling entities) on the machine
// now, from the fourth field of /proc/loadavg ("running/total"); 0 if it
// cannot be read. Threads started or ended by other programs during a
// measurement make the machine-wide kernel figures unreliable.
func MachineThreads() int {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	return parseLoadavgTasks(b)
}
