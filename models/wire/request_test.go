package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long := "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n"
	tests := []struct {
		name      string
		in        string
		wantN     int // 0: incomplete
		wantErr   error
		keepAlive bool
		method    string
		length    int
	}{
		{name: "happy get 1.1", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", wantN: 27, keepAlive: true, method: "GET"},
		{name: "happy bare LF", in: "GET / HTTP/1.1\nHost: x\n\n", wantN: 24, keepAlive: true, method: "GET"},
		{name: "happy 1.0 closes", in: "GET / HTTP/1.0\r\n\r\n", wantN: 18, keepAlive: false, method: "GET"},
		{name: "happy 1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", wantN: 42, keepAlive: true, method: "GET"},
		{name: "happy connection close", in: "GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n", wantN: 46, keepAlive: false, method: "GET"},
		{name: "happy body", in: "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", wantN: 44, keepAlive: true, method: "POST", length: 5},
		{name: "happy leading empty line", in: "\r\nGET / HTTP/1.1\r\n\r\n", wantN: 20, keepAlive: true, method: "GET"},
		{name: "happy minor 9 treated as 1.1", in: "GET / HTTP/1.9\r\n\r\n", wantN: 18, keepAlive: true, method: "GET"},
		{name: "incomplete head", in: "GET / HTTP/1.1\r\nHost: x\r\n"},
		{name: "incomplete line", in: "GET / HTT"},
		{name: "incomplete body", in: "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"},
		{name: "incomplete empty", in: ""},
		{name: "sad no target", in: "GET HTTP/1.1\r\n\r\n", wantErr: ErrMalformed},
		{name: "sad garbage", in: "\x00\x01\x02\r\n\r\n", wantErr: ErrMalformed},
		{name: "sad bad version", in: "GET / HTTX/1.1\r\n\r\n", wantErr: ErrMalformed},
		{name: "sad http2", in: "GET / HTTP/2.0\r\n\r\n", wantErr: ErrVersionNotSupport},
		{name: "sad space before colon", in: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantErr: ErrMalformed},
		{name: "sad no colon", in: "GET / HTTP/1.1\r\nHost\r\n\r\n", wantErr: ErrMalformed},
		{name: "sad bad length", in: "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", wantErr: ErrMalformed},
		{name: "sad conflicting lengths", in: "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", wantErr: ErrMalformed},
		{name: "sad chunked", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: ErrTransferEncoding},
		{name: "sad header too large", in: long, wantErr: ErrHeaderTooLarge},
		{name: "sad header too large incomplete", in: long[:MaxHeaderBytes+10], wantErr: ErrHeaderTooLarge},
		{name: "sad body too large", in: "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", wantErr: ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			n, err := Parse([]byte(tt.in), &req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if n != tt.wantN {
				t.Fatalf("Parse(%q) n = %d, want %d", tt.in, n, tt.wantN)
			}
			if n == 0 {
				return
			}
			if req.KeepAlive != tt.keepAlive {
				t.Errorf("KeepAlive = %v, want %v", req.KeepAlive, tt.keepAlive)
			}
			if string(req.Method) != tt.method {
				t.Errorf("Method = %q, want %q", req.Method, tt.method)
			}
			if req.ContentLength != tt.length {
				t.Errorf("ContentLength = %d, want %d", req.ContentLength, tt.length)
			}
		})
	}
}

func TestParsePipelined(t *testing.T) {
	buf := []byte("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\nGET /d")
	var targets []string
	var req Request
	for {
		n, err := Parse(buf, &req)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		targets = append(targets, string(req.Target))
		buf = buf[n:]
	}
	if got := strings.Join(targets, ","); got != "/a,/b,/c" {
		t.Fatalf("targets = %s, want /a,/b,/c", got)
	}
	if req.KeepAlive {
		t.Fatal("last request asked for close")
	}
	if string(buf) != "GET /d" {
		t.Fatalf("remainder = %q", buf)
	}
}

