package uring

// This file is the ring itself: set-up, the shared queues, and entering
// the kernel.
//
// Contract (what a caller, such as models/uring, relies on):
//
//   - New sets a ring up and maps its queues; Close unmaps them and closes
//     the ring fd, which cancels whatever is still in flight. Between the
//     two, every method is called from one goroutine, locked to one OS
//     thread (runtime.LockOSThread): the ring is a single-issuer ring
//     where the kernel has them (IORING_SETUP_SINGLE_ISSUER, 6.0), and
//     such a ring refuses submissions from any other thread with EEXIST.
//     New leaves it disabled (IORING_SETUP_R_DISABLED); Enable, called on
//     the thread that will submit, makes that thread its issuer. Set-up
//     work that needs no submission (registering a buffer ring) may run
//     on another thread before Enable.
//   - SQE hands out the next free submission entry, zeroed; it enters the
//     kernel to submit what is queued when the submission queue is full,
//     so a caller can prepare any number of entries between two Enters.
//     The entry belongs to the caller until the next SQE, Submit or
//     Enter, which may hand it to the kernel. Memory an entry points to
//     (a buffer to send, a timespec, a sockaddr) must stay valid and
//     unmoved until the kernel has consumed it: for a send until its
//     completion, for a timespec or sockaddr until it is submitted.
//     Go's heap does not move objects, so a heap value that the caller
//     keeps referenced meets both; a goroutine's stack does move, and the
//     pointer, passed as an integer, does not make its target escape:
//     never point an entry at a local variable.
//   - Enter submits everything queued and, with wait, also collects
//     completions: it returns once at least one may be ready (or on a
//     signal; EINTR is not an error). One Enter per loop pass is the point
//     of the ring: the sends a pass produced and the wait for the next
//     events share one system call.
//   - NextCQE returns completions in the order the kernel posted them,
//     each copied out, so a handler may submit (and so free the slot)
//     while working on it. The slots read are handed back to the kernel
//     at the next Submit or Enter.
//
// Memory ordering. The two queues are rings of entries indexed by
// free-running 32-bit counters; each counter has one writer:
//
//	SQ tail: written by us, read by the kernel   (release store, then enter)
//	SQ head: written by the kernel, read by us   (acquire load)
//	CQ tail: written by the kernel, read by us   (acquire load)
//	CQ head: written by us, read by the kernel   (release store)
//
// An entry is written before the counter that publishes it and read after
// the counter that announced it; the release store / acquire load pair is
// what orders the entry's bytes against the counter, as liburing's
// io_uring_smp_store_release / io_uring_smp_load_acquire do. Go's
// sync/atomic operations are sequentially consistent, which is stronger
// than both. The provided buffer ring (bufring.go) follows the same rule
// with its 16-bit tail.

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrUnavailable is wrapped by every error that means this machine cannot
// run io_uring for us: the kernel lacks it or is too old, a sysctl or a
// seccomp filter forbids it. The wrapping error says which.
var ErrUnavailable = errors.New("uring: io_uring unavailable")

// Ring is one io_uring instance with its mapped queues.
type Ring struct {
	fd       int
	flags    uint32 // set-up flags the kernel granted
	features uint32

	sqMem, cqMem, sqeMem []byte // mappings; cqMem aliases sqMem with FEAT_SINGLE_MMAP
	sqHead, sqTail       *atomic.Uint32
	sqFlags              *atomic.Uint32
	sqMask, sqEntries    uint32
	sqes                 []SQE
	sqeTail              uint32 // next entry to hand out; published to sqTail by submit

	cqHead, cqTail *atomic.Uint32
	cqMask         uint32
	cqes           []CQE
	cqHeadLocal    uint32 // next completion to read; published to cqHead by submit

	disabled bool // created with R_DISABLED and not yet enabled

	// The batched wait's argument and overall timeout (EnterBatch), kept
	// here so that the kernel's pointers into them stay valid.
	waitArg geteventsArg
	waitTS  unix.Timespec
}

// flagSets are the set-up flags New asks for, best first. A kernel that
// does not know a flag fails the whole set-up with EINVAL, so each set
// drops what the kernel one step older lacks:
//
//	6.1:  DEFER_TASKRUN: completions are run on our thread only when we
//	      ask for them (in Enter), never by interrupting us.
//	6.0:  SINGLE_ISSUER: the kernel may skip the locking that several
//	      submitting threads would need.
//	5.19: COOP_TASKRUN: completion work waits for our next kernel entry
//	      instead of an inter-processor interrupt.
//	5.18: SUBMIT_ALL: a failing entry does not stop the rest of a batch.
//
// TASKRUN_FLAG makes the kernel say in the SQ flags when completion work
// is pending, so Enter knows it will not block (see Enter). New itself
// requires 6.0 (requireOps), so the last two sets serve kernels that
// refuse a flag for another reason than age.
var flagSets = []uint32{
	setupSingleIssuer | setupDeferTaskrun | setupTaskrunFlag | setupSubmitAll | setupRDisabled,
	setupSingleIssuer | setupCoopTaskrun | setupTaskrunFlag | setupSubmitAll | setupRDisabled,
	setupCoopTaskrun | setupTaskrunFlag | setupSubmitAll,
	setupSubmitAll,
	0,
}

