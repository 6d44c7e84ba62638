package uring

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BufRing is a ring of provided buffers (IORING_REGISTER_PBUF_RING): the
// buffers a multishot receive fills. The kernel takes one only when data
// arrives and names it in the completion (CQE.Buffer); the owner reads the
// bytes and recycles the buffer. So a connection with nothing to read
// holds no buffer at all: the memory is the loop's, not the connection's.
//
// The buffers are a reservation of address space, handed to the kernel a
// few at a time (Grow): memory is touched only as far as the loop ever
// needed buffers at once, the way a slab grows to its peak.
//
// Like the Ring, a BufRing is used by one thread. The ring of entries is
// shared with the kernel: we write entries and publish them with a
// release store of the 16-bit tail, which overlays the last two bytes of
// entry 0; the kernel keeps its head to itself.
type BufRing struct {
	ring     *Ring
	group    uint16
	mask     uint32
	mem      []byte        // the entries, shared with the kernel
	entries  []providedBuf // mem as entries
	tailWord *atomic.Uint32
	bufs     []byte // every buffer, reserved: len(entries) x size
	size     int
	tail     uint16 // our copy of the published tail
	provided int    // buffers 0..provided-1 have been handed to the kernel
}

// NewBufRing registers buffer group group with room for entries buffers
// (a power of two, at most 32768) of size bytes each, and hands the first
// initial of them to the kernel.
func (r *Ring) NewBufRing(group uint16, entries uint32, size, initial int) (*BufRing, error) {
	if entries == 0 || entries&(entries-1) != 0 || entries > 1<<15 || size <= 0 || initial > int(entries) {
		return nil, fmt.Errorf("uring: buffer ring of %d x %d bytes (%d at first): %w", entries, size, initial, unix.EINVAL)
	}
	b := &BufRing{ring: r, group: group, mask: entries - 1, size: size}
	var err error
	ringBytes := int(entries) * int(unsafe.Sizeof(providedBuf{}))
	b.mem, err = unix.Mmap(-1, 0, ringBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("uring: buffer ring: %w", os.NewSyscallError("mmap", err))
	}
	b.bufs, err = unix.Mmap(-1, 0, int(entries)*size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		unix.Munmap(b.mem)
		return nil, fmt.Errorf("uring: buffers: %w", os.NewSyscallError("mmap", err))
	}
	b.entries = unsafe.Slice((*providedBuf)(unsafe.Pointer(&b.mem[0])), entries)
	b.tailWord = (*atomic.Uint32)(unsafe.Pointer(&b.mem[12]))
	reg := bufReg{ringAddr: addrOf(&b.mem[0]), ringEntries: entries, bgid: group}
	if err := sysRegister(r.fd, registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		unix.Munmap(b.bufs)
		unix.Munmap(b.mem)
		switch err {
		case unix.EINVAL:
			return nil, fmt.Errorf("%w: io_uring_register(PBUF_RING): provided buffer rings need Linux 5.19 or later", ErrUnavailable)
		case unix.ENOMEM:
			// The kernel pins the ring's pages and counts them against
			// RLIMIT_MEMLOCK for a process without CAP_IPC_LOCK.
			return nil, fmt.Errorf("uring: io_uring_register(PBUF_RING) of %d KiB: %w (is RLIMIT_MEMLOCK, ulimit -l, too low?)",
				ringBytes>>10, err)
		}
		return nil, fmt.Errorf("uring: %w", os.NewSyscallError("io_uring_register(PBUF_RING)", err))
	}
	b.Grow(initial)
	return b, nil
}

// Group is the buffer group ID to name in PrepMultishotRecv.
func (b *BufRing) Group() uint16 { return b.group }

// Size is the size of one buffer.
func (b *BufRing) Size() int { return b.size }

// Provided is how many buffers have been handed to the kernel so far.
func (b *BufRing) Provided() int { return b.provided }

// Cap is how many buffers the ring can hold.
func (b *BufRing) Cap() int { return len(b.entries) }

// Bytes returns the first n bytes of buffer id, as a completion reported
// them. They are valid until the buffer is recycled.
func (b *BufRing) Bytes(id uint16, n int) []byte {
	off := int(id) * b.size
	return b.bufs[off : off+n : off+b.size]
}

// Recycle gives buffer id back to the kernel, for another receive.
func (b *BufRing) Recycle(id uint16) {
	b.add(id)
	b.publish()
}

// Grow hands up to n buffers that the kernel has never had, and returns
// how many it could: the ring holds a bounded number.
func (b *BufRing) Grow(n int) int {
	n = min(n, len(b.entries)-b.provided)
	for i := 0; i < n; i++ {
		b.add(uint16(b.provided))
		b.provided++
	}
	if n > 0 {
		b.publish()
	}
	return n
}

// add writes buffer id into the next free entry, not yet published.
func (b *BufRing) add(id uint16) {
	e := &b.entries[uint32(b.tail)&b.mask]
	e.addr = addrOf(&b.bufs[int(id)*b.size])
	e.len = uint32(b.size)
	e.bid = id
	b.tail++
}

// publish stores the tail with release semantics. The tail is the high
// half of the 32-bit word at offset 12, whose low half is entry 0's buffer
// ID, written only by us: storing the whole word keeps that ID and makes
// the tail store atomic, which Go cannot do on 16 bits.
func (b *BufRing) publish() {
	b.tailWord.Store(uint32(b.entries[0].bid) | uint32(b.tail)<<16)
}

// Close unregisters the group and releases its memory. The ring must not
// have a receive armed on the group.
func (b *BufRing) Close() error {
	if b.mem == nil {
		return nil
	}
	reg := bufReg{bgid: b.group}
	var errs []error
	if b.ring.fd >= 0 {
		if err := sysRegister(b.ring.fd, unregisterPbufRing, unsafe.Pointer(&reg), 1); err != nil {
			errs = append(errs, os.NewSyscallError("io_uring_register(UNREGISTER_PBUF_RING)", err))
		}
	}
	if err := unix.Munmap(b.bufs); err != nil {
		errs = append(errs, os.NewSyscallError("munmap", err))
	}
	if err := unix.Munmap(b.mem); err != nil {
		errs = append(errs, os.NewSyscallError("munmap", err))
	}
	b.mem, b.bufs, b.entries = nil, nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("uring: buffer ring: %w", err)
	}
	return nil
}
