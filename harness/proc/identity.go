package proc

import (
	"bytes"
	"errors"
	"os"
	"strconv"
)

// StartTime returns when process pid started, in clock ticks after boot
// (field 22 of /proc/PID/stat). With the PID it names one process for
// good: a PID is reused, but not with the same start time.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	_, start, err := stateAndStart(b)
	return start, err
}

// Alive reports whether the process with this pid and start time still
// runs; a zombie has finished and does not count.
func Alive(pid int, start uint64) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	state, got, err := stateAndStart(b)
	return err == nil && got == start && state != 'Z' && state != 'X'
}

var errStat = errors.New("proc: malformed /proc/PID/stat")

// stateAndStart reads fields 3 and 22 of a stat line. The command name
// (field 2) may hold spaces and ')', so fields are counted after the last
// ')'.
func stateAndStart(b []byte) (byte, uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errStat
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 22-2 || len(f[0]) != 1 {
		return 0, 0, errStat
	}
	start, err := strconv.ParseUint(string(f[22-3]), 10, 64)
	if err != nil {
		return 0, 0, errStat
	}
	return f[0][0], start, nil
}
