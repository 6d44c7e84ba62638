package wire

import "testing"

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

// FuzzParseResponse checks the load generator's reader against any bytes.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
	f.Add([]byte("HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var head ResponseHead
		n, err := ParseResponse(in, &head)
		if n < 0 || n > len(in) || (err != nil && n != 0) {
			t.Fatalf("ParseResponse = %d, %v for %d bytes", n, err, len(in))
		}
	})
}
