package wire

import "testing"

// BenchmarkParseRespond is the per-request hot path of every model: frame a
// request, append the response. It must report 0 allocs/op.
func BenchmarkParseRespond(b *testing.B) {
	for _, bc := range []struct{ name, req string }{
		{"wrk", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
		{"browser", "GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
			"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n" +
			"Connection: keep-alive\r\n\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.req)
			r := NewResponder(14)
			out := make([]byte, 0, 512)
			var req Request
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Parse(in, &req); err != nil {
					b.Fatal(err)
				}
				out = r.Append(out[:0], &req)
			}
		})
	}
}

// BenchmarkParseResponse frames a whole Content-Length answer, as the
// models' proxies do.
func BenchmarkParseResponse(b *testing.B) {
	var req Request
	Parse([]byte("GET / HTTP/1.1\r\n\r\n"), &req)
	in := NewResponder(14).Append(nil, &req)
	var head ResponseHead
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(in, &head); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponseReader is the load generator's framing: the
// Content-Length case must cost what ParseResponse costs, and no framing
// may allocate.
func BenchmarkResponseReader(b *testing.B) {
	var req Request
	Parse([]byte("GET / HTTP/1.1\r\n\r\n"), &req)
	for _, bc := range []struct{ name, resp string }{
		{"content-length", string(NewResponder(14).Append(nil, &req))},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;x=y\r\nHello, \r\n7\r\nworld!\n\r\n0\r\nT: 1\r\n\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.resp)
			var r ResponseReader
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if n, done, err := r.Read(in, false); n != len(in) || !done || err != nil {
					b.Fatal(n, done, err)
				}
			}
		})
	}
}
