package wire

import (
	"errors"
	"strings"
	"testing"
)

// framed is what a stream of bytes framed into: each completed response's
// status and size, whether the stream ended inside one, and the error.
type framed struct {
	statuses []int
	sizes    []int64
	err      error
	kept     int // bytes kept for a partial head or chunk line at the end
}

// frame feeds pieces to a ResponseReader as an event loop would: what
// Read did not consume is kept and handed back with the next piece. At
// the end of the pieces, eof says whether the peer closed.
func frame(pieces []string, headOnly, eof bool) framed {
	var r ResponseReader
	var f framed
	var kept []byte
	for _, p := range pieces {
		in := append(kept, p...)
		pos := 0
		for pos < len(in) {
			n, done, err := r.Read(in[pos:], headOnly)
			if n < 0 || n > len(in)-pos {
				panic("Read claimed bytes it was not given")
			}
			pos += n
			if err != nil {
				f.err = err
				return f
			}
			if !done {
				break
			}
			f.statuses = append(f.statuses, r.Head.Status)
			f.sizes = append(f.sizes, r.Bytes)
		}
		kept = append([]byte(nil), in[pos:]...)
	}
	f.kept = len(kept)
	if eof && len(kept) == 0 && r.EOF() {
		f.statuses = append(f.statuses, r.Head.Status)
		f.sizes = append(f.sizes, r.Bytes)
	}
	return f
}

