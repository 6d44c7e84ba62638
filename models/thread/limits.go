package thread

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// threadMargin is kept free for the runtime's own threads: sysmon, one per
// P, the spares it starts when a P is handed off from a blocked thread, and
// the acceptor. A goroutine that removed its connection still holds its
// thread for a moment while it exits, which the margin also covers.
const threadMargin = 64

// defaultMaxThreads is Go's own default, used when no limit can be read.
const defaultMaxThreads = 10000

// Limits is what bounds this process's thread count, read once.
type Limits struct {
	// MaxThreads is the value given to debug.SetMaxThreads.
	MaxThreads int
	// MaxConns is how many connection threads the model will run at once;
	// connections beyond it are accepted and closed.
	MaxConns int
	// BoundBy names the limit that set MaxThreads, for the log.
	BoundBy string
}

var (
	limitsOnce sync.Once
	limits     Limits
)

// ProcessLimits computes the thread limits and applies MaxThreads with
// debug.SetMaxThreads, once per process (the first call's procs counts).
//
// Go's default of 10,000 threads sits below the descriptor limit of a box
// tuned for C10K, and exceeding it is a fatal error, not a recoverable one,
// so the model raises it. Raising it is not enough: when the kernel refuses
// a thread (threads-max, pid_max, RLIMIT_NPROC, a pids cgroup, or the
// mappings each cgo thread stack takes) the runtime aborts with "failed to
// create new OS thread", which cannot be caught either. So the limit is the
// smallest of those, less what other processes already use, and the model
// stays threadMargin below it.
//
// procs is how many processes of the model share the machine (c10k serve
// -procs, server.Config.Procs). The machine-wide limits are split evenly
// between them: each would otherwise see the whole remaining budget as
// its own and N of them together could overrun it into that abort. A
// process's own limit (its address space's mappings) is not split.
func ProcessLimits(procs int) Limits {
	limitsOnce.Do(func() {
		limits = computeLimits(readSources(), procs)
		debug.SetMaxThreads(limits.MaxThreads)
	})
	return limits
}

// source is one candidate bound on the thread count.
type source struct {
	name  string
	limit int  // <= 0: unknown or unlimited
	own   bool // the process's own limit; otherwise the machine's, shared
}

func readSources() []source {
	total := systemThreads()
	minusOthers := func(v int) int {
		if v <= 0 || total <= 0 {
			return v
		}
		return v - total
	}
	var nproc int
	var rl unix.Rlimit
	// Root is exempt from RLIMIT_NPROC (CAP_SYS_RESOURCE), others are not.
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &rl); err == nil && rl.Cur != unix.RLIM_INFINITY && os.Geteuid() != 0 {
		nproc = int(min(rl.Cur, 1<<30))
	}
	return []source{
		{"kernel.threads-max", minusOthers(readInt("/proc/sys/kernel/threads-max")), false},
		{"kernel.pid_max", minusOthers(readInt("/proc/sys/kernel/pid_max")), false},
		{"RLIMIT_NPROC", nproc, false},
		{"pids cgroup", cgroupPidsMax(), false},
		// Each thread stack made by pthread_create (cgo builds) is a mapping
		// plus a guard page.
		{"vm.max_map_count/2", readInt("/proc/sys/vm/max_map_count") / 2, true},
	}
}

func computeLimits(sources []source, procs int) Limits {
	l := Limits{MaxThreads: defaultMaxThreads, BoundBy: "Go default"}
	found := false
	for _, s := range sources {
		if s.limit <= 0 {
			continue
		}
		if !s.own && procs > 1 {
			s.limit /= procs
			s.name = fmt.Sprintf("%s shared by %d processes", s.name, procs)
		}
		if !found || s.limit < l.MaxThreads {
			l.MaxThreads, l.BoundBy, found = s.limit, s.name, true
		}
	}
	margin := threadMargin + runtime.GOMAXPROCS(0)
	l.MaxThreads = max(l.MaxThreads, 2*margin)
	l.MaxConns = l.MaxThreads - margin
	return l
}

// systemThreads is the number of threads on the machine: the fourth field
// of /proc/loadavg is "running/total" scheduling entities.
func systemThreads() int {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0
	}
	_, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(total)
	return n
}

// cgroupPidsMax reads pids.max of this process's cgroup (v2, or the v1
// pids hierarchy) less pids.current, since the cgroup's other processes
// share it; 0 means unlimited or unknown.
func cgroupPidsMax() int {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "hierarchy-ID:controllers:path"
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var dir string
		switch {
		case parts[0] == "0" && parts[1] == "":
			dir = "/sys/fs/cgroup" + parts[2]
		case hasController(parts[1], "pids"):
			dir = "/sys/fs/cgroup/pids" + parts[2]
		default:
			continue
		}
		if n := readInt(dir + "/pids.max"); n > 0 {
			return max(n-readInt(dir+"/pids.current"), 1)
		}
	}
	return 0
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readInt reads a file holding one integer; 0 for anything else ("max").
func readInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil {
		return 0
	}
	return n
}
