package eventloop

// This file is the only one that knows the loop runs on epoll.
//
// Backend contract (what loop.go relies on, whatever the mechanism):
//
//   - newPoller(size) creates an instance able to report up to size events
//     per wait; close releases it.
//   - add, modify and del register, change and remove the interest of one
//     fd. The loop calls add when an fd's mask goes from empty to non-empty,
//     del when it goes back to empty, modify otherwise; a backend never sees
//     an empty mask.
//   - wait blocks for at most msec milliseconds (-1: no limit, 0: poll) and
//     returns how many events it stored, and whether it had to block for
//     them (found nothing ready at first); event(i) reads the i-th of them
//     until the next wait. The events array is reused for every wait: no
//     allocation per wait.
//   - Readiness is level-triggered: an fd that is still readable after its
//     handler ran is reported again by the next wait, so a handler may stop
//     reading early (fairness) without losing data.
//   - Error and hang-up conditions are reported as Readable|Writable, so
//     whichever path the owner is waiting on runs into the error or EOF
//     through read(2)/write(2) itself. A backend never invents a third bit.
//   - An interrupted wait (EINTR) is not an error: it returns 0 events.

import (
	"os"

	"golang.org/x/sys/unix"
)

// Mask is a set of readiness conditions on a file descriptor: the interest
// a caller registers, and what a wait reports as fired.
type Mask uint32

const (
	// Readable: a read(2) or accept(2) will not block. Also reported on
	// end of file, hang-up and socket errors, so that the read path is what
	// discovers EOF (read returns 0) or the error (read fails).
	Readable Mask = 1 << iota
	// Writable: a write(2) will not block, or a non-blocking connect(2)
	// has finished (check SO_ERROR). Also reported on errors and hang-up,
	// so a writer blocked on a full buffer learns the peer is gone.
	Writable
)

// String returns "", "r", "w" or "rw".
func (m Mask) String() string {
	s := ""
	if m&Readable != 0 {
		s += "r"
	}
	if m&Writable != 0 {
		s += "w"
	}
	return s
}

// poller is the epoll instance and its reusable events array.
type poller struct {
	epfd   int
	events []unix.EpollEvent
}

func newPoller(size int) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &poller{epfd: epfd, events: make([]unix.EpollEvent, size)}, nil
}

func (p *poller) close() error {
	if err := unix.Close(p.epfd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

func (p *poller) add(fd int, mask Mask) error {
	ev := unix.EpollEvent{Events: epollBits(mask), Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl add", err)
	}
	return nil
}

func (p *poller) modify(fd int, mask Mask) error {
	ev := unix.EpollEvent{Events: epollBits(mask), Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl mod", err)
	}
	return nil
}

func (p *poller) del(fd int) error {
	// A non-nil event keeps pre-2.6.9 kernels happy; newer ones ignore it.
	var ev unix.EpollEvent
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl del", err)
	}
	return nil
}

func (p *poller) wait(msec int) (n int, blocked bool, err error) {
	// A busy loop nearly always finds events ready: collect them without
	// the scheduler's syscall protocol (see rawsys.go), and only a wait
	// that may really block goes through it.
	n, err = rawPoll(p.epfd, p.events)
	if n > 0 || msec == 0 || (err != nil && err != unix.EINTR) {
		if err == unix.EINTR {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, os.NewSyscallError("epoll_wait", err)
		}
		return n, false, nil
	}
	n, err = unix.EpollWait(p.epfd, p.events, msec)
	if err == unix.EINTR {
		return 0, true, nil
	}
	if err != nil {
		return 0, true, os.NewSyscallError("epoll_wait", err)
	}
	return n, true, nil
}

// event returns the fd and fired mask of the i-th event of the last wait.
func (p *poller) event(i int) (fd int, fired Mask) {
	ev := &p.events[i]
	if ev.Events&unix.EPOLLIN != 0 {
		fired |= Readable
	}
	if ev.Events&unix.EPOLLOUT != 0 {
		fired |= Writable
	}
	if ev.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		fired |= Readable | Writable
	}
	if ev.Events&unix.EPOLLRDHUP != 0 {
		fired |= Readable
	}
	return int(ev.Fd), fired
}

func epollBits(mask Mask) uint32 {
	var e uint32
	if mask&Readable != 0 {
		e |= unix.EPOLLIN
	}
	if mask&Writable != 0 {
		e |= unix.EPOLLOUT
	}
	return e
}
