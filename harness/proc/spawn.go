package proc

import (
	"fmt"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// spawnReq asks the spawner thread to run start with its mask set to cpus
// (nil: the harness's own mask).
type spawnReq struct {
	cpus  *unix.CPUSet
	start func() error
	done  chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

// onSpawner runs start on the spawner thread with that thread's CPU mask
// set to cpus, so that a fork inside start hands the mask to the child.
func onSpawner(cpus *unix.CPUSet, start func() error) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		ready := make(chan struct{})
		go spawner(ready)
		<-ready
	})
	r := spawnReq{cpus: cpus, start: start, done: make(chan error, 1)}
	spawnCh <- r
	return <-r.done
}

// spawner owns one OS thread for the life of the process. It is never
// unlocked: a child started with Pdeathsig is killed when the thread that
// forked it exits, and the Go runtime destroys a thread whose locked
// goroutine returns.
func spawner(ready chan<- struct{}) {
	runtime.LockOSThread()
	var orig unix.CPUSet
	origErr := unix.SchedGetaffinity(0, &orig)
	close(ready)
	for r := range spawnCh {
		r.done <- spawnOne(r, &orig, origErr)
	}
}

func spawnOne(r spawnReq, orig *unix.CPUSet, origErr error) error {
	if r.cpus == nil {
		return r.start()
	}
	if origErr != nil {
		return fmt.Errorf("proc: reading the harness CPU mask: %w", os.NewSyscallError("sched_getaffinity", origErr))
	}
	if err := unix.SchedSetaffinity(0, r.cpus); err != nil {
		return fmt.Errorf("proc: pinning to CPUs %s: %w", FormatCPUList(*r.cpus), os.NewSyscallError("sched_setaffinity", err))
	}
	err := r.start()
	// Restoring only matters for children started unpinned later; if it
	// fails they inherit the last mask, which is still a valid one.
	_ = unix.SchedSetaffinity(0, orig)
	return err
}
