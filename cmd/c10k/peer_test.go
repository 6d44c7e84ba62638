package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"c10k/harness/registry"
)

func TestPeerUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"sad no name", []string{"-port", "1", "-dir", "x"}, "want one of"},
		{"sad a model is not a peer", []string{"-name", "epoll", "-port", "1", "-dir", "x"}, "want one of"},
		{"sad no port", []string{"-name", "nginx", "-dir", "x"}, "-port 0"},
		{"sad no dir", []string{"-name", "nginx", "-port", "1"}, "-dir is required"},
		{"sad fanout without upstream", []string{"-name", "nginx", "-port", "1", "-dir", "x", "-fanout", "4"}, "-fanout 4"},
		{"sad procs zero", []string{"-name", "nginx", "-port", "1", "-dir", "x", "-procs", "0"}, "-procs 0: want 1 to"},
		{"sad apache as several", []string{"-name", "apache-event", "-port", "1", "-dir", "x", "-procs", "2"}, "apache-event runs as one process; want one of nginx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := runPeer(tt.args, &stdout, &stderr); got != 2 || !strings.Contains(stderr.String(), tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", got, stderr.String(), tt.inStderr)
			}
		})
	}
}

// TestPeerRunsNginxAsTheHarnessDoes: c10k peer becomes nginx, serving
// the 14-byte answer from the harness's template.
func TestPeerRunsNginxAsTheHarnessDoes(t *testing.T) {
	nginx, _ := registry.Lookup(registry.Nginx)
	if _, err := os.Stat(nginx.Peer.Binary); err != nil {
		t.Skipf("nginx is not installed (%v): make peers installs it", err)
	}
	port := freePort(t)
	dir := filepath.Join(t.TempDir(), "nginx")
	cmd := exec.Command(os.Args[0], "peer", "-name", "nginx", "-port", port, "-dir", dir, "-scripts", "../../scripts")
	cmd.Env = append(os.Environ(), benchTestEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	body, err := getWithin("http://127.0.0.1:"+port+"/", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if body != "Hello, world!\n" {
		t.Errorf("body %q", body)
	}
	if b, err := os.ReadFile("/proc/" + itoa(cmd.Process.Pid) + "/comm"); err != nil || strings.TrimSpace(string(b)) != "nginx" {
		t.Errorf("pid %d is %q, not nginx: c10k peer must exec it (%v)", cmd.Process.Pid, b, err)
	}
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// getWithin GETs url until it answers or d has passed.
func getWithin(url string, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b), rerr
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