// bytewise splits s into one-byte pieces: every split point at once.
func bytewise(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

const (
	lengthResp  = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	chunkedResp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;name=value\r\nhello\r\n7 ; x\r\n, world\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n"
	closeResp = "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\nContent-Type: text/plain\r\n\r\nhello, world"
)

func TestResponseReader(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		headOnly bool
		eof      bool
		statuses []int
		wantErr  error
	}{
		{name: "happy content-length", in: lengthResp, statuses: []int{200}},
		{name: "happy content-length pipelined", in: lengthResp + lengthResp + lengthResp, statuses: []int{200, 200, 200}},
		{name: "happy chunked with extensions and trailers", in: chunkedResp, statuses: []int{200}},
		{name: "happy chunked pipelined", in: chunkedResp + lengthResp + chunkedResp, statuses: []int{200, 200, 200}},
		{name: "happy chunked upper-case hex", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", statuses: []int{200}},
		{name: "happy chunked beats content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", statuses: []int{200}},
		{name: "happy chunked bare LF", in: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n1\nx\n0\n\n", statuses: []int{200}},
		{name: "happy close-delimited at EOF", in: closeResp, eof: true, statuses: []int{200}},
		{name: "happy close-delimited 1.1 without length", in: "HTTP/1.1 200 OK\r\n\r\nabc", eof: true, statuses: []int{200}},
		{name: "happy close-delimited non-chunked coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", eof: true, statuses: []int{200}},
		{name: "happy close-delimited empty body", in: "HTTP/1.0 200 OK\r\n\r\n", eof: true, statuses: []int{200}},
		{name: "happy 100 continue skipped", in: "HTTP/1.1 100 Continue\r\n\r\n" + lengthResp, statuses: []int{200}},
		{name: "happy 103 early hints skipped", in: "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + chunkedResp, statuses: []int{200}},
		{name: "happy head has no body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + lengthResp, headOnly: true, statuses: []int{200, 200}},
		{name: "happy head chunked has no body", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", headOnly: true, statuses: []int{200}},
		{name: "happy 204 no body", in: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" + lengthResp, statuses: []int{204, 200}},
		{name: "happy 304 no body", in: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n" + lengthResp, statuses: []int{304, 200}},
		{name: "happy 404 counted as a response", in: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", statuses: []int{404}},
		{name: "happy partial head kept", in: "HTTP/1.1 200 OK\r\nContent-Le"},
		{name: "sad status line", in: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: ErrStatusLine},
		{name: "sad garbage", in: "this is not http\r\n\r\n", wantErr: ErrStatusLine},
		{name: "sad header line", in: "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", wantErr: ErrResponseHeader},
		{name: "sad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", wantErr: ErrContentLength},
		{name: "sad content-lengths disagree", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", wantErr: ErrContentLength},
		{name: "sad chunk size not hex", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErr: ErrChunkSize},
		{name: "sad chunk size empty", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", wantErr: ErrChunkSize},
		{name: "sad chunk size overflow", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", wantErr: ErrChunkSize},
		{name: "sad chunk size junk after", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n", wantErr: ErrChunkSize},
		{name: "sad chunk line too long", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + strings.Repeat("e", MaxChunkLineBytes), wantErr: ErrChunkLineTooLong},
		{name: "sad no CRLF after chunk data", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n", wantErr: ErrChunkEnd},
		{name: "sad trailers too large", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + strings.Repeat("t", MaxHeaderBytes), wantErr: ErrTrailerTooLarge},
		{name: "sad head too large", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("h", MaxHeaderBytes), wantErr: ErrResponseHeadTooLarge},
		{name: "sad 101 switching protocols", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", wantErr: ErrSwitchingProtocols},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One read, then every split point at once: the outcome must not
			// depend on how the bytes arrived.
			for _, pieces := range [][]string{{tt.in}, bytewise(tt.in)} {
				f := frame(pieces, tt.headOnly, tt.eof)
				if !errors.Is(f.err, tt.wantErr) || (tt.wantErr == nil) != (f.err == nil) {
					t.Fatalf("%d pieces: err = %v, want %v", len(pieces), f.err, tt.wantErr)
				}
				if f.err != nil && !errors.Is(f.err, ErrMalformedResponse) {
					t.Fatalf("%v does not wrap ErrMalformedResponse", f.err)
				}
				if !equalInts(f.statuses, tt.statuses) {
					t.Fatalf("%d pieces: statuses %v, want %v", len(pieces), f.statuses, tt.statuses)
				}
				if tt.wantErr == nil && len(tt.statuses) > 0 && !tt.headOnly {
					var sum int64
					for _, s := range f.sizes {
						sum += s
					}
					if sum != int64(len(tt.in)) {
						t.Fatalf("%d pieces: sizes %v sum to %d, want %d", len(pieces), f.sizes, sum, len(tt.in))
					}
				}
			}
		})
	}
}

// Whatever the framing, the reader never keeps more than a line: bodies
// and chunk data are consumed as they arrive.
func TestResponseReaderKeepsOnlyALine(t *testing.T) {
	body := strings.Repeat("b", 100_000)
	for _, tt := range []struct {
		name, in string
		eof      bool
	}{
		{"happy big content-length", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + body, false},
		{"happy big chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n186a0\r\n" + body + "\r\n0\r\n\r\n", false},
		{"happy big close-delimited", "HTTP/1.0 200 OK\r\n\r\n" + body, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r ResponseReader
			var kept []byte
			maxKept, done := 0, false
			for i := 0; i < len(tt.in); i += 1000 {
				in := append(kept, tt.in[i:min(i+1000, len(tt.in))]...)
				n, d, err := r.Read(in, false)
				if err != nil {
					t.Fatal(err)
				}
				done = done || d
				kept = append([]byte(nil), in[n:]...)
				maxKept = max(maxKept, len(kept))
			}
			if tt.eof {
				done = r.EOF()
			}
			if !done || r.Bytes != int64(len(tt.in)) {
				t.Fatalf("done %v bytes %d, want true %d", done, r.Bytes, len(tt.in))
			}
			if maxKept > 1000 {
				t.Fatalf("kept up to %d bytes", maxKept)
			}
		})
	}
}

func TestResponseReaderEOF(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantDone  bool
		wantBegun bool
	}{
		{"happy close-delimited ends at EOF", closeResp, true, true},
		{"sad content-length truncated", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, true},
		{"sad chunked truncated", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false, true},
		{"sad after 100 continue", "HTTP/1.1 100 Continue\r\n\r\n", false, true},
		{"happy between responses", lengthResp, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r ResponseReader
			in := []byte(tt.in)
			for len(in) > 0 {
				n, done, err := r.Read(in, false)
				if err != nil {
					t.Fatal(err)
				}
				in = in[n:]
				if !done {
					break
				}
			}
			if begun := r.Started(); begun != tt.wantBegun {
				t.Fatalf("Started = %v, want %v", begun, tt.wantBegun)
			}
			if done := r.EOF(); done != tt.wantDone {
				t.Fatalf("EOF = %v, want %v", done, tt.wantDone)
			}
			if r.Started() {
				t.Fatal("EOF must reset the reader")
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
