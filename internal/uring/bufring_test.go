package uring

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

func socketpair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

func armRecv(t *testing.T, r *Ring, fd int, b *BufRing, ud uint64) {
	t.Helper()
	e, err := r.SQE()
	if err != nil {
		t.Fatal(err)
	}
	e.PrepMultishotRecv(fd, b.Group(), ud)
	if err := r.Enter(false); err != nil {
		t.Fatal(err)
	}
}

// TestMultishotRecvProvidedBuffers receives three writes through one
// multishot receive, each in a buffer of the group, recycles them, and
// sees the request end with end of file.
func TestMultishotRecvProvidedBuffers(t *testing.T) {
	r := newTestRing(t, flagSets)
	b, err := r.NewBufRing(3, 4, 128, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ours, peer := socketpair(t)
	armRecv(t, r, ours, b, 42)

	for _, msg := range []string{"hello", "over", "again and again"} {
		if _, err := unix.Write(peer, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		c := waitCQE(t, r)
		id, ok := c.Buffer()
		if c.UserData != 42 || !ok || !c.More() || c.Res != int32(len(msg)) {
			t.Fatalf("completion %+v for %q: want user data 42, a buffer, more to come, %d bytes", c, msg, len(msg))
		}
		if got := b.Bytes(id, int(c.Res)); !bytes.Equal(got, []byte(msg)) {
			t.Fatalf("buffer %d holds %q, want %q", id, got, msg)
		}
		b.Recycle(id)
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	c := waitCQE(t, r)
	if c.Res != 0 || c.More() {
		t.Fatalf("completion %+v at end of file: want result 0 and the request over", c)
	}
	if _, ok := c.Buffer(); ok {
		t.Fatal("end of file took a buffer")
	}
}

// TestRecvOutOfBuffers: with every buffer held by us, a receive ends with
// -ENOBUFS; after Grow a re-armed one gets the data.
func TestRecvOutOfBuffers(t *testing.T) {
	r := newTestRing(t, flagSets)
	b, err := r.NewBufRing(1, 4, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ours, peer := socketpair(t)
	armRecv(t, r, ours, b, 1)
	unix.Write(peer, []byte("first"))
	c := waitCQE(t, r)
	id, ok := c.Buffer()
	if !ok || c.Res != 5 {
		t.Fatalf("first completion %+v", c)
	}
	unix.Write(peer, []byte("second")) // no buffer left: we keep the first one
	c = waitCQE(t, r)
	if c.Res != -int32(unix.ENOBUFS) || c.More() {
		t.Fatalf("completion %+v with no buffer left, want -ENOBUFS and the request over", c)
	}
	if n := b.Grow(2); n != 2 || b.Provided() != 3 {
		t.Fatalf("Grow(2) = %d, %d provided; want 2 and 3", n, b.Provided())
	}
	b.Recycle(id)
	armRecv(t, r, ours, b, 2)
	c = waitCQE(t, r)
	id2, ok := c.Buffer()
	if !ok || c.UserData != 2 || string(b.Bytes(id2, int(c.Res))) != "second" {
		t.Fatalf("completion %+v after growing: want \"second\" in a buffer", c)
	}
	if b.Grow(10) != 1 || b.Provided() != b.Cap() {
		t.Fatalf("Grow past the ring's size: %d provided of %d", b.Provided(), b.Cap())
	}
}

// TestTaskrunFlagAnnouncesWork checks what Enter relies on to enter
// without blocking: with deferred task running, data that arrives for an
// armed receive sets IORING_SQ_TASKRUN before any completion is posted.
func TestTaskrunFlagAnnouncesWork(t *testing.T) {
	r := newTestRing(t, flagSets)
	if !r.DeferTaskrun() {
		t.Skipf("kernel granted %s", r.Setup())
	}
	b, err := r.NewBufRing(0, 2, 64, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ours, peer := socketpair(t)
	armRecv(t, r, ours, b, 5)
	if r.sqFlags.Load()&sqTaskrun != 0 {
		t.Fatal("task-run flag set before any data")
	}
	unix.Write(peer, []byte("x"))
	if r.sqFlags.Load()&sqTaskrun == 0 {
		t.Fatal("task-run flag not set after data arrived for an armed receive")
	}
	if _, ok := r.NextCQE(); ok {
		t.Fatal("completion posted before the ring's thread entered: not deferred")
	}
	if c := waitCQE(t, r); c.UserData != 5 || c.Res != 1 {
		t.Fatalf("completion %+v", c)
	}
}
