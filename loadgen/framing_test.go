package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"c10k/models/wire"
)

// The load generator reads every HTTP/1.1 response framing: each server
// here answers in one of them, and a run against it must count requests
// and no errors.

// framingServer answers every request with the pieces reply returns,
// written one by one with a pause between them so that they reach the
// client in separate reads, and closes the connection after the answer
// when reply says so.
type framingServer struct {
	connTracker
	reply func(req *wire.Request) (pieces []string, closeAfter bool)
}

// piecePause is long enough for a piece to leave in its own segment on
// loopback (TCP_NODELAY is Go's default), short enough for many requests.
const piecePause = 200 * time.Microsecond

func startFramingServer(t *testing.T, reply func(req *wire.Request) ([]string, bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &framingServer{connTracker: connTracker{ln: ln}, reply: reply}
	s.start(s.serve)
	t.Cleanup(s.shutdown)
	return "http://" + ln.Addr().String() + "/"
}

func (s *framingServer) serve(c net.Conn) {
	buf := make([]byte, 0, 16<<10)
	var req wire.Request
	for {
		n, err := c.Read(buf[len(buf):cap(buf)])
		if err != nil {
			return
		}
		buf = buf[:len(buf)+n]
		for {
			m, err := wire.Parse(buf, &req)
			if err != nil {
				return
			}
			if m == 0 {
				break
			}
			pieces, closeAfter := s.reply(&req)
			buf = buf[:copy(buf, buf[m:])]
			for i, p := range pieces {
				if i > 0 {
					time.Sleep(piecePause)
				}
				if _, err := c.Write([]byte(p)); err != nil {
					return
				}
			}
			if closeAfter {
				return
			}
		}
	}
}

// fixed answers every request with the same pieces.
func fixed(closeAfter bool, pieces ...string) func(*wire.Request) ([]string, bool) {
	return func(*wire.Request) ([]string, bool) { return pieces, closeAfter }
}

// runClean runs a short closed loop against url and checks that it
// counted requests, all of them answered with success and no error.
func runClean(t *testing.T, o Options) *Result {
	t.Helper()
	if o.Connections == 0 {
		o.Connections = 2
	}
	if o.Duration == 0 {
		o.Duration = 300 * time.Millisecond
	}
	o.Loops = 1
	r := run(t, o)
	if r.Requests == 0 || r.Succeeded() != r.Requests || r.TotalErrors() != 0 || !r.Complete {
		t.Fatalf("requests %d succeeded %d errors %v first %v complete %v %q: want requests and no errors",
			r.Requests, r.Succeeded(), r.Errors, r.FirstErrors, r.Complete, r.Message)
	}
	return r
}

func TestEveryFramingIsCountedWithoutErrors(t *testing.T) {
	const chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name     string
		method   string
		pipeline int
		reply    func(*wire.Request) ([]string, bool)
		bytes    int // per response, 0: not checked
	}{
		{name: "happy content-length", reply: fixed(false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), bytes: 43},
		{name: "happy content-length body in pieces", reply: fixed(false, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhel", "lo wor", "ld")},
		{name: "happy chunked, one write", pipeline: 4,
			reply: fixed(false, chunkedHead+"5\r\nhello\r\n0\r\n\r\n"), bytes: len(chunkedHead) + 15},
		{name: "happy chunked split everywhere, extensions and trailers",
			reply: fixed(false, "HTTP/1.1 200 OK\r\nTransfer-", "Encoding: chunked\r\n\r\n5;na", "me=va", "lue\r\nhel", "lo\r", "\n6\r\n world", "\r\n0\r\nX-Trai", "ler: 1\r\n", "\r\n")},
		{name: "happy close-delimited HTTP/1.0", reply: fixed(true, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello, ", "world")},
		{name: "happy close-delimited HTTP/1.1 without length", reply: fixed(true, "HTTP/1.1 200 OK\r\n\r\nhello")},
		{name: "happy connection close with length", reply: fixed(true, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello")},
		{name: "happy 100 continue and 103 early hints skipped",
			reply: fixed(false, "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")},
		{name: "happy 204 no content", pipeline: 4, reply: fixed(false, "HTTP/1.1 204 No Content\r\n\r\n")},
		{name: "happy 304 not modified", reply: fixed(false, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")},
		{name: "happy head", method: "HEAD", pipeline: 4, reply: func(req *wire.Request) ([]string, bool) {
			if !req.IsHead() {
				return []string{"not a HEAD"}, true
			}
			return []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"}, false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startFramingServer(t, tt.reply)
			r := runClean(t, Options{URL: url, Method: tt.method, Pipeline: tt.pipeline})
			if tt.bytes > 0 && r.BytesRead != r.Requests*int64(tt.bytes) {
				t.Errorf("bytes read %d for %d requests, want %d each", r.BytesRead, r.Requests, tt.bytes)
			}
		})
	}
}

// In open loop a close-delimited answer frees its connection only when
// the server closes it: the schedule must go on over the re-dialled ones.
func TestOpenLoopCloseDelimitedIsCounted(t *testing.T) {
	url := startFramingServer(t, fixed(true, "HTTP/1.0 200 OK\r\n\r\nhello"))
	r := runClean(t, Options{URL: url, Connections: 4, Rate: 200})
	if r.Scheduled == 0 || r.Requests != r.Scheduled {
		t.Fatalf("requests %d of %d scheduled", r.Requests, r.Scheduled)
	}
}

// Go's net/http streams a body it does not know the length of in chunks:
// a handler that writes in pieces and flushes between them.
func TestNetHTTPStreamingChunkedIsCounted(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for i := range 3 {
			fmt.Fprintf(w, "piece %d\n", i)
			f.Flush()
		}
	}))
	t.Cleanup(s.Close)
	// A probe first, to be sure the framing is the one under test.
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("net/http answered %v, want chunked", resp.TransferEncoding)
	}
	runClean(t, Options{URL: s.URL + "/", Connections: 4})
}

// pythonServer is Python's http.server answering HTTP/1.0 (its default)
// with a body and no Content-Length: close-delimited.
const pythonServer = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"hello from python\n")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`

func TestPythonHTTPServerCloseDelimitedIsCounted(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the close-delimited HTTP/1.0 case against Python's http.server is not run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", pythonServer)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// By its PID, which is what Process.Kill signals.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(10 * time.Second):
		t.Fatal("python http.server did not say its port within 10 s")
	}
	if p == "" {
		t.Fatal("python http.server exited before listening")
	}
	r := runClean(t, Options{URL: "http://127.0.0.1:" + p + "/", Connections: 2})
	t.Logf("%d requests from python's http.server, each on its own connection", r.Requests)
}

func TestIPv6LiteralIsLoaded(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hi\n")
	}))
	s.Listener, err = net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip(err)
	}
	s.Start()
	t.Cleanup(s.Close)
	runClean(t, Options{URL: s.URL + "/"})
}

// Sad cases: what cannot be framed is counted as parse errors, and the
// first message says what was wrong and where.
func TestUnframeableAnswersKeepTheFirstMessage(t *testing.T) {
	tests := []struct {
		name  string
		reply func(*wire.Request) ([]string, bool)
		kind  string
		want  []string // in the first message of kind
	}{
		{"sad garbage", fixed(false, "this is not http\r\n\r\n"), "parse", []string{"bad status line", `"this is not http`}},
		{"sad bad chunk size line", fixed(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"), "parse",
			[]string{"bad chunk size line", `"zz\r\nhello`}},
		{"sad chunk line without end", fixed(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;"+strings.Repeat("x", wire.MaxChunkLineBytes+1)), "parse",
			[]string{"chunk size line over"}},
		{"sad 101", fixed(false, "HTTP/1.1 101 Switching Protocols\r\n\r\n"), "parse", []string{"101"}},
		{"sad status 500", fixed(false, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"), "status", []string{"HTTP status 500"}},
		{"sad truncated body", fixed(true, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"), "read", []string{"closed the connection before answering"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startFramingServer(t, tt.reply)
			r := run(t, Options{URL: url, Connections: 2, Duration: 300 * time.Millisecond, Loops: 1})
			if r.Errors[tt.kind] == 0 {
				t.Fatalf("errors %v: want %s errors", r.Errors, tt.kind)
			}
			if r.Succeeded() != 0 {
				t.Fatalf("succeeded %d, want 0", r.Succeeded())
			}
			msg := r.FirstErrors[tt.kind]
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("first %s error %q lacks %q (all: %v)", tt.kind, msg, w, r.FirstErrors)
				}
			}
			for k := range r.FirstErrors {
				if r.Errors[k] == 0 {
					t.Errorf("first_errors has %q but no %s error was counted", k, k)
				}
			}
			var sb strings.Builder
			if err := r.WriteSummary(&sb); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sb.String(), "First "+tt.kind+" error: "+msg) {
				t.Fatalf("summary lacks the first message:\n%s", sb.String())
			}
		})
	}
}