// New sets up a ring with at least sqEntries submission and cqEntries
// completion entries (the kernel rounds both up to powers of two). The
// completion queue is the one to size generously: multishot requests post
// many completions per submission. The ring starts disabled where the
// kernel has single-issuer rings; see Enable.
//
// Errors wrap ErrUnavailable when io_uring cannot be used here at all
// (ENOSYS, EPERM, kernel.io_uring_disabled, a kernel older than 6.0).
func New(sqEntries, cqEntries uint32) (*Ring, error) {
	return newRing(sqEntries, cqEntries, flagSets)
}

// newRing is New trying the given flag sets; tests pass older sets to run
// the fallbacks on a kernel that has the newest.
func newRing(sqEntries, cqEntries uint32, sets []uint32) (*Ring, error) {
	if err := sysctlAllows(); err != nil {
		return nil, err
	}
	var p params
	var fd int
	var err error
	for _, flags := range sets {
		p = params{flags: flags | setupCQSize, cqEntries: cqEntries}
		fd, err = sysSetup(sqEntries, &p)
		if err != unix.EINVAL {
			break
		}
	}
	switch {
	case err == unix.ENOSYS:
		return nil, fmt.Errorf("%w: io_uring_setup: the kernel has no io_uring (ENOSYS)", ErrUnavailable)
	case err == unix.EPERM:
		return nil, fmt.Errorf("%w: io_uring_setup: not permitted (EPERM): kernel.io_uring_disabled, "+
			"kernel.io_uring_group or a seccomp filter (containers often block io_uring) forbids it", ErrUnavailable)
	case err != nil:
		return nil, fmt.Errorf("uring: %w", os.NewSyscallError("io_uring_setup", err))
	}
	r := &Ring{fd: fd, flags: p.flags, features: p.features, disabled: p.flags&setupRDisabled != 0}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.requireOps(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// sysctlAllows reads kernel.io_uring_disabled (6.6+): 2 forbids io_uring
// to everyone; 1 to processes outside kernel.io_uring_group, which
// io_uring_setup reports as EPERM.
func sysctlAllows() error {
	b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	if err != nil || len(b) == 0 {
		return nil // an older kernel: no such switch
	}
	if b[0] == '2' {
		return fmt.Errorf("%w: kernel.io_uring_disabled is 2 (sysctl -w kernel.io_uring_disabled=0 enables it)", ErrUnavailable)
	}
	return nil
}

func (r *Ring) mmap(p *params) error {
	sqSize := int(p.sqOff.array) + int(p.sqEntries)*4
	cqSize := int(p.cqOff.cqes) + int(p.cqEntries)*int(unsafe.Sizeof(CQE{}))
	single := p.features&featSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_SHARED | unix.MAP_POPULATE
	var err error
	if r.sqMem, err = unix.Mmap(r.fd, offSQRing, sqSize, prot, flags); err != nil {
		return fmt.Errorf("uring: mmap sq ring: %w", err)
	}
	if single {
		r.cqMem = r.sqMem
	} else if r.cqMem, err = unix.Mmap(r.fd, offCQRing, cqSize, prot, flags); err != nil {
		return fmt.Errorf("uring: mmap cq ring: %w", err)
	}
	sqeSize := int(p.sqEntries) * int(unsafe.Sizeof(SQE{}))
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, sqeSize, prot, flags); err != nil {
		return fmt.Errorf("uring: mmap sqes: %w", err)
	}

	r.sqHead = u32At(r.sqMem, p.sqOff.head)
	r.sqTail = u32At(r.sqMem, p.sqOff.tail)
	r.sqFlags = u32At(r.sqMem, p.sqOff.flags)
	r.sqMask = u32At(r.sqMem, p.sqOff.ringMask).Load()
	r.sqEntries = p.sqEntries
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	// The SQ array maps ring positions to SQE indices. Entry i always
	// lives at index i, so the map is the identity, written once.
	array := unsafe.Slice((*uint32)(unsafe.Pointer(&r.sqMem[p.sqOff.array])), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.sqeTail = r.sqTail.Load()

	r.cqHead = u32At(r.cqMem, p.cqOff.head)
	r.cqTail = u32At(r.cqMem, p.cqOff.tail)
	r.cqMask = u32At(r.cqMem, p.cqOff.ringMask).Load()
	r.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&r.cqMem[p.cqOff.cqes])), p.cqEntries)
	r.cqHeadLocal = r.cqHead.Load()
	return nil
}

