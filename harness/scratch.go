package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"c10k/harness/proc"
)

// scratchPrefix names a run's scratch directory in the system's temporary
// directory: c10k-bench-PID-START-*, the harness's PID and start time, so
// a later run can tell a dead harness's leftovers from a live one's.
const scratchPrefix = "c10k-bench-"

// makeScratch creates the run's scratch directory, for the load
// generator's copy of the binary and the peers' configurations, after
// removing those of harnesses that died without cleaning up (SIGKILL
// gives them no chance). It is searchable by other users: Apache's
// children, dropped to www-data, serve from below it.
func makeScratch() (string, error) {
	removeStaleScratch(os.TempDir())
	pid := os.Getpid()
	start, _ := proc.StartTime(pid)
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-%d-", scratchPrefix, pid, start))
	if err != nil {
		return "", fmt.Errorf("harness: scratch directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("harness: scratch directory: %w", err)
	}
	return dir, nil
}

// removeStaleScratch removes the scratch directories in tmp whose harness
// is no longer running.
func removeStaleScratch(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, start, ok := scratchOwner(e.Name())
		if ok && e.IsDir() && !proc.Alive(pid, start) {
			restoreFromScratch(filepath.Join(tmp, e.Name()))
			os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
}

// scratchOwner reads the PID and start time from a scratch directory's
// name; ok is false for any other name.
func scratchOwner(name string) (pid int, start uint64, ok bool) {
	rest, found := strings.CutPrefix(name, scratchPrefix)
	if !found {
		return 0, 0, false
	}
	f := strings.SplitN(rest, "-", 3)
	if len(f) != 3 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, 0, false
	}
	return pid, start, true
}
