package uring

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel ABI this package speaks, from include/uapi/linux/io_uring.h.
// golang.org/x/sys/unix has the system call numbers and nothing else.

// Set-up flags (io_uring_params.flags) and features.
const (
	setupCQSize       = 1 << 3
	setupRDisabled    = 1 << 6
	setupSubmitAll    = 1 << 7
	setupCoopTaskrun  = 1 << 8
	setupTaskrunFlag  = 1 << 9
	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13
	featSingleMmap    = 1 << 0  // the SQ and CQ rings share one mapping
	featMinTimeout    = 1 << 15 // io_uring_getevents_arg.min_wait_usec (6.12)
)

// Offsets to mmap the queues at, flags of the SQ ring's flags word, and
// io_uring_enter and io_uring_register codes.
const (
	offSQRing          = 0
	offCQRing          = 0x8000000
	offSQEs            = 0x10000000
	sqCQOverflow       = 1 << 1 // completions wait on the kernel's overflow list
	sqTaskrun          = 1 << 2 // completion work is pending: entering runs it
	enterGetEvents     = 1 << 0
	enterExtArg        = 1 << 3 // the last argument is an io_uring_getevents_arg
	registerProbe      = 8
	registerEnable     = 12
	registerPbufRing   = 22
	unregisterPbufRing = 23
	opSupported        = 1 << 0 // io_uring_probe_op.flags
)

// Opcodes (io_uring_sqe.opcode) of the operations this package prepares.
const (
	OpNop          = 0
	OpPollAdd      = 6
	OpTimeout      = 11
	OpTimeoutRem   = 12
	OpAccept       = 13
	OpAsyncCancel  = 14
	OpLinkTimeout  = 15
	OpConnect      = 16
	OpClose        = 19
	OpSend         = 26
	OpRecv         = 27
	OpSendZC       = 47 // not prepared here: its presence dates the kernel (6.0)
	opLastRequired = OpSendZC
)

// SQE flags (io_uring_sqe.flags).
const (
	// SQEIOLink makes the next SQE wait for this one and fail with
	// -ECANCELED if this one fails.
	SQEIOLink = 1 << 2
	// SQEBufferSelect takes the buffer from the group in BufIndex.
	SQEBufferSelect = 1 << 5
	// SQECQESkipSuccess posts no completion when the operation succeeds.
	SQECQESkipSuccess = 1 << 6
)

// Operation flags carried in io_uring_sqe.ioprio.
const (
	recvMultishot   = 1 << 1 // of OpRecv
	acceptMultishot = 1 << 0 // of OpAccept
)

// CQE flags (io_uring_cqe.flags).
const (
	// CQEFBuffer: the upper 16 bits of Flags are the provided buffer's ID.
	CQEFBuffer = 1 << 0
	// CQEFMore: the multishot request stays armed and will post more.
	CQEFMore = 1 << 1
	// CQEFSockNonempty: the socket had more data after this receive.
	CQEFSockNonempty = 1 << 2
	cqeBufferShift   = 16
)

// SQE is one submission queue entry (struct io_uring_sqe, 64 bytes). The
// unions of the C struct are flattened to the member this package uses.
type SQE struct {
	Opcode      uint8
	Flags       uint8
	IOPrio      uint16
	Fd          int32
	Off         uint64 // off, addr2
	Addr        uint64 // addr, splice_off_in
	Len         uint32
	OpFlags     uint32 // msg_flags, timeout_flags, accept_flags, cancel_flags...
	UserData    uint64
	BufIndex    uint16 // buf_index, buf_group
	Personality uint16
	FileIndex   uint32 // splice_fd_in, file_index
	Addr3       uint64
	_           uint64
}

// CQE is one completion queue entry (struct io_uring_cqe, 16 bytes).
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// More reports whether a multishot request posts more completions after
// this one (IORING_CQE_F_MORE); without it the request is over.
func (c *CQE) More() bool { return c.Flags&CQEFMore != 0 }

// Buffer returns the ID of the provided buffer the operation filled, and
// whether it used one (IORING_CQE_F_BUFFER).
func (c *CQE) Buffer() (id uint16, ok bool) {
	return uint16(c.Flags >> cqeBufferShift), c.Flags&CQEFBuffer != 0
}

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// bufReg is struct io_uring_buf_reg, the argument of (UN)REGISTER_PBUF_RING.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	minLeft     uint32
	resv        [5]uint32
}

// providedBuf is struct io_uring_buf, one entry of a provided buffer ring.
// The ring's tail overlays the resv field of entry 0.
type providedBuf struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

// probe is struct io_uring_probe with room for every opcode up to 255.
type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [256]probeOp
}

type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// Compile-time checks of the ABI sizes.
var (
	_ [64 - unsafe.Sizeof(SQE{})]struct{}
	_ [unsafe.Sizeof(SQE{}) - 64]struct{}
	_ [16 - unsafe.Sizeof(CQE{})]struct{}
	_ [120 - unsafe.Sizeof(params{})]struct{}
	_ [unsafe.Sizeof(params{}) - 120]struct{}
	_ [40 - unsafe.Sizeof(bufReg{})]struct{}
	_ [16 - unsafe.Sizeof(providedBuf{})]struct{}
)

func sysSetup(entries uint32, p *params) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func sysRegister(fd int, op uint32, arg unsafe.Pointer, nargs uint32) error {
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(op), uintptr(arg), uintptr(nargs), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// sysEnter is io_uring_enter(2) without a signal mask. blocking says
// whether the call may sleep: only then does it go through the Go
// scheduler's system call protocol (see Ring.Enter).
func sysEnter(fd int, toSubmit, minComplete, flags uint32, blocking bool) (int, error) {
	return sysEnterArg(fd, toSubmit, minComplete, flags, nil, blocking)
}

// geteventsArg is struct io_uring_getevents_arg, passed with
// IORING_ENTER_EXT_ARG.
type geteventsArg struct {
	sigmask     uint64
	sigmaskSize uint32
	minWaitUsec uint32
	ts          uint64 // a *timespec: the overall timeout
}

// sysEnterArg is sysEnter with an io_uring_getevents_arg; arg and the
// timespec it points to must stay reachable, as the Ring's own fields do.
func sysEnterArg(fd int, toSubmit, minComplete, flags uint32, arg *geteventsArg, blocking bool) (int, error) {
	var n uintptr
	var errno syscall.Errno
	argsz := uintptr(0)
	if arg != nil {
		flags |= enterExtArg
		argsz = unsafe.Sizeof(*arg)
	}
	if blocking {
		n, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), uintptr(unsafe.Pointer(arg)), argsz)
	} else {
		n, _, errno = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), uintptr(unsafe.Pointer(arg)), argsz)
	}
	if errno != 0 {
		return 0, errnoErr(errno)
	}
	return int(n), nil
}

// errnoErr returns the shared error values for the errnos the loop meets
// as control flow, so that they do not allocate.
func errnoErr(e syscall.Errno) error {
	switch e {
	case unix.EINTR:
		return unix.EINTR
	case unix.EAGAIN:
		return unix.EAGAIN
	case unix.EBUSY:
		return unix.EBUSY
	case unix.ETIME:
		return unix.ETIME
	}
	return e
}
