package eventloop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// eventually polls cond on the loop until it holds.
func eventually(t *testing.T, onLoop func(func()), what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		onLoop(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEchoRoundTrip(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	e := &echo{closes: make(chan error, 2)}
	if _, err := l.Attach(fd, e); err != nil {
		t.Fatal(err)
	}
	running(t, l)
	buf := make([]byte, 64)
	for _, msg := range []string{"hello", "pipelined one two three", "x"} {
		if _, err := peer.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(peer, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:len(msg)]); got != msg {
			t.Fatalf("echo %q, want %q", got, msg)
		}
	}
	peer.Close()
	if err := waitClose(t, e.closes); err != nil {
		t.Errorf("OnClose after peer close: %v, want nil", err)
	}
}

func TestLargeWriteToSlowReader(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	r := newRecorder()
	c, err := l.Attach(fd, r)
	if err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	big := make([]byte, 6<<20)
	for i := range big {
		big[i] = byte(i * 7 / 3)
	}
	var werr error
	var pending int
	var mask Mask
	onLoop(func() {
		werr = c.Write(big)
		pending = c.Buffered()
		mask = l.slots[fd].mask
		big[0]++ // the caller may reuse its buffer once Write returns
	})
	big[0]--
	if werr != nil {
		t.Fatal(werr)
	}
	// Past maxPendingOutput the conn also stops reading (backpressure).
	if pending <= maxPendingOutput || mask != Writable {
		t.Fatalf("after a write larger than the socket buffer: pending %d, mask %v; want pending > %d, w", pending, mask, maxPendingOutput)
	}
	got := make([]byte, 0, len(big))
	chunk := make([]byte, 64<<10)
	peer.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := 0; len(got) < len(big); i++ {
		n, err := peer.Read(chunk)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		got = append(got, chunk[:n]...)
		if i%8 == 0 {
			time.Sleep(time.Millisecond) // slow reader: the loop must wait for Writable
		}
	}
	if !bytes.Equal(got, big) {
		t.Fatal("bytes received differ from bytes written")
	}
	onLoop(func() {
		if c.Buffered() != 0 || c.out != nil {
			t.Errorf("output not released after flush: %d bytes, out nil %v", c.Buffered(), c.out == nil)
		}
		if m := l.slots[fd].mask; m != Readable {
			t.Errorf("mask after flush %v, want r (Writable dropped)", m)
		}
	})
}

// lines consumes complete lines only, leaving a partial one to the Conn.
func lines(c *Conn, in []byte) int {
	return bytes.LastIndexByte(in, '\n') + 1
}

func TestPartialInputRetainedThenReleased(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	var seen []byte
	r := newRecorder()
	r.consume = func(c *Conn, in []byte) int {
		seen = append(seen[:0], in...)
		return lines(c, in)
	}
	c, err := l.Attach(fd, r)
	if err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	steps := []struct {
		send     string
		wantSeen string // what the last OnData was given
		wantKept string
	}{
		{"GET /a", "GET /a", "GET /a"},
		{"bc HTTP", "GET /abc HTTP", "GET /abc HTTP"},
		{"/1.1\nnext", "GET /abc HTTP/1.1\nnext", "next"},
		{"\n", "next\n", ""},
	}
	for i, s := range steps {
		if _, err := peer.Write([]byte(s.send)); err != nil {
			t.Fatal(err)
		}
		eventually(t, onLoop, "OnData", func() bool { return r.calls == i+1 })
		onLoop(func() {
			if string(seen) != s.wantSeen {
				t.Errorf("step %d: OnData got %q, want %q", i, seen, s.wantSeen)
			}
			if string(c.in) != s.wantKept {
				t.Errorf("step %d: kept %q, want %q", i, c.in, s.wantKept)
			}
			if s.wantKept == "" && c.in != nil {
				t.Errorf("step %d: empty remainder not released (cap %d)", i, cap(c.in))
			}
		})
	}
}

func TestPeerCloseCallsOnCloseOnce(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	r := newRecorder()
	c, err := l.Attach(fd, r)
	if err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	peer.Write([]byte("bye"))
	peer.Close()
	if err := waitClose(t, r.closes); err != nil {
		t.Fatalf("OnClose: %v, want nil", err)
	}
	onLoop(func() {
		c.Close() // idempotent
		if !c.Closed() || c.Fd() != -1 {
			t.Error("conn not marked closed")
		}
		if err := c.Write([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after close = %v, want ErrClosed", err)
		}
		if l.slots[fd].conn != nil {
			t.Error("slot still holds the conn")
		}
	})
	time.Sleep(20 * time.Millisecond)
	if n := len(r.closes); n != 0 {
		t.Fatalf("OnClose called %d more times", n)
	}
	if string(r.data) != "bye" {
		t.Errorf("data before close %q, want %q", r.data, "bye")
	}
}

func TestPeerResetPassesError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := server.(*net.TCPConn).File()
	server.Close()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fd, true)
	l := newLoop(t)
	r := newRecorder()
	if _, err := l.Attach(fd, r); err != nil {
		t.Fatal(err)
	}
	running(t, l)
	client.(*net.TCPConn).SetLinger(0) // close sends RST
	client.Close()
	if err := waitClose(t, r.closes); !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("OnClose after reset: %v, want ECONNRESET", err)
	}
}

