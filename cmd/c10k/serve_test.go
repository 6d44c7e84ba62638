package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"c10k/models/wire"
)

// serveTestEnv turns the test binary into the c10k binary: the tests run
// it as a child, so exit codes, signals and stdout are the real process's.
// This stands in for a go build of the command. A TestMain would do, but it
// is one per package and this package's other command files have tests of
// their own; re-executing also needs no Go toolchain at test time.
const serveTestEnv = "C10K_SERVE_TEST_AS_MAIN"

func init() {
	if os.Getenv(serveTestEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// serveTestCommand is the c10k binary, run with args.
func serveTestCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), serveTestEnv+"=1")
	return cmd
}

func TestServeModels(t *testing.T) {
	for _, model := range []string{"thread", "goroutine", "epoll"} {
		t.Run("happy "+model, func(t *testing.T) {
			cmd := serveTestCommand("serve", "-model", model, "-addr", "127.0.0.1:0")
			var stderr serveStderr
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var waitErr error
			exited := make(chan struct{})
			go func() {
				waitErr = cmd.Wait()
				close(exited)
			}()
			t.Cleanup(func() {
				cmd.Process.Kill() // by PID, in case the test failed before SIGTERM
				<-exited
			})

			addr := readServeListening(t, out, &stderr)
			if err := serveGetOnce(addr); err != nil {
				t.Fatalf("request to %s: %v; stderr:\n%s", addr, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "model="+model) || !strings.Contains(stderr.String(), "GOMAXPROCS=") {
				t.Errorf("stderr lacks the start line with model, pid and GOMAXPROCS:\n%s", stderr.String())
			}

			start := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
				if waitErr != nil {
					t.Fatalf("exit after SIGTERM: %v, want status 0; stderr:\n%s", waitErr, stderr.String())
				}
				t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
			case <-time.After(2 * time.Second):
				t.Fatalf("still running 2 s after SIGTERM; stderr:\n%s", stderr.String())
			}
		})
	}
}

func TestServeUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		status   int
		inStderr string
	}{
		{name: "happy help", args: []string{"-h"}, status: 0, inStderr: "Examples:"},
		{name: "sad unknown model", args: []string{"-model", "nope"}, status: 2, inStderr: `unknown model "nope"`},
		{name: "sad missing model", args: nil, status: 2, inStderr: "-model is required"},
		{name: "sad bad flag", args: []string{"-model", "thread", "-bogus"}, status: 2, inStderr: "flag provided but not defined: -bogus"},
		{name: "sad bad duration", args: []string{"-model", "thread", "-wait", "soon"}, status: 2, inStderr: "invalid value"},
		{name: "sad negative body", args: []string{"-model", "thread", "-body", "-1"}, status: 2, inStderr: "must not be negative"},
		{name: "sad stray argument", args: []string{"-model", "thread", "extra"}, status: 2, inStderr: `unexpected argument "extra"`},
		{name: "sad bad address", args: []string{"-model", "goroutine", "-addr", "nowhere"}, status: 1, inStderr: "nowhere"},
		{name: "happy help shows upstream", args: []string{"-h"}, status: 0, inStderr: "-upstream-timeout"},
		{name: "sad bad upstream", args: []string{"-model", "epoll", "-upstream", "backend:80"}, status: 2, inStderr: "host must be an IPv4 address"},
		{name: "sad upstream without port", args: []string{"-model", "epoll", "-upstream", "127.0.0.1"}, status: 2, inStderr: "-upstream"},
		{name: "sad fanout zero", args: []string{"-model", "epoll", "-upstream", "127.0.0.1:9", "-fanout", "0"}, status: 2, inStderr: "-fanout 0"},
		{name: "sad fanout huge", args: []string{"-model", "epoll", "-upstream", "127.0.0.1:9", "-fanout", "1000"}, status: 2, inStderr: "-fanout 1000"},
		{name: "sad timeout zero", args: []string{"-model", "epoll", "-upstream", "127.0.0.1:9", "-upstream-timeout", "0s"}, status: 2, inStderr: "must be positive"},
		{name: "sad fanout without upstream", args: []string{"-model", "epoll", "-fanout", "4"}, status: 2, inStderr: "-fanout needs -upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := serveTestCommand(append([]string{"serve"}, tt.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.WaitDelay = 5 * time.Second
			err := runServeWithTimeout(cmd, 10*time.Second)
			status := 0
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.status {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", status, tt.status, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.inStderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.inStderr, stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout not empty: %q", stdout.String())
			}
		})
	}
}

// runServeWithTimeout runs cmd, killing it (by PID) if it outlives d.
func runServeWithTimeout(cmd *exec.Cmd, d time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	return cmd.Wait()
}

// readServeListening reads the first stdout line, which must be the listening line.
func readServeListening(t *testing.T, out io.Reader, stderr *serveStderr) string {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		} else {
			lines <- ""
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			t.Fatalf("first stdout line %q, want \"listening on HOST:PORT\"; stderr:\n%s", line, stderr.String())
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
			t.Fatalf("listening line %q: want a bound HOST:PORT", line)
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatalf("no listening line within 10 s; stderr:\n%s", stderr.String())
		return ""
	}
}

// serveGetOnce sends one request and checks for a 200 with the default body.
func serveGetOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := c.Write(wire.AppendRequest(nil, addr, "/")); err != nil {
		return err
	}
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	for {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		var h wire.ResponseHead
		k, perr := wire.ParseResponse(buf, &h)
		if perr != nil {
			return perr
		}
		if k > 0 {
			if h.Status != 200 || !bytes.HasSuffix(buf[:k], []byte(wire.DefaultBody)) {
				return &serveBadResponse{buf[:k]}
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type serveBadResponse struct{ raw []byte }

func (e *serveBadResponse) Error() string { return "unexpected response: " + string(e.raw) }

// serveStderr collects a child's stderr while the test reads it.
type serveStderr struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *serveStderr) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *serveStderr) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
