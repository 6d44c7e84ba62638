package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Preparation helpers, after liburing's io_uring_prep_*. Each fills an
// entry SQE returned zeroed, and sets its user data: the caller's name
// for the request, returned in every completion it posts.
//
// Pointers are passed to the kernel as integers, so the garbage collector
// does not see them: the caller keeps what they point to alive (see the
// contract in ring.go).

func addrOf[T any](p *T) uint64 { return uint64(uintptr(unsafe.Pointer(p))) }

// PrepNop prepares a no-op: it completes with 0 at once.
func (e *SQE) PrepNop(userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpNop, -1, userData
}

// PrepMultishotAccept accepts connections on the listening socket lfd
// until it fails or is cancelled, one completion per connection with the
// new fd as its result, and CQEFMore on all but the last. flags are
// accept4(2)'s (SOCK_NONBLOCK, SOCK_CLOEXEC). The peer address is not
// asked for.
func (e *SQE) PrepMultishotAccept(lfd int, flags uint32, userData uint64) {
	e.Opcode, e.Fd, e.OpFlags, e.UserData = OpAccept, int32(lfd), flags, userData
	e.IOPrio = acceptMultishot
}

// PrepMultishotRecv receives on fd until end of file, an error or a
// cancel, each completion carrying its bytes in a buffer the kernel took
// from the provided buffer group (CQE.Buffer). A connection with nothing
// to read holds no buffer. The request ends (a completion without
// CQEFMore) on end of file (result 0), an error, or -ENOBUFS when the
// group has no buffer left; the caller re-arms it if it still wants data.
func (e *SQE) PrepMultishotRecv(fd int, group uint16, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpRecv, int32(fd), userData
	e.IOPrio = recvMultishot
	e.Flags = SQEBufferSelect
	e.BufIndex = group
}

// PrepSend sends b on fd with send(2)'s flags. The result is the number
// of bytes sent, which may be short: the caller sends the rest. b must
// stay valid until the completion.
func (e *SQE) PrepSend(fd int, b []byte, msgFlags uint32, userData uint64) {
	e.Opcode, e.Fd, e.OpFlags, e.UserData = OpSend, int32(fd), msgFlags, userData
	if len(b) > 0 {
		e.Addr = addrOf(&b[0])
		e.Len = uint32(len(b))
	}
}

// PrepPollAdd completes once fd is ready for events (unix.POLLIN...),
// with the ready events as its result.
func (e *SQE) PrepPollAdd(fd int, events uint32, userData uint64) {
	e.Opcode, e.Fd, e.OpFlags, e.UserData = OpPollAdd, int32(fd), events, userData
}

// PrepClose closes fd.
func (e *SQE) PrepClose(fd int, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpClose, int32(fd), userData
}

// PrepConnect connects the socket fd to sa. sa must stay valid until the
// entry is submitted (the kernel copies it then).
func (e *SQE) PrepConnect(fd int, sa *unix.RawSockaddrInet4, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpConnect, int32(fd), userData
	e.Addr = addrOf(sa)
	e.Off = uint64(unsafe.Sizeof(*sa))
}

// PrepTimeout completes with -ETIME after ts, relative to now, or with
// -ECANCELED when removed. ts must stay valid until the entry is
// submitted (the kernel copies it then).
func (e *SQE) PrepTimeout(ts *unix.Timespec, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpTimeout, -1, userData
	e.Addr = addrOf(ts)
	e.Len = 1
}

// PrepLinkTimeout bounds the entry before it, which must carry
// SQEIOLink: if that request is not done after ts it is cancelled. ts
// must stay valid until the entry is submitted.
func (e *SQE) PrepLinkTimeout(ts *unix.Timespec, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpLinkTimeout, -1, userData
	e.Addr = addrOf(ts)
	e.Len = 1
}

// PrepTimeoutRemove removes the timeout whose user data is target; the
// timeout then completes with -ECANCELED.
func (e *SQE) PrepTimeoutRemove(target, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpTimeoutRem, -1, userData
	e.Addr = target
}

// PrepCancel cancels the request whose user data is target. A cancelled
// request completes with -ECANCELED (a multishot one posts that as its
// last completion); the cancel itself completes with 0, or -ENOENT if
// the request had already finished, or -EALREADY if it is running.
func (e *SQE) PrepCancel(target, userData uint64) {
	e.Opcode, e.Fd, e.UserData = OpAsyncCancel, -1, userData
	e.Addr = target
}
