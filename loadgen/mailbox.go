package loadgen

import (
	"os"
	"sync"

	"c10k/internal/eventloop"
	"golang.org/x/sys/unix"
)

// mailbox lets the coordinating goroutine run a function on a loop: the
// loop only offers Stop across goroutines, so phase changes (start the
// load, stop, count the idle pool) are posted here and an eventfd wakes
// the loop to run them. It is asyncio's call_soon_threadsafe.
type mailbox struct {
	fd   int
	mu   sync.Mutex
	q    []func()
	runq []func()
}

func newMailbox(l *eventloop.Loop) (*mailbox, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	m := &mailbox{fd: fd}
	if err := l.Watch(fd, eventloop.Readable, m.drain); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return m, nil
}

// post queues f to run on the loop; it may be called from any goroutine.
func (m *mailbox) post(f func()) {
	m.mu.Lock()
	m.q = append(m.q, f)
	m.mu.Unlock()
	one := [8]byte{1}
	// EAGAIN means the counter is already set: the loop wakes anyway.
	_, _ = unix.Write(m.fd, one[:])
}

func (m *mailbox) drain(fd int, _ eventloop.Mask) {
	var b [8]byte
	_, _ = unix.Read(fd, b[:])
	m.mu.Lock()
	q := m.q
	m.q = m.runq[:0]
	m.mu.Unlock()
	for i, f := range q {
		f()
		q[i] = nil
	}
	m.runq = q[:0]
}

// close releases the eventfd; call it once the loop has stopped.
func (m *mailbox) close() {
	_ = unix.Close(m.fd)
}
