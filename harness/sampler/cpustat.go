package sampler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of /proc/stat, fixed at 100 in the kernel's ABI.
const userHZ = 100

// ErrFormat is returned (wrapped) when a /proc file does not look as
// expected.
var ErrFormat = errors.New("sampler: unexpected /proc format")

// CPUTimes is the machine's cumulative CPU time, in seconds since boot.
type CPUTimes struct {
	Busy  float64 // user, nice, system, irq, softirq (guest time is inside user)
	Steal float64 // taken by the hypervisor
	Idle  float64 // idle and iowait
}

// ReadCPUTimes reads the aggregate "cpu" line of /proc/stat.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, fmt.Errorf("sampler: %w", err)
	}
	return parseCPUTimes(b)
}

func parseCPUTimes(b []byte) (CPUTimes, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		// cpu user nice system idle iowait irq softirq steal [guest guest_nice]
		if len(f) < 9 {
			return CPUTimes{}, fmt.Errorf("%w: /proc/stat cpu line has %d fields", ErrFormat, len(f))
		}
		var v [8]float64
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return CPUTimes{}, fmt.Errorf("%w: /proc/stat cpu field %d: %v", ErrFormat, i+1, err)
			}
			v[i] = float64(n) / userHZ
		}
		return CPUTimes{
			Busy:  v[0] + v[1] + v[2] + v[5] + v[6],
			Idle:  v[3] + v[4],
			Steal: v[7],
		}, nil
	}
	return CPUTimes{}, fmt.Errorf("%w: /proc/stat has no cpu line", ErrFormat)
}
