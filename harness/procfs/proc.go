package procfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"c10k/harness/results"
)

// ErrNoProcess is returned (wrapped) when the root PID of a sample does not
// exist or exits during the sample. Descendants that exit are skipped
// instead, because worker churn is normal for the servers under test.
var ErrNoProcess = errors.New("procfs: no such process")

// SampleProcess samples the single process pid, ignoring its children.
func SampleProcess(pid int) (results.Proc, error) {
	if err := checkPID(pid); err != nil {
		return results.Proc{}, err
	}
	r, err := sampleOne(pid, false)
	if err != nil {
		if gone(err) {
			return results.Proc{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return results.Proc{}, err
	}
	var t total
	t.add(r)
	return t.proc(false), nil
}

// SampleTree samples root and all of its descendants and returns the sums.
// It reads only process-level files, so its cost grows with the number of
// processes in the tree (and, when it has to scan /proc for them, on the
// machine), not with the number of threads.
func SampleTree(root int) (results.Proc, error) {
	return sampleTree(root, false)
}

// SampleTreeAllThreads is SampleTree with context switches summed over
// every thread of every process instead of each main thread only. It reads
// /proc/PID/task/TID/status for each thread, so it costs O(threads): use it
// for thread-per-connection servers when their context switches matter, and
// sample less often.
func SampleTreeAllThreads(root int) (results.Proc, error) {
	return sampleTree(root, true)
}

// rawProc is what one process contributes to a sample, in the kernel's
// units, so that sums are exact before converting ticks to seconds.
type rawProc struct {
	threads, fds           int
	rss, pss               uint64
	voluntary, involuntary uint64
	utime, stime           uint64
	cutime, cstime         uint64
}

type total struct {
	processes int
	rawProc
}

func (t *total) add(r rawProc) {
	t.processes++
	t.threads += r.threads
	t.fds += r.fds
	t.rss += r.rss
	t.pss += r.pss
	t.voluntary += r.voluntary
	t.involuntary += r.involuntary
	t.utime += r.utime
	t.stime += r.stime
	t.cutime += r.cutime
	t.cstime += r.cstime
}

func (t *total) proc(allThreads bool) results.Proc {
	return results.Proc{
		Processes:          t.processes,
		Threads:            t.threads,
		FDs:                t.fds,
		RSS:                t.rss,
		PSS:                t.pss,
		VoluntaryCtxt:      t.voluntary,
		InvoluntaryCtxt:    t.involuntary,
		CtxtAllThreads:     allThreads,
		UserCPUSec:         float64(t.utime) / clkTck,
		SystemCPUSec:       float64(t.stime) / clkTck,
		ReapedUserCPUSec:   float64(t.cutime) / clkTck,
		ReapedSystemCPUSec: float64(t.cstime) / clkTck,
	}
}

func checkPID(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("procfs: invalid pid %d", pid)
	}
	return nil
}

func sampleTree(root int, allThreads bool) (results.Proc, error) {
	if err := checkPID(root); err != nil {
		return results.Proc{}, err
	}
	pids, err := walkTree(root, func(pid int) (rawProc, error) {
		return sampleOne(pid, allThreads)
	})
	if err != nil {
		return results.Proc{}, err
	}
	var t total
	for _, r := range pids {
		t.add(r)
	}
	return t.proc(allThreads), nil
}

// walkTree visits root and its descendants breadth first, sampling each
// with sample, and returns the samples by PID. Processes that vanish are
// left out, except the root, whose loss is ErrNoProcess.
func walkTree(root int, sample func(pid int) (rawProc, error)) (map[int]rawProc, error) {
	var (
		found = map[int]rawProc{}
		seen  = map[int]bool{root: true} // guards against PID-reuse cycles
		queue = []int{root}
		kids  = childFinder{root: root}
	)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		r, err := sample(pid)
		if err == nil {
			// Kept even if it exits before its children are listed: it was
			// read whole, and its CPU time belongs in this sample.
			found[pid] = r
			var children []int
			children, err = kids.children(pid, r.threads)
			for _, c := range children {
				if !seen[c] {
					seen[c] = true
					queue = append(queue, c)
				}
			}
		}
		switch {
		case err == nil:
		case !gone(err):
			return nil, err
		case pid == root:
			return nil, fmt.Errorf("pid %d: %w", root, ErrNoProcess)
		}
	}
	return found, nil
}

