package thread

import (
	"bytes"
	"os"
	"strconv"
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
)

// startServer runs a thread server for the test and returns it and its address.
func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := New(modeltest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s, modeltest.Serve(t, s)
}

// threads reads the Threads: line of /proc/self/status.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(b, []byte("\nThreads:"))
	if !ok {
		t.Fatal("no Threads: line in /proc/self/status")
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var _ server.Server = (*Server)(nil)
