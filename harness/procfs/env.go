package procfs

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"c10k/harness/results"
)

// ReadEnv gathers Env. It is best effort: every field that can be read is
// filled in even when others fail, and the failures are returned joined,
// because a run with partial environment metadata is still worth keeping.
// Cores is runtime.NumCPU, i.e. the CPUs this process may run on, which is
// what bounds the servers, rather than the CPUs installed.
func ReadEnv() (results.Env, error) {
	e := results.Env{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
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
