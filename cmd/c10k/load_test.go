package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func helloServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Hello, world!\n")
	}))
	t.Cleanup(s.Close)
	return s
}

func TestLoadHelpSaysGlobalRateAndEndsWithExamples(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"load", "-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := stderr.String()
	for _, want := range []string{"-url", "-c ", "-d ", "-rate", "-idle", "-pipeline", "-warmup", "-json", "-hgrm", "-hlog", "-procs", "global", "not per connection",
		"-method", "IPv6", "host name", "Exit status", "0  the run completed", "2  bad usage", "3  no request succeeded", "chunked", "close-delimited"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	lines := strings.Split(strings.TrimSpace(help), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "c10k load -url http://") {
		t.Fatalf("help must end with an example command line, ends with %q", last)
	}
}

func TestLoadRejectsBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"sad unknown flag", []string{"-nope"}},
		{"sad bad duration", []string{"-d", "ten"}},
		{"sad no connections", []string{"-c", "0"}},
		{"sad https", []string{"-url", "https://127.0.0.1/"}},
		{"sad stray argument", []string{"-c", "1", "http://127.0.0.1/"}},
		{"sad think in open loop", []string{"-rate", "10", "-think", "1ms"}},
		{"sad method", []string{"-method", "POST"}},
		{"sad host that does not resolve", []string{"-url", "http://no-such-host.invalid:8080/", "-d", "100ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runLoad(tt.args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if stderr.Len() == 0 {
				t.Fatal("no message on stderr")
			}
		})
	}
}

// The harness runs `c10k load ... -json FILE` and decodes FILE: the
// contract's fields must be there.
func TestLoadWritesContractJSONAndHgrm(t *testing.T) {
	s := helloServer(t)
	dir := t.TempDir()
	jsonPath, hgrmPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.hgrm")
	var stdout, stderr bytes.Buffer
	code := runLoad([]string{"-url", s.URL + "/", "-c", "2", "-d", "300ms", "-rate", "100", "-idle", "3",
		"-json", jsonPath, "-hgrm", hgrmPath, "-loops", "1"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Requests/sec:") {
		t.Fatalf("no summary on stdout:\n%s", stdout.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	for _, k := range []string{"requests", "errors", "duration_s", "rps", "latency_us", "open_loop", "idle_alive"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	lat, _ := m["latency_us"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "p999", "max", "mean"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("latency_us lacks %q", k)
		}
	}
	if m["requests"] != float64(30) || m["open_loop"] != true || m["idle_alive"] != float64(3) {
		t.Fatalf("requests %v open_loop %v idle_alive %v, want 30 true 3", m["requests"], m["open_loop"], m["idle_alive"])
	}
	h, err := os.ReadFile(hgrmPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h), "Percentile") || !strings.Contains(string(h), "Total count") {
		t.Fatalf("hgrm file:\n%s", h)
	}
}

func TestLoadJSONToStdoutKeepsStdoutPure(t *testing.T) {
	s := helloServer(t)
	var stdout, stderr bytes.Buffer
	if code := runLoad([]string{"-url", s.URL + "/", "-c", "1", "-d", "200ms", "-json", "-", "-loops", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "Requests/sec:") {
		t.Fatal("summary should move to stderr when JSON goes to stdout")
	}
}

// A server that is not there: nothing succeeded, so exit 3, a clear
// message, and the partial JSON still written.
func TestLoadAgainstNoServerExitsThreeWithPartialJSON(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	code := runLoad([]string{"-url", url, "-c", "2", "-d", "10s", "-dead-after", "200ms", "-json", jsonPath, "-loops", "1"}, &stdout, &stderr)
	if code != exitNoneSucceeded {
		t.Fatalf("exit %d, want %d", code, exitNoneSucceeded)
	}
	if !strings.Contains(stderr.String(), "incomplete") || !strings.Contains(stderr.String(), "no request succeeded") ||
		!strings.Contains(stderr.String(), "first connect error: connect: connection refused") {
		t.Fatalf("stderr %q: want a clear message", stderr.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Complete    bool              `json:"complete"`
		Errors      map[string]int64  `json:"errors"`
		FirstErrors map[string]string `json:"first_errors"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Complete || m.Errors["connect"] == 0 || !strings.Contains(m.FirstErrors["connect"], "connection refused") {
		t.Fatalf("json: complete %v errors %v first %v", m.Complete, m.Errors, m.FirstErrors)
	}
}

// Go's net/http streaming a chunked answer, flushed in pieces: counted,
// no errors, exit 0.
func TestLoadReadsStreamedChunkedAnswers(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "piece %d\n", i)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(s.Close)
	var stdout, stderr bytes.Buffer
	code := runLoad([]string{"-url", s.URL + "/", "-c", "2", "-d", "300ms", "-json", "-", "-q", "-loops", "1"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	var m struct {
		Requests    int64             `json:"requests"`
		Errors      map[string]int64  `json:"errors"`
		FirstErrors map[string]string `json:"first_errors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var errs int64
	for _, n := range m.Errors {
		errs += n
	}
	if m.Requests == 0 || errs != 0 || len(m.FirstErrors) != 0 {
		t.Fatalf("requests %d errors %v first %v: want requests and no errors", m.Requests, m.Errors, m.FirstErrors)
	}
}

// A server answering garbage: every request a parse error, exit 3, and
// the first message in the summary, on stderr and in the JSON.
func TestLoadAgainstGarbageExitsThreeAndSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err == nil {
					c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n\r\n"))
				}
				c.Read(buf) // until the client gives up on the stream
			}()
		}
	}()
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	code := runLoad([]string{"-url", "http://" + ln.Addr().String() + "/", "-c", "2", "-d", "300ms", "-json", jsonPath, "-loops", "1"}, &stdout, &stderr)
	if code != exitNoneSucceeded {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitNoneSucceeded, stderr.String())
	}
	const want = `first parse error: wire: malformed response: bad status line at "SSH-2.0`
	if !strings.Contains(stdout.String(), "F"+want[1:]) || !strings.Contains(stderr.String(), want) {
		t.Fatalf("want %q in the summary and on stderr:\n%s\n%s", want, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		FirstErrors map[string]string `json:"first_errors"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("first parse error: "+m.FirstErrors["parse"], want) {
		t.Fatalf("first_errors %v, want parse: %q", m.FirstErrors, want)
	}
}