func u32At(mem []byte, off uint32) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// requireOps checks that the kernel knows every operation up to SEND_ZC.
// Opcodes are numbered in the order they were added, and SEND_ZC came
// with 6.0, the release that also brought what the probe cannot name:
// multishot receive and provided buffer rings (5.19) that recycle.
func (r *Ring) requireOps() error {
	var pr probe
	if err := sysRegister(r.fd, registerProbe, unsafe.Pointer(&pr), uint32(len(pr.ops))); err != nil {
		return fmt.Errorf("%w: io_uring_register(PROBE): %v (kernel older than 5.6)", ErrUnavailable, err)
	}
	for op := 0; op <= opLastRequired; op++ {
		if op > int(pr.lastOp) || pr.ops[op].flags&opSupported == 0 {
			return fmt.Errorf("%w: the kernel lacks io_uring operation %d: multishot receive needs Linux 6.0 or later", ErrUnavailable, op)
		}
	}
	return nil
}

// Close releases the ring: the kernel cancels what is still in flight.
func (r *Ring) Close() error {
	var errs []error
	if r.sqeMem != nil {
		errs = append(errs, unix.Munmap(r.sqeMem))
	}
	if r.cqMem != nil && !r.singleMmap() {
		errs = append(errs, unix.Munmap(r.cqMem))
	}
	if r.sqMem != nil {
		errs = append(errs, unix.Munmap(r.sqMem))
	}
	r.sqeMem, r.cqMem, r.sqMem, r.sqes, r.cqes = nil, nil, nil, nil, nil
	if r.fd >= 0 {
		if err := unix.Close(r.fd); err != nil {
			errs = append(errs, os.NewSyscallError("close", err))
		}
		r.fd = -1
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("uring: close: %w", err)
	}
	return nil
}

func (r *Ring) singleMmap() bool {
	return r.cqMem != nil && r.sqMem != nil && &r.cqMem[0] == &r.sqMem[0]
}

// Fd is the ring's file descriptor.
func (r *Ring) Fd() int { return r.fd }

// DeferTaskrun reports whether completions are posted only when the
// ring's thread asks for them (IORING_SETUP_DEFER_TASKRUN).
func (r *Ring) DeferTaskrun() bool { return r.flags&setupDeferTaskrun != 0 }

// SingleIssuer reports whether the ring accepts submissions from one
// thread only (IORING_SETUP_SINGLE_ISSUER).
func (r *Ring) SingleIssuer() bool { return r.flags&setupSingleIssuer != 0 }

// Setup names the set-up flags the kernel granted, for logs.
func (r *Ring) Setup() string {
	names := ""
	for _, f := range []struct {
		bit  uint32
		name string
	}{
		{setupSingleIssuer, "SINGLE_ISSUER"}, {setupDeferTaskrun, "DEFER_TASKRUN"}, {setupCoopTaskrun, "COOP_TASKRUN"},
		{setupTaskrunFlag, "TASKRUN_FLAG"}, {setupSubmitAll, "SUBMIT_ALL"},
	} {
		if r.flags&f.bit != 0 {
			if names != "" {
				names += "|"
			}
			names += f.name
		}
	}
	if names == "" {
		return "no set-up flags"
	}
	return names
}

// Enable makes the calling thread the ring's only issuer and lets it
// submit. It must run on the thread that will call SQE, Submit and
// Enter, once, before them; on a ring that was not created disabled it
// does nothing.
func (r *Ring) Enable() error {
	if !r.disabled {
		return nil
	}
	if err := sysRegister(r.fd, registerEnable, nil, 0); err != nil {
		return fmt.Errorf("uring: %w", os.NewSyscallError("io_uring_register(ENABLE_RINGS)", err))
	}
	r.disabled = false
	return nil
}

// SQE returns the next submission entry, zeroed. When the queue is full it
// first submits what is queued; it fails only if that submission does.
func (r *Ring) SQE() (*SQE, error) {
	if r.sqeTail-r.sqHead.Load() >= r.sqEntries {
		if _, err := r.Submit(); err != nil {
			return nil, err
		}
		if r.sqeTail-r.sqHead.Load() >= r.sqEntries {
			return nil, fmt.Errorf("uring: submission queue still full after submitting: %w", unix.EBUSY)
		}
	}
	e := &r.sqes[r.sqeTail&r.sqMask]
	*e = SQE{}
	r.sqeTail++
	return e, nil
}