func TestStatusOf(t *testing.T) {
	for err, want := range map[error]int{
		ErrMalformed: 400, ErrHeaderTooLarge: 431, ErrBodyTooLarge: 413,
		ErrTransferEncoding: 501, ErrVersionNotSupport: 505,
	} {
		if got := StatusOf(err); got != want {
			t.Errorf("StatusOf(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestResponder(t *testing.T) {
	r := NewResponder(14)
	var req Request
	for _, tt := range []struct {
		name, in, wantConn string
		wantBody           bool
	}{
		{"keep-alive 1.1", "GET / HTTP/1.1\r\n\r\n", "", true},
		{"keep-alive 1.0", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "keep-alive", true},
		{"close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "close", true},
		{"head", "HEAD / HTTP/1.1\r\n\r\n", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.in), &req); err != nil {
				t.Fatal(err)
			}
			out := r.Append(nil, &req)
			var head ResponseHead
			n, err := ParseResponse(out, &head)
			if tt.wantBody && (err != nil || n != len(out)) {
				t.Fatalf("ParseResponse = %d, %v for %q", n, err, out)
			}
			if head.Status != 200 || head.ContentLength != 14 {
				t.Fatalf("head = %+v", head)
			}
			if !bytes.Contains(out, []byte("\r\nDate: ")) || !bytes.Contains(out, []byte(" GMT\r\n")) {
				t.Errorf("no Date header in %q", out)
			}
			hasConn := bytes.Contains(out, []byte("Connection: "+tt.wantConn+"\r\n"))
			if tt.wantConn != "" && !hasConn {
				t.Errorf("want Connection: %s in %q", tt.wantConn, out)
			}
			if got := bytes.HasSuffix(out, []byte(DefaultBody)); got != tt.wantBody {
				t.Errorf("body present = %v, want %v", got, tt.wantBody)
			}
		})
	}
}

func TestAppendError(t *testing.T) {
	for _, err := range []error{ErrMalformed, ErrHeaderTooLarge, ErrTransferEncoding, ErrBodyTooLarge, ErrVersionNotSupport} {
		out := AppendError(nil, err)
		var head ResponseHead
		n, perr := ParseResponse(out, &head)
		if perr != nil || n != len(out) {
			t.Fatalf("%v: ParseResponse = %d, %v for %q", err, n, perr, out)
		}
		if head.Status != StatusOf(err) || head.KeepAlive {
			t.Errorf("%v: head = %+v, want status %d and close", err, head, StatusOf(err))
		}
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantN   int
		wantErr bool
		status  int
	}{
		{name: "happy", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", wantN: 40, status: 200},
		{name: "happy no reason", in: "HTTP/1.1 204\r\n\r\n", wantN: 16, status: 204},
		{name: "incomplete body", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nh"},
		{name: "incomplete head", in: "HTTP/1.1 200 OK\r\n"},
		{name: "sad status line", in: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: true},
		{name: "sad chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: true},
		{name: "sad no length", in: "HTTP/1.1 200 OK\r\n\r\n", wantErr: true},
		{name: "sad garbage", in: "hello\r\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var head ResponseHead
			n, err := ParseResponse([]byte(tt.in), &head)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d", n, tt.wantN)
			}
			if n > 0 && head.Status != tt.status {
				t.Errorf("status = %d, want %d", head.Status, tt.status)
			}
		})
	}
}

func TestDetachedOutlivesItsBuffer(t *testing.T) {
	for _, tc := range []struct {
		raw, method string
		minor       int
		keepAlive   bool
	}{
		{"GET /a HTTP/1.1\r\n\r\n", "GET", 1, true},
		{"HEAD /b HTTP/1.0\r\n\r\n", "HEAD", 0, false},
	} {
		buf := []byte(tc.raw)
		var req Request
		if n, err := Parse(buf, &req); n <= 0 || err != nil {
			t.Fatalf("Parse(%q) = %d, %v", tc.raw, n, err)
		}
		d := req.Detached()
		for i := range buf {
			buf[i] = 'x' // the buffer reused
		}
		if string(d.Method) != tc.method || d.Minor != tc.minor || d.KeepAlive != tc.keepAlive || d.Target != nil {
			t.Errorf("%q: detached %+v, want %s HTTP/1.%d keep-alive %v and no target", tc.raw, d, tc.method, tc.minor, tc.keepAlive)
		}
	}
	var req Request
	Parse([]byte("GET / HTTP/1.1\r\n\r\n"), &req)
	if n := testing.AllocsPerRun(100, func() { _ = req.Detached() }); n != 0 {
		t.Errorf("Detached allocates %v times", n)
	}
}
