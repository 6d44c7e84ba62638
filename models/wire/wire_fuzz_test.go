package wire

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, never claims more bytes than it
// was given, and that a request it accepts gets a response the client-side
// parser can frame.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		"\r\n\r\n",
		"GET  HTTP/1.1\n\n",
	} {
		f.Add([]byte(seed))
	}
	r := NewResponder(14)
	f.Fuzz(func(t *testing.T, in []byte) {
		var req Request
		n, err := Parse(in, &req)
		if n < 0 || n > len(in) {
			t.Fatalf("Parse claimed %d of %d bytes", n, len(in))
		}
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n = %d", err, n)
			}
			out := AppendError(nil, err)
			var head ResponseHead
			if m, perr := ParseResponse(out, &head); perr != nil || m != len(out) {
				t.Fatalf("error response unframeable: %v", perr)
			}
			return
		}
		if n > 0 {
			out := r.Append(nil, &req)
			var head ResponseHead
			if m, perr := ParseResponse(out, &head); !req.IsHead() && (perr != nil || m != len(out)) {
				t.Fatalf("response unframeable: %v", perr)
			}
		}
	})
}

// FuzzParseResponse checks both response framers against any bytes: they
// never panic nor claim bytes they were not given; the ResponseReader
// frames the same responses whether the bytes come in one read or split
// at any point (a chunk, a line or a head cut in two); and where
// ParseResponse frames a final answer, the reader agrees with it.
func FuzzParseResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		"HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nA \r\n0123456789\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\nclose-delimited body",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
	} {
		f.Add([]byte(seed), uint16(len(seed)/2), false)
		f.Add([]byte(seed), uint16(7), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16, headOnly bool) {
		var head ResponseHead
		n, err := ParseResponse(in, &head)
		if n < 0 || n > len(in) || (err != nil && n != 0) {
			t.Fatalf("ParseResponse = %d, %v for %d bytes", n, err, len(in))
		}
		whole := frame([]string{string(in)}, headOnly, true)
		cut := int(split) % (len(in) + 1)
		parts := frame([]string{string(in[:cut]), string(in[cut:])}, headOnly, true)
		if (whole.err == nil) != (parts.err == nil) || !equalInts(whole.statuses, parts.statuses) ||
			len(whole.sizes) != len(parts.sizes) {
			t.Fatalf("split at %d changes the framing: %+v vs %+v", cut, whole, parts)
		}
		for i := range whole.sizes {
			if whole.sizes[i] != parts.sizes[i] {
				t.Fatalf("split at %d changes sizes: %v vs %v", cut, whole.sizes, parts.sizes)
			}
		}
		if whole.err != nil && !errors.Is(whole.err, ErrMalformedResponse) {
			t.Fatalf("error %v does not wrap ErrMalformedResponse", whole.err)
		}
		if whole.kept > MaxHeaderBytes+MaxChunkLineBytes {
			t.Fatalf("kept %d bytes", whole.kept)
		}
		if n > 0 && head.Status >= 200 && !headOnly && head.Status != 204 && head.Status != 304 {
			if len(whole.sizes) == 0 || whole.sizes[0] != int64(n) || whole.statuses[0] != head.Status {
				t.Fatalf("ParseResponse framed %d bytes, status %d; the reader: %+v", n, head.Status, whole)
			}
		}
	})
}
