package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fdReserve is what the process needs besides its connections: stdio, the
// pollers and their wake-up fds, the output files, the Go runtime's own.
const fdReserve = 64

// RaiseFileLimit raises RLIMIT_NOFILE's soft limit to the hard limit, the
// most an unprivileged process may hold, and returns the soft limit in
// force afterwards. (Go already does this at start-up since 1.19; doing it
// again here keeps the library correct when embedded elsewhere.)
func RaiseFileLimit() (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, os.NewSyscallError("getrlimit", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			return 0, os.NewSyscallError("setrlimit", err)
		}
	}
	return lim.Cur, nil
}

// fitFileLimit caps active and idle connections to what limit allows,
// taking from the idle pool first (the active load is the measurement),
// and says plainly what it did.
func fitFileLimit(conns, idle int, limit uint64) (c, i int, msg string, err error) {
	budget := int64(limit) - fdReserve
	if int64(conns)+int64(idle) <= budget {
		return conns, idle, "", nil
	}
	if budget < 1 {
		return 0, 0, "", fmt.Errorf("%w: RLIMIT_NOFILE is %d", ErrFileLimit, limit)
	}
	c, i = conns, idle
	if int64(c) > budget {
		c = int(budget)
	}
	i = int(min(int64(i), budget-int64(c)))
	msg = fmt.Sprintf("RLIMIT_NOFILE (hard limit %d) caps connections: asked -c %d + -idle %d, running -c %d + -idle %d (raise it with ulimit -Hn or limits.conf)",
		limit, conns, idle, c, i)
	return c, i, msg, nil
}

// CPUs returns how many CPUs this process may run on (its affinity mask,
// so `taskset -c 1 c10k load` counts one), at least 1.
func CPUs() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 1
	}
	return max(set.Count(), 1)
}

// ephemeralPorts reads the size of the local port range; 28,232 is
// Linux's default (32768-60999) when the file cannot be read.
func ephemeralPorts() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 28232
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 28232
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 28232
	}
	return hi - lo + 1
}
