package thread

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c10k/models/modeltest"
)

// helperServerEnv makes the test binary a thread server with the named
// mechanism (TestHelperServer), in a process of its own: one without the
// testing package's timers, whose pending deadline would keep a thread in
// the network poller anyway and hide what parkPoller is for.
const helperServerEnv = "C10K_THREAD_TEST_SERVER"

func TestHelperServer(t *testing.T) {
	mech := os.Getenv(helperServerEnv)
	if mech == "" {
		t.Skip("run by TestParkedPollerSavesTheWakeUps")
	}
	t.Setenv(MechanismEnv, mech)
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(s.Addr())
	s.Serve() // until the parent kills the process
}

// TestParkedPollerKeepsAThreadInEpollWait runs the default mechanism and
// the bare hand-off each in a process of its own and looks at where its
// threads sleep once it served a connection: with the goroutine parked in
// the poller, one thread waits in epoll_wait(2), so a read that hands off
// the last running P wakes nobody to poll the network; without it, none
// does, and each such read wakes a thread that goes straight back to
// sleep (about one more context switch per request, doc.go).
func TestParkedPollerKeepsAThreadInEpollWait(t *testing.T) {
	for _, tc := range []struct {
		m    Mechanism
		want bool
	}{{ProcsHandoff, true}, {BareHandoff, false}} {
		t.Run(tc.m.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$", "-test.timeout=0")
			cmd.Env = append(os.Environ(), helperServerEnv+"="+tc.m.String())
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			addr, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("the server said no address: %v", err)
			}
			c := modeltest.Dial(t, strings.TrimSpace(addr))
			defer c.Close()
			for range 100 {
				if err := c.RoundTrip(); err != nil {
					t.Fatal(err)
				}
			}
			// Threads settle within milliseconds; look for a second.
			got := false
			for deadline := time.Now().Add(time.Second); !got && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				got = inEpollWait(t, cmd.Process.Pid)
			}
			if got != tc.want {
				t.Errorf("a thread waits in epoll_wait: %v, want %v", got, tc.want)
			}
		})
	}
}

// inEpollWait reports whether a thread of pid sleeps in epoll_wait(2),
// from the kernel function it waits in (/proc/PID/task/TID/wchan).
func inEpollWait(t *testing.T, pid int) bool {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	for _, p := range tasks {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "epoll") {
			return true
		}
	}
	return false
}
