package eventloop

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Why raw system calls here.
//
// unix.Read, unix.Write and unix.EpollWait go through the Go scheduler's
// syscall protocol (entersyscall/exitsyscall): the thread gives up its P
// for the duration, and sysmon, seeing a P in a system call, polls every
// 20 us to hand it to another thread. On a loop pinned to one CPU that is
// a nanosleep and often a futex wake-up per request on the very core the
// loop needs (strace of the epoll model under wrk: 11,258 nanosleeps and
// 1,530 futex calls for 12,115 requests).
//
// A read or write on a non-blocking socket, and an epoll_wait with a zero
// timeout, never block, so the protocol buys nothing for them: they are
// made raw, keeping the P. Only a wait that may block goes through the
// scheduler, so an idle loop still releases its P (and a stop-the-world
// or the signal goroutine is never stuck behind it).

// rawRead is read(2) on a non-blocking fd.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// rawWrite is write(2) on a non-blocking fd.
func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// rawPoll is epoll_wait(2) with a zero timeout: it reports what is ready
// now and never blocks.
func rawPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// errnoErr returns the shared error values for the common errnos, so the
// hot path's EAGAIN does not allocate.
func errnoErr(e syscall.Errno) error {
	switch e {
	case unix.EAGAIN:
		return unix.EAGAIN
	case unix.EINTR:
		return unix.EINTR
	}
	return e
}