// childrenFileMaxThreads bounds the per-thread children-file walk: past it,
// one scan of /proc (cost: processes on the machine) is cheaper than
// reading one children file per thread.
const childrenFileMaxThreads = 64

// childFinder finds the direct children of a process, using the cheap
// per-thread children files for processes with few threads and falling back
// to a ppid scan of /proc, built at most once per sample.
type childFinder struct {
	root     int // never anyone's child within the tree, so not scanned
	byParent map[int][]int
}

func (c *childFinder) children(pid, threads int) ([]int, error) {
	if c.byParent == nil && threads <= childrenFileMaxThreads && haveChildrenFiles() {
		kids, err := childrenFromTasks(pid)
		if err == nil || gone(err) {
			return kids, err
		}
		// Anything else (e.g. EACCES under a restrictive ptrace policy):
		// the scan below needs only world-readable stat files.
	}
	if c.byParent == nil {
		m, err := scanParents(c.root)
		if err != nil {
			return nil, err
		}
		c.byParent = m
	}
	return c.byParent[pid], nil
}

// haveChildrenFiles reports whether the kernel was built with
// CONFIG_PROC_CHILDREN; without it the files simply do not exist, which
// would otherwise look like every process vanishing.
var haveChildrenFiles = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/thread-self/children")
	return err == nil
})

// childrenFromTasks reads the children file of every thread of pid: a
// child is listed under the thread that forked it, not under the process.
func childrenFromTasks(pid int) ([]int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tids, err := readDirNames(dir)
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, tid := range tids {
		b, err := readFile(dir + "/" + tid + "/children")
		if err != nil {
			if gone(err) {
				continue // thread exited; its children moved to a sibling
			}
			return nil, err
		}
		k, err := parseChildren(b)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k...)
	}
	return kids, nil
}

// scanParents maps every process on the machine except skip to its
// children, from the ppid field of /proc/*/stat. /proc lists thread-group
// leaders only, so it is one read per process. The kernel sums CPU time
// over all threads to print a stat file, so the tree's root, typically the
// process with 10,000 threads and already read once, is skipped.
func scanParents(skip int) (map[int][]int, error) {
	names, err := readDirNames("/proc")
	if err != nil {
		return nil, err
	}
	m := make(map[int][]int)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == skip {
			continue // not a process (meminfo, sys, self, ...), or the root
		}
		st, err := readStat(pid)
		if err != nil {
			if gone(err) {
				continue
			}
			return nil, err
		}
		m[st.ppid] = append(m[st.ppid], pid)
	}
	return m, nil
}

