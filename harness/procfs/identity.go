package procfs

import "os"

// StartTime returns when process pid started, in clock ticks after boot:
// with the PID it names one process for good, since a PID is reused but
// never with the same start time.
func StartTime(pid int) (uint64, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return st.starttime, nil
}

// Alive reports whether the process that started at start with this pid
// still runs (a zombie does not count).
func Alive(pid int, start uint64) bool {
	st, err := readStat(pid)
	if err != nil {
		return false
	}
	return st.starttime == start && !isZombie(st)
}

// SelfStartTime is StartTime of this process.
func SelfStartTime() (uint64, error) { return StartTime(os.Getpid()) }
