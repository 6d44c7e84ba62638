package procfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// clkTck is USER_HZ, the unit of the tick counts in /proc/PID/stat. The
// kernel fixes it at 100 for the user-space ABI on every architecture Go
// supports on Linux, independent of the kernel's internal HZ; Go cannot call
// sysconf(_SC_CLK_TCK) without cgo, so it is a constant here.
const clkTck = 100

// statInfo is the part of /proc/PID/stat the sampler needs.
type statInfo struct {
	comm           string
	state          byte
	ppid           int
	utime, stime   uint64 // ticks, whole thread group, including exited threads
	cutime, cstime uint64 // ticks, reaped children
}

// parseStat parses /proc/PID/stat. The comm field (2) is in parentheses and
// may itself contain spaces and ')', so the line is split at the last ')':
// nothing after comm can contain one.
func parseStat(b []byte) (statInfo, error) {
	var s statInfo
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return s, errors.New("procfs: stat: no (comm) field")
	}
	s.comm = string(b[open+1 : closing])
	f := strings.Fields(string(b[closing+1:]))
	// f[0] is field 3 (state), so field n of proc(5) is f[n-3]; we need up to
	// field 17 (cstime).
	const need = 17 - 3 + 1
	if len(f) < need {
		return s, fmt.Errorf("procfs: stat: %d fields after comm, want at least %d", len(f), need)
	}
	if len(f[0]) != 1 {
		return s, fmt.Errorf("procfs: stat: bad state %q", f[0])
	}
	s.state = f[0][0]
	var err error
	if s.ppid, err = strconv.Atoi(f[4-3]); err != nil {
		return s, fmt.Errorf("procfs: stat: ppid: %w", err)
	}
	for _, t := range []struct {
		field int
		dst   *uint64
		name  string
	}{
		{14, &s.utime, "utime"},
		{15, &s.stime, "stime"},
		{16, &s.cutime, "cutime"},
		{17, &s.cstime, "cstime"},
	} {
		if *t.dst, err = strconv.ParseUint(f[t.field-3], 10, 64); err != nil {
			return s, fmt.Errorf("procfs: stat: %s: %w", t.name, err)
		}
	}
	return s, nil
}

// statusInfo is the part of /proc/PID/status the sampler needs.
type statusInfo struct {
	rss     uint64 // bytes; 0 for kernel threads and zombies, which have no mm
	threads int
	// Context switches of this task only: for /proc/PID/status that is the
	// thread-group leader, not the whole process.
	voluntary, involuntary uint64
}

