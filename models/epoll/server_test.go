package epoll_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"c10k/models/epoll"
	"c10k/models/modeltest"
	"c10k/models/server"
)

// TestWaitKeepsPipelineOrder pipelines three requests whose answers differ
// in their Connection header. Each waits in turn (the loop pauses the
// connection on a timer), so they come back in order after three waits,
// while another connection is answered after one: the loop never blocks.
func TestWaitKeepsPipelineOrder(t *testing.T) {
	const wait = 100 * time.Millisecond
	addr := start(t, server.Config{Wait: wait})
	pipelined, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pipelined.Close()
	other, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	deadline := time.Now().Add(10 * time.Second)
	pipelined.SetDeadline(deadline)
	other.SetDeadline(deadline)

	t0 := time.Now()
	_, err = io.WriteString(pipelined, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"+
		"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	otherDone := make(chan time.Duration, 1)
	go func() {
		io.WriteString(other, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
		b := make([]byte, 512)
		if n, err := other.Read(b); err != nil || !bytes.HasPrefix(b[:n], []byte("HTTP/1.1 200")) {
			t.Errorf("other connection: %q, %v", b[:n], err)
		}
		otherDone <- time.Since(t0)
	}()
	all, err := io.ReadAll(pipelined)
	if err != nil {
		t.Fatal(err)
	}
	total := time.Since(t0)
	otherTook := <-otherDone

	if n := bytes.Count(all, []byte("HTTP/1.1 200 OK")); n != 3 {
		t.Fatalf("got %d responses, want 3:\n%s", n, all)
	}
	ka := bytes.Index(all, []byte("Connection: keep-alive"))
	cl := bytes.Index(all, []byte("Connection: close"))
	second := bytes.Index(all[1:], []byte("HTTP/1.1 200 OK")) + 1
	if ka < second || cl < ka {
		t.Errorf("responses out of order (1.0 keep-alive at %d after second head at %d, close at %d):\n%s", ka, second, cl, all)
	}
	if total < 3*wait {
		t.Errorf("three pipelined waits took %v, want at least %v", total, 3*wait)
	}
	if otherTook < wait || otherTook >= total {
		t.Errorf("other connection answered after %v, want between %v and the pipeline's %v", otherTook, wait, total)
	}
}

func TestCloseBeforeServe(t *testing.T) {
	s, err := epoll.New(server.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Serve(); err != nil {
		t.Fatalf("Serve after Close = %v, want nil", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		t.Fatal("dial succeeded after Close")
	}
}

func TestServeTwice(t *testing.T) {
	s, err := epoll.New(server.Config{Addr: "127.0.0.1:0", BodySize: 14})
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Serve(t, s) // serving and answering; closed at cleanup
	if err := s.Serve(); !errors.Is(err, epoll.ErrServing) {
		t.Fatalf("second Serve = %v, want ErrServing", err)
	}
}

// TestCloseReleasesFds counts the process's descriptors around a server
// that held connections: Close must leave none behind.
func TestCloseReleasesFds(t *testing.T) {
	before := countFds(t)
	s, err := epoll.New(server.Config{Addr: "127.0.0.1:0", BodySize: 14})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	var conns []net.Conn
	for i := 0; i < 10; i++ {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := c.Read(make([]byte, 512)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("client read after server Close: %v, want EOF", err)
		}
		c.Close()
	}
	if after := countFds(t); after != before {
		t.Errorf("%d fds before the server, %d after Close", before, after)
	}
}

func countFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestNoAllocsPerRequest drives keep-alive and pipelined requests through
// the server from a raw-syscall client: every allocation counted is the
// server's. The Date header is rebuilt once a second, hence "under one".
func TestNoAllocsPerRequest(t *testing.T) {
	addr := start(t, server.Config{})
	for _, depth := range []int{1, 16} {
		c := modeltest.DialRaw(t, addr)
		req := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), depth)
		roundTrip := func() {
			if err := c.Send(req); err != nil {
				t.Fatal(err)
			}
			if err := c.ReadResponses(depth, nil); err != nil {
				t.Fatal(err)
			}
		}
		roundTrip() // warm up: the loop's scratch buffers grow once
		if allocs := testing.AllocsPerRun(500, roundTrip); allocs >= 1 {
			t.Errorf("pipeline depth %d: %.2f allocations per round trip, want 0", depth, allocs)
		}
	}
}
