package proc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrBadCPUList is returned (wrapped) for a CPU list that does not parse.
var ErrBadCPUList = errors.New("proc: bad CPU list")

// ParseCPUList parses a CPU list in the kernel's format ("0", "0-3",
// "0,2,4-5"), as in /proc/PID/status Cpus_allowed_list and taskset -c.
func ParseCPUList(s string) (unix.CPUSet, error) {
	var set unix.CPUSet
	s = strings.TrimSpace(s)
	if s == "" {
		return set, fmt.Errorf("%w: empty", ErrBadCPUList)
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return set, fmt.Errorf("%w: %q", ErrBadCPUList, s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return set, fmt.Errorf("%w: %q", ErrBadCPUList, s)
			}
		}
		if b >= len(set)*64 {
			return set, fmt.Errorf("%w: CPU %d out of range", ErrBadCPUList, b)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

// FormatCPUList formats a set the way the kernel does ("0-2,5").
func FormatCPUList(set unix.CPUSet) string {
	var b strings.Builder
	n := len(set) * 64
	for c := 0; c < n; c++ {
		if !set.IsSet(c) {
			continue
		}
		end := c
		for end+1 < n && set.IsSet(end+1) {
			end++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c))
		if end > c {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(end))
		}
		c = end
	}
	return b.String()
}
