package loadgen

import (
	"os"
	"time"

	"c10k/internal/eventloop"
	"golang.org/x/sys/unix"
)

// ticker is a one-shot timer with nanosecond resolution for the open-loop
// schedule. The loop's own timers wake epoll_wait, whose timeout is whole
// milliseconds: at 2,000 req/s that would add up to a millisecond of
// pacing error to every intended-time latency. A timerfd watched on the
// same loop (the same poller, just one more fd) fires on time.
type ticker struct {
	loop *eventloop.Loop
	fd   int
	fn   func()
}

func newTicker(loop *eventloop.Loop, fn func()) (*ticker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	t := &ticker{loop: loop, fd: fd, fn: fn}
	if err := loop.Watch(fd, eventloop.Readable, t.onFire); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return t, nil
}

// arm makes fn run once d from now (at the next loop iteration if d <= 0).
// It replaces any earlier arming.
func (t *ticker) arm(d time.Duration) error {
	d = max(d, 1) // a zero value would disarm the timer
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return os.NewSyscallError("timerfd_settime", err)
	}
	return nil
}

func (t *ticker) onFire(fd int, _ eventloop.Mask) {
	var b [8]byte
	if _, err := unix.Read(fd, b[:]); err != nil {
		return // EAGAIN: re-armed after it fired; the new deadline stands
	}
	t.fn()
}

func (t *ticker) close() {
	_ = unix.Close(t.fd)
}
