package uring_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/modeltest"
	"c10k/models/server"
	"c10k/models/uring"
)

// TestHeldInputOverTheLimit pipelines, behind a request that waits, a
// request with a 200 KiB body: more than a waiting connection may keep,
// so its receive is cancelled and the socket holds the rest. Once the
// wait is over the receive is armed again and every request is answered
// in order.
func TestHeldInputOverTheLimit(t *testing.T) {
	addr := start(t, server.Config{Wait: 20 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	body := strings.Repeat("x", 200<<10)
	reqs := "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" +
		fmt.Sprintf("POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body) +
		"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	go io.WriteString(c, reqs) // the server reads it in pieces, so write apart from reading
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(all, []byte("HTTP/1.1 200 OK")); n != 3 {
		t.Fatalf("got %d answers, want 3:\n%s", n, all)
	}
	if i := bytes.Index(all, []byte("Connection: close")); i < bytes.LastIndex(all, []byte("HTTP/1.1 200 OK")) {
		t.Fatalf("the closing answer is not the last:\n%s", all)
	}
}

func TestCloseBeforeServe(t *testing.T) {
	skipUnavailable(t)
	s, err := uring.New(server.Config{Addr: "127.0.0.1:0"})
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
	skipUnavailable(t)
	s, err := uring.New(server.Config{Addr: "127.0.0.1:0", BodySize: 14})
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Serve(t, s) // serving and answering; closed at cleanup
	if err := s.Serve(); !errors.Is(err, uring.ErrServing) {
		t.Fatalf("second Serve = %v, want ErrServing", err)
	}
}

// TestCloseReleasesFds counts the process's descriptors around a server
// that held connections and proxied: Close must leave none behind, and
// the clients must read end of file at once, although the ring's requests
// hold references to the sockets until the kernel tears the ring down.
func TestCloseReleasesFds(t *testing.T) {
	skipUnavailable(t)
	backend := start(t, server.Config{}) // opened before counting: it outlives the server
	before := settledFds(t)
	s, err := uring.New(server.Config{Addr: "127.0.0.1:0", BodySize: 14, Upstreams: []string{backend}, Fanout: 2})
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
	if after := settledFds(t); after != before {
		t.Errorf("%d fds before the server, %d after Close", before, after)
	}
}

// settledFds counts the process's descriptors once the count holds still
// for 50 ms: the backend, in this process too, closes its ends of the
// connections it served once it reads their end of file, a moment later.
func settledFds(t *testing.T) int {
	t.Helper()
	n := countFds(t)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		m := countFds(t)
		if m == n {
			break
		}
		n = m
	}
	return n
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
		roundTrip() // warm up: the pool's buffers are made once
		if allocs := testing.AllocsPerRun(500, roundTrip); allocs >= 1 {
			t.Errorf("pipeline depth %d: %.2f allocations per round trip, want 0", depth, allocs)
		}
	}
}

func TestNoAllocPerProxiedRequest(t *testing.T) {
	skipUnavailable(t)
	modeltest.NoAllocPerProxiedRequest(t, newServer)
}

// TestAcceptedSocketsHaveNoDelay checks what New relies on to skip a
// setsockopt per connection: Linux copies TCP_NODELAY from the listener
// to the sockets accept returns. The server's end of a connection is a
// descriptor of this process, found by its addresses.
func TestAcceptedSocketsHaveNoDelay(t *testing.T) {
	addr := start(t, server.Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := c.Read(make([]byte, 512)); err != nil {
		t.Fatal(err) // answered: the server holds the accepted socket
	}
	peer := c.LocalAddr().(*net.TCPAddr)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		fd, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		sa, err := unix.Getpeername(fd)
		in4, ok := sa.(*unix.SockaddrInet4)
		if err != nil || !ok || in4.Port != peer.Port || !net.IP(in4.Addr[:]).Equal(peer.IP) {
			continue
		}
		v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		if err != nil {
			t.Fatal(err)
		}
		if v == 0 {
			t.Fatal("the accepted socket has Nagle on: TCP_NODELAY was not inherited from the listener")
		}
		return
	}
	t.Fatal("the server's end of the connection is not among this process's descriptors")
}
