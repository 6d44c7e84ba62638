package epoll_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"c10k/models/epoll"
	"c10k/models/modeltest"
	"c10k/models/server"
)

// BenchmarkRequest measures keep-alive round trips through the loop from a
// raw-syscall client, one request and sixteen pipelined.
func BenchmarkRequest(b *testing.B) {
	addr := start(b, server.Config{})
	for _, depth := range []int{1, 16} {
		b.Run(fmt.Sprintf("pipeline=%d", depth), func(b *testing.B) {
			c := modeltest.DialRaw(b, addr)
			req := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), depth)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Send(req); err != nil {
					b.Fatal(err)
				}
				if err := c.ReadResponses(depth, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*depth), "ns/req")
		})
	}
}

// Environment of the idle-connection benchmark's child server.
const (
	idleChildEnv = "C10K_EPOLL_IDLE_CHILD" // set in the child
	idleConnsEnv = "C10K_IDLE_CONNS"       // overrides the 10,000 connections
)

// TestHelperIdleServer is the server half of BenchmarkIdleConnMemory, run
// in a child process so that its memory is the server's alone. Run
// normally, it skips.
func TestHelperIdleServer(t *testing.T) {
	if os.Getenv(idleChildEnv) == "" {
		t.Skip("helper process of BenchmarkIdleConnMemory")
	}
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	rl.Cur = rl.Max
	unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	s, err := epoll.New(server.Config{Addr: "127.0.0.1:0", BodySize: 14})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	// The parent holds our stdin: its end means the parent is gone.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("listening on %s\n", s.Addr())
	if err := s.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// BenchmarkIdleConnMemory holds 10,000 idle keep-alive connections, each
// having made one request, to a server running in a child process, and
// reports the growth of the child's RSS and PSS per connection (user
// memory: the Conn, its fd-table slot, heap growth). The client sockets
// are raw fds in this process. Kernel socket memory is not in RSS; the
// machine-wide slab growth, for both ends of each connection, is reported
// apart and is noisy on a shared machine. Run it alone:
//
//	go test -run '^$' -bench IdleConnMemory -benchtime 1x ./models/epoll/
func BenchmarkIdleConnMemory(b *testing.B) {
	n := 10000
	if v := os.Getenv(idleConnsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("%s=%q: %v", idleConnsEnv, v, err)
		}
	}
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	rl.Cur = rl.Max
	unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	if uint64(n)+64 > rl.Cur {
		b.Skipf("RLIMIT_NOFILE %d is too low for %d client sockets", rl.Cur, n)
	}
	for b.Loop() {
		rss, pss, slab := measureIdle(b, n)
		b.ReportMetric(rss, "rss-B/conn")
		b.ReportMetric(pss, "pss-B/conn")
		b.ReportMetric(slab, "slab-B/conn-pair")
	}
}

func measureIdle(b *testing.B, n int) (rss, pss, slab float64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIdleServer$")
	cmd.Env = append(os.Environ(), idleChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		b.Fatalf("child said %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	openOne := func() int {
		c := modeltest.DialRaw(b, addr)
		if err := c.Send(req); err != nil {
			b.Fatal(err)
		}
		if err := c.ReadResponses(1, nil); err != nil {
			b.Fatal(err)
		}
		c.Release()
		return c.Fd()
	}
	openOne() // warm up: the loop's scratch buffers and the date stamp
	time.Sleep(200 * time.Millisecond)
	rss0, pss0 := procMemory(b, pid)
	slab0 := meminfo(b, "Slab:")
	for i := 0; i < n; i++ {
		openOne() // closed at cleanup
	}
	time.Sleep(500 * time.Millisecond)
	rss1, pss1 := procMemory(b, pid)
	slab1 := meminfo(b, "Slab:")
	b.Logf("%d idle connections: child RSS %d -> %d KiB, PSS %d -> %d KiB, machine slab %d -> %d KiB",
		n, rss0, rss1, pss0, pss1, slab0, slab1)
	per := func(a, z int64) float64 { return float64(z-a) * 1024 / float64(n) }
	return per(rss0, rss1), per(pss0, pss1), per(slab0, slab1)
}

// procMemory returns VmRSS and Pss of pid, in KiB.
func procMemory(b *testing.B, pid int) (rss, pss int64) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		b.Fatal(err)
	}
	return field(b, status, "VmRSS:"), field(b, rollup, "Pss:")
}

func meminfo(b *testing.B, name string) int64 {
	m, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		b.Fatal(err)
	}
	return field(b, m, name)
}

// field returns the kB figure after name at the start of a line.
func field(b *testing.B, text []byte, name string) int64 {
	for _, line := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return v
				}
			}
		}
	}
	b.Fatalf("no %s in /proc", name)
	return 0
}
