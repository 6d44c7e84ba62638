package thread

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The scheduler hook behind the handoff mechanism (see doc.go): the same
// pair the runtime wraps around its own blocking sleeps (notetsleepg), and
// that gVisor pulls by linkname too, which is why Go keeps them exported to
// linkname ("do not remove or change the type signature", go.dev/issue/67401).
//
// entersyscallblock hands this thread's P to another thread at once, instead
// of leaving it in _Psyscall for sysmon to retake 20 us or more later, so
// with GOMAXPROCS=1 the one P is free for the next thread that wakes.
// exitsyscall takes an idle P if there is one, or queues the goroutine and
// parks the thread until a P runs it, as a waking kernel thread waits on a
// run queue.

//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// blockingSyscall is a system call that gives up the P before it blocks.
//
// What the runtime requires of it, as of notetsleepg:
//   - nosplit, and only nosplit code between the two calls: once in
//     _Gsyscall the goroutine's stack must not move or grow (throwsplit is
//     set), since its saved SP is what the GC scans and exitsyscall checks.
//     RawSyscall is NOSPLIT assembly down to the SYSCALL instruction; the
//     linker rejects the build if the nosplit chain overflows its budget.
//   - exitsyscall called from the very frame that called entersyscallblock
//     (it throws if its caller's SP is above the saved one), so both sit in
//     this one function and never in helpers.
//   - norace: the race instrumentation's racefuncenter/exit may split.
//   - no pointers in the frame across the call: the arguments are uintptrs;
//     the buffers they point into are owned by the caller's conn, which is
//     live for the whole call, and heap objects do not move.
//
//go:nosplit
//go:norace
func blockingSyscall(trap, a1, a2, a3, a4 uintptr) (uintptr, unix.Errno) {
	entersyscallblock()
	r, _, errno := unix.RawSyscall6(trap, a1, a2, a3, a4, 0, 0)
	exitsyscall()
	return r, errno
}

// readHandoff is read(2) on a blocking socket, P handed off first.
func readHandoff(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, errno := blockingSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// pollHandoff is ppoll(2) on one descriptor with no timeout, P handed off
// first: it returns once pfd's events are ready (or on a signal). pfd
// must be on the heap, where it does not move while the kernel writes it.
func pollHandoff(pfd *unix.PollFd) error {
	_, errno := blockingSyscall(unix.SYS_PPOLL, uintptr(unsafe.Pointer(pfd)), 1, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