func readStat(pid int) (statInfo, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	b, err := readFile(path)
	if err != nil {
		return statInfo{}, err
	}
	st, err := parseStat(b)
	if err != nil {
		return statInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// sampleOne reads one process. An error for which gone reports true means
// the process exited during the read.
func sampleOne(pid int, allThreads bool) (rawProc, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	st, err := readStat(pid)
	if err != nil {
		return rawProc{}, err
	}
	b, err := readFile(dir + "/status")
	if err != nil {
		return rawProc{}, err
	}
	status, err := parseStatus(b)
	if err != nil {
		return rawProc{}, fmt.Errorf("%s/status: %w", dir, err)
	}
	// A zombie (or a thread-group leader that exited before its threads) has
	// released its address space, so smaps_rollup fails with ESRCH as if the
	// process were gone. It is still in the tree, and its CPU time still
	// counts until it is reaped, so for it such errors just mean "none".
	zombie := isZombie(st)
	tolerate := func(err error) error {
		if err == nil || !gone(err) {
			return err
		}
		if zombie {
			return nil
		}
		// It may have exited after stat was read: if it is a zombie now,
		// keep it rather than drop its CPU time from this one sample.
		if st2, err2 := readStat(pid); err2 == nil && isZombie(st2) {
			zombie = true
			return nil
		}
		return err
	}
	pss, err := readPss(dir)
	if err = tolerate(err); err != nil {
		return rawProc{}, err
	}
	fds, err := countFDs(dir + "/fd")
	if err = tolerate(err); err != nil {
		return rawProc{}, err
	}
	r := rawProc{
		threads:     status.threads,
		fds:         fds,
		rss:         status.rss,
		pss:         pss,
		voluntary:   status.voluntary,
		involuntary: status.involuntary,
		utime:       st.utime,
		stime:       st.stime,
		cutime:      st.cutime,
		cstime:      st.cstime,
	}
	if allThreads {
		vol, invol, err := threadCtxt(dir)
		switch {
		case err == nil:
			r.voluntary, r.involuntary = vol, invol
		case tolerate(err) != nil:
			return rawProc{}, err
		}
	}
	return r, nil
}

func isZombie(st statInfo) bool { return st.state == 'Z' || st.state == 'X' }

// readPss reads smaps_rollup, falling back to the much larger smaps on
// kernels older than 4.14 that lack it. A missing smaps_rollup is only
// taken as "too old" when the process directory is still there.
func readPss(dir string) (uint64, error) {
	path := dir + "/smaps_rollup"
	b, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr == nil {
			path = dir + "/smaps"
			b, err = readFile(path)
		}
	}
	if err != nil {
		return 0, err
	}
	pss, err := parsePss(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return pss, nil
}

// threadCtxt sums the context switches of every thread of a process.
func threadCtxt(dir string) (vol, invol uint64, err error) {
	tids, err := readDirNames(dir + "/task")
	if err != nil {
		return 0, 0, err
	}
	for _, tid := range tids {
		path := dir + "/task/" + tid + "/status"
		b, err := readFile(path)
		if err != nil {
			if gone(err) {
				continue
			}
			return 0, 0, err
		}
		s, err := parseStatus(b)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		vol += s.voluntary
		invol += s.involuntary
	}
	return vol, invol, nil
}

// gone reports whether err means the process (or thread) exited: its /proc
// directory disappeared (ENOENT) or the kernel noticed mid-read (ESRCH).
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH)
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("procfs: read %s: %w", path, err)
	}
	return b, nil
}

// readDirBatch is how many names are read per getdents round trip when
// listing /proc directories.
const readDirBatch = 1024

// countFDs counts the open fds of a process. Since Linux 6.2 the size that
// stat reports for /proc/PID/fd is the number of open fds, taken from the
// fd bitmap without building a directory entry per fd, which for 10,000 fds
// is about a thousand times cheaper than listing the directory. Older
// kernels report 0, and so does a process with no fds, so 0 falls back to
// listing, which is then cheap or necessary.
func countFDs(dir string) (int, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, fmt.Errorf("procfs: stat %s: %w", dir, err)
	}
	if n := fi.Size(); n > 0 {
		return int(n), nil
	}
	return countDir(dir)
}

// countDir counts the entries of dir. It uses Readdirnames in batches rather
// than os.ReadDir so that listing 10,000 fds costs no per-entry lstat or
// DirEntry, and never holds all the names at once.
func countDir(dir string) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, fmt.Errorf("procfs: open %s: %w", dir, err)
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(readDirBatch)
		n += len(names)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("procfs: read %s: %w", dir, err)
		}
	}
}

// readDirNames lists dir without stat-ing the entries.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("procfs: open %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("procfs: read %s: %w", dir, err)
	}
	return names, nil
}
