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
//     returns how many events it stored, whether it was woken (see wake),
//     and whether it had to block (found nothing ready at first); event(i)
//     reads the i-th event until the next wait. The events array is reused
//     for every wait: no allocation per wait.
//   - wake is the one cross-goroutine call (Go's netpollBreak): it makes the
//     wait in progress, or the next one, return with woken set. The
//     backend owns the mechanism and drains it itself inside wait, so the
//     wake-up is never reported as an fd event and no caller handler sees
//     it. Wake-ups coalesce: any number of wake calls before a wait returns
//     make one woken wait, and only the first of them pays a system call.
//     The owner must not call wake once close has begun (loop.go orders the
//     two under its mutex), since the fd number could be reused.
//   - Readiness is level-triggered: an fd that is still readable after its
//     handler ran is reported again by the next wait, so a handler may stop
//     reading early (fairness) without losing data.
//   - Error and hang-up conditions are reported as Readable|Writable, so
//     whichever path the owner is waiting on runs into the error or EOF
//     through read(2)/write(2) itself. A backend never invents a third bit.
//   - An interrupted wait (EINTR) is not an error: it returns 0 events.

import (
	"encoding/binary"
	"os"
	"sync/atomic"

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

// poller is the epoll instance, its reusable events array and its
// wake-up eventfd.
type poller struct {
	epfd   int
	events []unix.EpollEvent
	wakefd int
	// wakeSig is 1 from the wake that wrote to wakefd until wait drains
	// it: the wakes in between have nothing to add (netpollWakeSig).
	wakeSig atomic.Uint32
}

// eventfdOne is the 8-byte native-endian 1 that a write adds to an
// eventfd's counter.
var eventfdOne = binary.NativeEndian.AppendUint64(nil, 1)

func newPoller(size int) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	p := &poller{epfd: epfd, events: make([]unix.EpollEvent, size), wakefd: wakefd}
	if err := p.add(wakefd, Readable); err != nil {
		_ = unix.Close(wakefd)
		_ = unix.Close(epfd)
		return nil, err
	}
	return p, nil
}

func (p *poller) close() error {
	errWake := unix.Close(p.wakefd)
	errPoll := unix.Close(p.epfd)
	if errWake != nil {
		return os.NewSyscallError("close", errWake)
	}
	if errPoll != nil {
		return os.NewSyscallError("close", errPoll)
	}
	return nil
}

// wake makes the current or next wait return woken. Any goroutine may
// call it.
func (p *poller) wake() {
	if !p.wakeSig.CompareAndSwap(0, 1) {
		return // a write is already pending: the loop will see this wake too
	}
	// EAGAIN means the counter is already non-zero: the wait returns anyway.
	_, _ = unix.Write(p.wakefd, eventfdOne)
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

func (p *poller) wait(msec int) (n int, woken, blocked bool, err error) {
	// A busy loop nearly always finds events ready: collect them without
	// the scheduler's syscall protocol (see rawsys.go), and only a wait
	// that may really block goes through it.
	n, err = rawPoll(p.epfd, p.events)
	if n > 0 || msec == 0 || (err != nil && err != unix.EINTR) {
		if err == unix.EINTR {
			return 0, false, false, nil
		}
		if err != nil {
			return 0, false, false, os.NewSyscallError("epoll_wait", err)
		}
		n, woken = p.takeWake(n)
		return n, woken, false, nil
	}
	n, err = unix.EpollWait(p.epfd, p.events, msec)
	if err == unix.EINTR {
		return 0, false, true, nil
	}
	if err != nil {
		return 0, false, true, os.NewSyscallError("epoll_wait", err)
	}
	n, woken = p.takeWake(n)
	return n, woken, true, nil
}

// takeWake removes the wake-up from the n events just stored, if it is
// among them, and drains it. The events after it move up rather than
// trade places with the last: the kernel's order is its round robin over
// ready fds, and a wake-up should not change who goes first.
func (p *poller) takeWake(n int) (int, bool) {
	for i := range n {
		if p.events[i].Fd != int32(p.wakefd) {
			continue
		}
		var b [8]byte
		// Drain before clearing wakeSig: a wake between the two finds it
		// still set and writes nothing, and what it announced is collected
		// after this wait returns, so it is not lost.
		_, _ = rawRead(p.wakefd, b[:])
		p.wakeSig.Store(0)
		copy(p.events[i:n], p.events[i+1:n])
		return n - 1, true
	}
	return n, false
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