// closer closes from inside OnData and records whether OnClose ran inside it.
type closer struct {
	inData     bool
	closedIn   bool
	writeAfter error
	closes     chan error
	afterFlush bool
	reply      []byte
}

func (p *closer) OnData(c *Conn, in []byte) int {
	p.inData = true
	defer func() { p.inData = false }()
	if p.afterFlush {
		c.Write(p.reply)
		c.CloseAfterFlush()
	} else {
		c.Close()
	}
	p.writeAfter = c.Write([]byte("late"))
	return len(in)
}

func (p *closer) OnClose(c *Conn, err error) {
	p.closedIn = p.inData
	p.closes <- err
}

func TestCloseInsideOnDataIsDeferred(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	p := &closer{closes: make(chan error, 2)}
	if _, err := l.Attach(fd, p); err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	peer.Write([]byte("x"))
	if err := waitClose(t, p.closes); err != nil {
		t.Fatalf("OnClose: %v", err)
	}
	onLoop(func() {
		if p.closedIn {
			t.Error("OnClose ran inside OnData")
		}
		if !errors.Is(p.writeAfter, ErrClosed) {
			t.Errorf("Write after Close in OnData = %v, want ErrClosed", p.writeAfter)
		}
	})
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := peer.Read(make([]byte, 8)); err != io.EOF {
		t.Errorf("peer read %d bytes, %v; want EOF", n, err)
	}
}

func TestCloseAfterFlushDeliversEverything(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	reply := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than the socket takes
	p := &closer{closes: make(chan error, 2), afterFlush: true, reply: reply}
	if _, err := l.Attach(fd, p); err != nil {
		t.Fatal(err)
	}
	running(t, l)
	peer.Write([]byte("request"))
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	time.Sleep(20 * time.Millisecond)
	peer.Write([]byte("more input, read and discarded"))
	got, err := io.ReadAll(peer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, reply) {
		t.Fatalf("got %d bytes, want the %d-byte reply then EOF", len(got), len(reply))
	}
	if err := waitClose(t, p.closes); err != nil {
		t.Fatalf("OnClose: %v", err)
	}
	if !errors.Is(p.writeAfter, ErrClosed) {
		t.Errorf("Write after CloseAfterFlush = %v, want ErrClosed", p.writeAfter)
	}
}

// waiter answers "ok\n" per line, but a "wait" line first holds the
// connection for 50 ms: later lines must not overtake it.
type waiter struct{ resumed int }

var waited = new(int)

func (w *waiter) OnData(c *Conn, in []byte) int {
	done := 0
	for {
		i := bytes.IndexByte(in[done:], '\n')
		if i < 0 {
			return done
		}
		line := string(in[done : done+i])
		if line == "wait" {
			if c.Context != waited {
				c.Context = waited
				c.ResumeAfter(50 * time.Millisecond)
				return done
			}
			c.Context = nil
			w.resumed++
		}
		c.Write([]byte(line + "-ok\n"))
		done += i + 1
	}
}

func (w *waiter) OnClose(*Conn, error) {}

func TestResumeAfterKeepsOrder(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	w := &waiter{}
	c, err := l.Attach(fd, w)
	if err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	start := time.Now()
	peer.Write([]byte("a\nwait\nb\n"))
	time.Sleep(10 * time.Millisecond)
	peer.Write([]byte("c\n")) // arrives while paused: read only after the resume
	want := "a-ok\nwait-ok\nb-ok\nc-ok\n"
	got := make([]byte, len(want))
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("answered after %v, before the 50ms wait", el)
	}
	onLoop(func() {
		if w.resumed != 1 {
			t.Errorf("resumed %d times, want 1", w.resumed)
		}
		if c.in != nil || c.timer != 0 {
			t.Errorf("state left after resume: in %q, timer %d", c.in, c.timer)
		}
	})
}

