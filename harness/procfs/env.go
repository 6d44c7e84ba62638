package procfs

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Env describes the box and the limits that bound how many connections a
// server can hold, recorded with every run so results from different
// machines or tunings are never compared blindly.
type Env struct {
	Kernel    string `json:"kernel"`
	CPUModel  string `json:"cpu_model"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	// NoFileSoft and NoFileHard are RLIMIT_NOFILE of the harness process,
	// which its children (the servers) inherit unless they raise it.
	NoFileSoft uint64 `json:"nofile_soft"`
	NoFileHard uint64 `json:"nofile_hard"`
	PidMax     int    `json:"pid_max"`
	ThreadsMax int    `json:"threads_max"`
	// Somaxconn caps every listen backlog, whatever the server asks for.
	Somaxconn int `json:"somaxconn"`
	// PortRangeLow and PortRangeHigh bound the ephemeral ports, and so the
	// connections a load generator can open to one server address.
	PortRangeLow  int    `json:"port_range_low"`
	PortRangeHigh int    `json:"port_range_high"`
	MemTotal      uint64 `json:"mem_total_bytes"`
	Hostname      string `json:"hostname"`
}

// ReadEnv gathers Env. It is best effort: every field that can be read is
// filled in even when others fail, and the failures are returned joined,
// because a run with partial environment metadata is still worth keeping.
// Cores is runtime.NumCPU, i.e. the CPUs this process may run on, which is
// what bounds the servers, rather than the CPUs installed.
func ReadEnv() (Env, error) {
	e := Env{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	var errs []error

	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		errs = append(errs, fmt.Errorf("procfs: uname: %w", err))
	} else {
		e.Kernel = unix.ByteSliceToString(u.Release[:])
	}

	if b, err := readFile("/proc/cpuinfo"); err != nil {
		errs = append(errs, err)
	} else {
		e.CPUModel = parseCPUModel(b)
	}

	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		errs = append(errs, fmt.Errorf("procfs: getrlimit RLIMIT_NOFILE: %w", err))
	} else {
		e.NoFileSoft, e.NoFileHard = rl.Cur, rl.Max
	}

	for _, f := range []struct {
		path string
		dst  *int
	}{
		{"/proc/sys/kernel/pid_max", &e.PidMax},
		{"/proc/sys/kernel/threads-max", &e.ThreadsMax},
		{"/proc/sys/net/core/somaxconn", &e.Somaxconn},
	} {
		b, err := readFile(f.path)
		if err == nil {
			*f.dst, err = parseInt(b)
			if err != nil {
				err = fmt.Errorf("procfs: parse %s: %w", f.path, err)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}

	if b, err := readFile("/proc/sys/net/ipv4/ip_local_port_range"); err != nil {
		errs = append(errs, err)
	} else if e.PortRangeLow, e.PortRangeHigh, err = parsePortRange(b); err != nil {
		errs = append(errs, err)
	}

	if b, err := readFile("/proc/meminfo"); err != nil {
		errs = append(errs, err)
	} else if mi, err := parseMeminfo(b); err != nil {
		errs = append(errs, err)
	} else if v, ok := mi["MemTotal"]; !ok {
		errs = append(errs, errors.New("procfs: meminfo: no MemTotal field"))
	} else {
		e.MemTotal = v
	}

	if h, err := os.Hostname(); err != nil {
		errs = append(errs, fmt.Errorf("procfs: hostname: %w", err))
	} else {
		e.Hostname = h
	}
	return e, errors.Join(errs...)
}
