package uring_test

import (
	"bytes"
	"fmt"
	"testing"

	"c10k/models/modeltest"
	"c10k/models/server"
)

// BenchmarkRequest measures keep-alive round trips through the ring from a
// raw-syscall client, one request and sixteen pipelined; allocs/op is the
// server's alone.
func BenchmarkRequest(b *testing.B) {
	addr := start(b, server.Config{})
	for _, depth := range []int{1, 16} {
		b.Run(fmt.Sprintf("pipeline=%d", depth), func(b *testing.B) {
			c := modeltest.DialRaw(b, addr)
			req := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), depth)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Send(req); err != nil {
					b.Fatal(err)
				}
				if err := c.ReadResponses(depth, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*depth), "ns/req")
		})
	}
}

func BenchmarkProxyRoundTrip(b *testing.B) {
	skipUnavailable(b)
	modeltest.BenchProxyRoundTrip(b, newServer)
}
