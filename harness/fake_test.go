package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"c10k/loadgen"
)

// The test binary doubles as the programs the harness runs: with
// fakeDirEnv set, `TEST-BINARY serve ...` is a tiny HTTP server and
// `TEST-BINARY load ...` a tiny closed-loop load generator, each dropping
// a PID file into that directory so tests can check nothing is left
// running. With benchEnv set it is a whole `c10k bench` run over them, for
// the Ctrl-C test.
const (
	fakeDirEnv = "HARNESS_FAKE_DIR"
	// crashEnv makes the fake thread model exit with status 2 once it has
	// accepted more connections than its value.
	crashEnv = "HARNESS_FAKE_CRASH_ABOVE"
	benchEnv = "HARNESS_FAKE_BENCH_OUT"
	// hangEnv makes the fake load generator hang, deaf to SIGTERM.
	hangEnv = "HARNESS_FAKE_LOAD_HANG"
	// failEnv makes a fake fail one way: "start" (the server exits
	// before listening), "load" (the load generator exits without a
	// result) or "refused" (it reports only connect errors).
	failEnv = "HARNESS_FAKE_FAIL"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeDirEnv) != "" && len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve":
			os.Exit(fakeServe(os.Args[2:]))
		case "load":
			os.Exit(fakeLoad(os.Args[2:]))
		}
	}
	if out := os.Getenv(benchEnv); out != "" {
		os.Exit(fakeBench(out))
	}
	os.Exit(m.Run())
}

// dropPID records this process's PID as the test sees it. The harness
// starts children in PID namespaces of their own, where os.Getpid is 1;
// /proc is the test's mount, so /proc/self names the PID there.
func dropPID(role string) {
	dir := os.Getenv(fakeDirEnv)
	pid := strconv.Itoa(os.Getpid())
	if self, err := os.Readlink("/proc/self"); err == nil {
		pid = self
	}
	os.WriteFile(filepath.Join(dir, role+"-"+pid), nil, 0o644)
}

const fakeResponse = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, world!\n"

func fakeServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	model := fs.String("model", "", "")
	fs.String("addr", "", "")
	fs.Int("body", 0, "")
	fs.Duration("work", 0, "")
	wait := fs.Duration("wait", 0, "")
	upstream := fs.String("upstream", "", "")
	fanout := fs.Int("fanout", 1, "")
	fs.Duration("upstream-timeout", 0, "")
	if fs.Parse(args) != nil {
		return 2
	}
	dropPID("serve")
	if os.Getenv(failEnv) == "start" {
		fmt.Fprintln(os.Stderr, "fake serve: bind: permission denied")
		return 3
	}
	crashAbove := -1
	if v := os.Getenv(crashEnv); v != "" && *model == "thread" {
		crashAbove, _ = strconv.Atoi(v)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake serve:", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		os.Exit(0)
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	var accepted atomic.Int64
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		if n := accepted.Add(1); crashAbove >= 0 && n > int64(crashAbove) {
			fmt.Fprintf(os.Stderr, "fake serve: starting thread %d\n", n)
			fmt.Fprintf(os.Stderr, "runtime: program exceeds %d-thread limit\n", crashAbove)
			os.Exit(2)
		}
		go serveConn(c, *wait, *upstream, *fanout)
	}
}

// serveConn answers every request on c after wait, and with an upstream
// after fanout calls to it, one after another on one connection of its
// own (a fake: the real models are tested in models/modeltest).
func serveConn(c net.Conn, wait time.Duration, upstream string, fanout int) {
	defer c.Close()
	r := bufio.NewReader(c)
	var up net.Conn
	var upr *bufio.Reader
	if upstream != "" {
		var err error
		if up, err = net.Dial("tcp4", upstream); err != nil {
			return
		}
		defer up.Close()
		upr = bufio.NewReader(up)
	}
	buf := make([]byte, len(fakeResponse))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line != "\r\n" {
			continue
		}
		time.Sleep(wait)
		for i := 0; up != nil && i < fanout; i++ {
			if _, err := io.WriteString(up, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				return
			}
			if _, err := io.ReadFull(upr, buf); err != nil {
				return
			}
		}
		if _, err := io.WriteString(c, fakeResponse); err != nil {
			return
		}
	}
}