// publish hands the prepared entries and the read completion slots to
// the kernel.
func (r *Ring) publish() uint32 {
	r.sqTail.Store(r.sqeTail)
	r.cqHead.Store(r.cqHeadLocal)
	return r.sqeTail - r.sqHead.Load()
}

// Submit submits what is queued without waiting for anything.
func (r *Ring) Submit() (int, error) {
	n := r.publish()
	if n == 0 {
		return 0, nil
	}
	for {
		got, err := sysEnter(r.fd, n, 0, 0, false)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return got, fmt.Errorf("uring: %w", os.NewSyscallError("io_uring_enter", err))
		}
		return got, nil
	}
}

// Enter submits what is queued and, if wait is set, collects completions,
// in one io_uring_enter(2). It blocks only when nothing can be ready yet.
//
// Why two ways of entering. A system call made through the Go scheduler
// (unix.Syscall) lets the runtime take the thread's P away if the call
// lasts; on a loop pinned to one CPU that costs a sysmon wake-up and a
// futex per pass (see internal/eventloop/rawsys.go, measured on the epoll
// loop). A call that cannot block needs none of it and is made raw. The
// ring tells which is which: completions already in the CQ, or the
// IORING_SQ_TASKRUN flag (completion work the kernel will run as we
// enter), mean the call returns at once. Only otherwise does Enter wait,
// through the scheduler, so an idle loop still gives its P back.
func (r *Ring) Enter(wait bool) error {
	if !wait {
		if r.publish() == 0 {
			return nil
		}
		_, err := r.Submit()
		return err
	}
	return r.EnterBatch(1, 0)
}

// EnterBatch is Enter asking for a batch: it waits for n completions,
// counting those the submission itself posts, but once minWait has
// passed any completion ends the wait, and after 4*minWait the wait ends
// even with none. n of 0 or 1, a zero minWait, or a kernel without the
// minimum wait (IORING_FEAT_MIN_TIMEOUT, 6.12) make it Enter(true).
//
// A batched wait is bounded, so it is made raw, as a call that cannot
// block is: it keeps the P for at most 4*minWait, where a wait through
// the scheduler would have sysmon take the P away in every such pass
// (through the scheduler, 38% of a batched loop's system calls were the
// runtime's nanosleep, futex and tgkill: perf trace, wrk -c100).
func (r *Ring) EnterBatch(n uint32, minWait time.Duration) error {
	sub := r.publish()
	ready := r.cqTail.Load() != r.cqHeadLocal
	pending := r.sqFlags.Load()&(sqTaskrun|sqCQOverflow) != 0
	var err error
	switch {
	case ready && sub == 0 && !pending:
		return nil
	case ready || pending:
		_, err = sysEnter(r.fd, sub, 0, enterGetEvents, false)
	case n > 1 && minWait >= time.Microsecond && r.features&featMinTimeout != 0:
		// The overall timeout also keeps the kernel from ending the wait
		// empty when the minimum passes, as it does without one.
		r.waitTS = unix.NsecToTimespec(int64(4 * minWait))
		r.waitArg = geteventsArg{
			minWaitUsec: uint32(minWait / time.Microsecond),
			ts:          uint64(uintptr(unsafe.Pointer(&r.waitTS))),
		}
		_, err = sysEnterArg(r.fd, sub, n, enterGetEvents, &r.waitArg, false)
	default:
		_, err = sysEnter(r.fd, sub, 1, enterGetEvents, true)
	}
	switch err {
	case nil, unix.EINTR, unix.ETIME:
		return nil
	case unix.EBUSY, unix.EAGAIN:
		// The kernel is short of room for completions (overflow) or
		// memory: reading the completions we have frees it.
		if r.cqTail.Load() != r.cqHeadLocal {
			return nil
		}
		_, err = sysEnter(r.fd, 0, 1, enterGetEvents, true)
		if err == nil || err == unix.EINTR {
			return nil
		}
	}
	return fmt.Errorf("uring: %w", os.NewSyscallError("io_uring_enter", err))
}

// NextCQE returns a copy of the oldest unread completion and consumes it;
// ok is false when there is none.
func (r *Ring) NextCQE() (c CQE, ok bool) {
	if r.cqHeadLocal == r.cqTail.Load() {
		return CQE{}, false
	}
	c = r.cqes[r.cqHeadLocal&r.cqMask]
	r.cqHeadLocal++
	return c, true
}