func TestLoopCloseClosesConns(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	r := newRecorder()
	if _, err := l.Attach(fd, r); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitClose(t, r.closes); !errors.Is(err, ErrClosed) {
		t.Errorf("OnClose on loop close: %v, want ErrClosed", err)
	}
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read: %v, want EOF", err)
	}
}

func TestAttachTakesOverWatchedFd(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	fd, _ := socketPair(t)
	if err := l.Watch(fd, Writable, func(int, Mask) {}); err != nil {
		t.Fatal(err)
	}
	c, err := l.Attach(fd, newRecorder())
	if err != nil {
		t.Fatalf("Attach over a watched fd: %v", err)
	}
	if _, err := l.Attach(fd, newRecorder()); !errors.Is(err, ErrFdInUse) {
		t.Errorf("second Attach = %v, want ErrFdInUse", err)
	}
	if err := l.SetMask(fd, Readable); !errors.Is(err, ErrNotWatched) {
		t.Errorf("SetMask on a conn fd = %v, want ErrNotWatched", err)
	}
	if l.slots[fd].mask != Readable || l.slots[fd].conn != c {
		t.Errorf("slot after attach: mask %v", l.slots[fd].mask)
	}
}

// TestIdleFootprint guards the C10K memory rule: an idle connection is a
// Conn (one 128-byte size class) and a slot.
func TestIdleFootprint(t *testing.T) {
	if s := unsafe.Sizeof(Conn{}); s > 128 {
		t.Errorf("Conn is %d bytes, want at most 128", s)
	}
	if s := unsafe.Sizeof(slot{}); s > 24 {
		t.Errorf("slot is %d bytes, want at most 24", s)
	}
}

// TestBackpressureBoundsPendingOutput: a peer that sends without reading
// must not make the loop buffer output without bound; once it reads, the
// connection resumes and every byte arrives.
func TestBackpressureBoundsPendingOutput(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	var c *Conn
	var err error
	if c, err = l.Attach(fd, &echo{}); err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	const total = 16 << 20
	sent := make(chan error, 1)
	go func() {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		peer.SetWriteDeadline(time.Now().Add(time.Second))
		n := 0
		for n < total {
			m, err := peer.Write(chunk)
			n += m
			if err != nil {
				sent <- err // the deadline: the loop stopped reading, as it should
				return
			}
		}
		sent <- nil
	}()
	<-sent // the writer stalled (or finished) while nobody read the echo
	var pending int
	onLoop(func() { pending = c.Buffered() })
	if limit := maxPendingOutput + 64<<10; pending > limit {
		t.Fatalf("pending output %d bytes with a peer that does not read, want <= %d", pending, limit)
	}
	// Reading drains the backlog and the loop reads again.
	peer.SetDeadline(time.Now().Add(10 * time.Second))
	go io.Copy(io.Discard, peer)
	eventually(t, onLoop, "backlog drained", func() bool { return c.Buffered() == 0 })
}

// TestPauseIsLazyUntilInputArrives: a pause keeps the read interest (no
// epoll_ctl for a client that sends nothing while it waits), input that
// arrives meanwhile drops it instead of waking every wait, and Resume
// reads that input.
func TestPauseIsLazyUntilInputArrives(t *testing.T) {
	l := newLoop(t)
	fd, peer := socketPair(t)
	e := &echo{closes: make(chan error, 2)}
	c, err := l.Attach(fd, e)
	if err != nil {
		t.Fatal(err)
	}
	onLoop := running(t, l)
	onLoop(func() {
		c.Pause()
		if l.slots[fd].mask&Readable == 0 {
			t.Error("Pause dropped the read interest before any input arrived")
		}
	})
	if _, err := peer.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	eventually(t, onLoop, "the read interest to go once input arrived while paused", func() bool {
		return l.slots[fd].mask&Readable == 0
	})
	onLoop(func() { c.Resume() })
	got := make([]byte, 4)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "late" {
		t.Fatalf("after Resume: %q, %v; want the input sent while paused", got, err)
	}
	onLoop(func() {
		if l.slots[fd].mask&Readable == 0 {
			t.Error("Resume did not restore the read interest")
		}
	})
}