// parseStatus parses /proc/PID/status (or /proc/PID/task/TID/status).
// VmRSS is optional because kernel threads and zombies have no address
// space; Threads and the context-switch counters are always present.
func parseStatus(b []byte) (statusInfo, error) {
	var s statusInfo
	var haveThreads, haveVol, haveInvol bool
	err := eachKeyValue(b, func(key, val string) error {
		var err error
		switch key {
		case "VmRSS":
			s.rss, err = parseKB(val)
		case "Threads":
			s.threads, err = strconv.Atoi(val)
			haveThreads = true
		case "voluntary_ctxt_switches":
			s.voluntary, err = strconv.ParseUint(val, 10, 64)
			haveVol = true
		case "nonvoluntary_ctxt_switches":
			s.involuntary, err = strconv.ParseUint(val, 10, 64)
			haveInvol = true
		default:
			return nil
		}
		if err != nil {
			return fmt.Errorf("procfs: status: %s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	switch {
	case !haveThreads:
		return s, errors.New("procfs: status: no Threads field")
	case !haveVol:
		return s, errors.New("procfs: status: no voluntary_ctxt_switches field")
	case !haveInvol:
		return s, errors.New("procfs: status: no nonvoluntary_ctxt_switches field")
	}
	return s, nil
}

// parsePss sums the Pss lines of /proc/PID/smaps_rollup, in bytes. Summing
// rather than taking the single line lets the same parser read the full
// /proc/PID/smaps on kernels without smaps_rollup (before 4.14). An empty
// file is valid and means 0: the kernel prints nothing for a process with no
// address space (a zombie or a kernel thread).
func parsePss(b []byte) (uint64, error) {
	var total uint64
	err := eachKeyValue(b, func(key, val string) error {
		if key != "Pss" {
			return nil
		}
		v, err := parseKB(val)
		if err != nil {
			return fmt.Errorf("procfs: smaps: Pss: %w", err)
		}
		total += v
		return nil
	})
	return total, err
}

// parseMeminfo parses /proc/meminfo into bytes per key. Values with a kB
// unit are converted to bytes; unitless values (HugePages_Total, ...) are
// counts and kept as they are.
func parseMeminfo(b []byte) (map[string]uint64, error) {
	m := make(map[string]uint64, 64)
	err := eachKeyValue(b, func(key, val string) error {
		v, err := parseKB(val)
		if err != nil {
			return fmt.Errorf("procfs: meminfo: %s: %w", key, err)
		}
		m[key] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, errors.New("procfs: meminfo: empty")
	}
	return m, nil
}

// parseSockstat parses /proc/net/sockstat, whose lines look like
// "TCP: inuse 1 orphan 0 tw 8 alloc 1 mem 147", into
// protocol -> name -> value. Values are kept in the file's units (TCP mem is
// in pages).
func parseSockstat(b []byte) (map[string]map[string]int64, error) {
	m := make(map[string]map[string]int64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		proto, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("procfs: sockstat: no ':' in %q", line)
		}
		f := strings.Fields(rest)
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("procfs: sockstat: odd number of fields in %q", line)
		}
		kv := make(map[string]int64, len(f)/2)
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("procfs: sockstat: %s %s: %w", proto, f[i], err)
			}
			kv[f[i]] = v
		}
		m[proto] = kv
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("procfs: sockstat: %w", err)
	}
	return m, nil
}

// parseChildren parses /proc/PID/task/TID/children: space-separated PIDs,
// possibly empty.
func parseChildren(b []byte) ([]int, error) {
	f := strings.Fields(string(b))
	pids := make([]int, 0, len(f))
	for _, s := range f {
		p, err := strconv.Atoi(s)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("procfs: children: bad pid %q", s)
		}
		pids = append(pids, p)
	}
	return pids, nil
}

// parseInt parses a one-number /proc/sys file.
func parseInt(b []byte) (int, error) {
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// parsePortRange parses /proc/sys/net/ipv4/ip_local_port_range ("low high").
func parsePortRange(b []byte) (low, high int, err error) {
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("procfs: ip_local_port_range: want 2 fields, got %q", b)
	}
	if low, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, fmt.Errorf("procfs: ip_local_port_range: %w", err)
	}
	if high, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, fmt.Errorf("procfs: ip_local_port_range: %w", err)
	}
	return low, high, nil
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo, or "" when
// there is none (several non-x86 architectures do not print one; that is
// not worth failing a run over).
func parseCPUModel(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// eachKeyValue calls fn for every "Key: value" line of a status-like file,
// with both sides trimmed. Lines without ':' are an error, because every
// file it reads is made only of such lines and anything else means the
// format is not what the parser expects.
func eachKeyValue(b []byte, fn func(key, val string) error) error {
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("procfs: no ':' in line %q", line)
		}
		key := string(bytes.TrimSpace(k))
		if strings.ContainsAny(key, " \t") {
			// A mapping header line (smaps, smaps_rollup's first line): its
			// first ':' is inside the device number, after spaces.
			continue
		}
		if err := fn(key, string(bytes.TrimSpace(v))); err != nil {
			return err
		}
	}
	return nil
}

// parseKB parses "1636 kB" to bytes, or a unitless "12" to 12.
func parseKB(s string) (uint64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, err
	}
	switch strings.TrimSpace(unit) {
	case "":
		return v, nil
	case "kB":
		return v * 1024, nil
	default:
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
}

// parseLoadavgTasks reads the total of the "running/total" field of
// /proc/loadavg; 0 if the field is missing or malformed.
func parseLoadavgTasks(b []byte) int {
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0
	}
	_, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(total)
	if err != nil {
		return 0
	}
	return n
}