func fakeLoad(args []string) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", "", "")
	conns := fs.Int("c", 1, "")
	d := fs.Duration("d", time.Second, "")
	warmup := fs.Duration("warmup", 0, "")
	idle := fs.Int("idle", 0, "")
	jsonPath := fs.String("json", "", "")
	hgrmPath := fs.String("hgrm", "", "")
	fs.Bool("q", false, "")
	fs.Float64("rate", 0, "")
	fs.Float64("connect-rate", 0, "")
	fs.Duration("timeout", 0, "")
	if fs.Parse(args) != nil {
		return 2
	}
	dropPID("load")
	switch os.Getenv(failEnv) {
	case "load":
		fmt.Fprintln(os.Stderr, "fake load: out of memory")
		return 1
	case "refused":
		fmt.Fprintln(os.Stderr, "fake load: connection refused")
		b, _ := json.Marshal(loadgen.Result{Errors: map[string]int64{"connect": 5}, Connections: *conns, Complete: true})
		if err := os.WriteFile(*jsonPath, b, 0o644); err != nil {
			return 1
		}
		return 0
	}
	if os.Getenv(hangEnv) != "" {
		signal.Ignore(syscall.SIGTERM, os.Interrupt)
		time.Sleep(time.Minute)
		return 1
	}
	addr := (*url)[len("http://") : len(*url)-1]
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	res := loadgen.Result{Errors: map[string]int64{"connect": 0, "read": 0}, Connections: *conns,
		IdleRequested: *idle, WarmupS: warmup.Seconds(), Complete: true}
	var held []net.Conn
	for i := 0; i < *idle; i++ {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			res.Errors["connect"]++
			continue
		}
		held = append(held, c)
	}
	res.IdleOpened, res.IdleAlive = len(held), len(held)
	var requests, readErrs atomic.Int64
	measureFrom := time.Now().Add(*warmup)
	end := measureFrom.Add(*d)
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			res.Errors["connect"]++
			continue
		}
		held = append(held, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, len(fakeResponse))
			for ctx.Err() == nil && time.Now().Before(end) {
				if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					readErrs.Add(1)
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					readErrs.Add(1)
					return
				}
				if time.Now().After(measureFrom) {
					requests.Add(1)
				}
			}
		}()
	}
	if *conns == 0 || len(held) > res.IdleOpened {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(end)):
		}
	}
	wg.Wait()
	window := time.Since(measureFrom)
	if window > *d {
		window = *d
	}
	if ctx.Err() != nil {
		res.Complete, res.Message = false, "stopped early: signal"
	}
	res.Requests = requests.Load()
	res.Errors["read"] = readErrs.Load()
	res.DurationS = max(window.Seconds(), 0)
	if res.DurationS > 0 {
		res.RPS = float64(res.Requests) / res.DurationS
	}
	res.Latency = loadgen.Latency{P50: 50, P90: 90, P99: 99, P999: 999, Max: 1000, Mean: 60}
	for _, c := range held {
		c.Close()
	}
	b, _ := json.Marshal(res)
	if err := os.WriteFile(*jsonPath, b, 0o644); err != nil {
		return 1
	}
	os.WriteFile(*hgrmPath, []byte("       Value   Percentile   TotalCount 1/(1-Percentile)\n"), 0o644)
	if !res.Complete {
		return 1
	}
	return 0
}

// fakeBench runs the harness over the fakes until interrupted.
func fakeBench(out string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt := testOptions(out, tinyGrid(1, 5, 5, 5, 5, 5, 5, 5, 5))
	_, err := Run(ctx, opt)
	switch {
	case errors.Is(err, ErrInterrupted):
		return 130
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fakePIDs lists the PIDs the fakes dropped into dir.
func fakePIDs(dir string) []int {
	ents, _ := os.ReadDir(dir)
	var pids []int
	for _, e := range ents {
		if i := bytes.LastIndexByte([]byte(e.Name()), '-'); i >= 0 {
			if pid, err := strconv.Atoi(e.Name()[i+1:]); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
