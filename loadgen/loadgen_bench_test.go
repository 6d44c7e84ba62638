package loadgen

import (
	"context"
	"testing"
	"time"

	"c10k/models/wire"
)

// The per-response hot path: frame a response as conn.OnData does, with
// the connection's ResponseReader, and record it. Neither may allocate.
func BenchmarkParseAndRecord(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: c10k\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n")
	r := newRecorder(0, int64(time.Hour), false)
	var rd wire.ResponseReader
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		n, done, err := rd.Read(resp, false)
		if n != len(resp) || !done || err != nil {
			b.Fatal(n, done, err)
		}
		i++
		r.response(i*1000, i*1000, i*1000+50_000+i%1000, int(rd.Bytes), rd.Head.Status)
	}
}

func BenchmarkRingPushPop(b *testing.B) {
	r := newRing[flight](16)
	b.ReportAllocs()
	for b.Loop() {
		for range 16 {
			r.push(flight{1, 2})
		}
		for range 16 {
			r.pop()
		}
	}
}

// End to end against the in-process test server, which shares the CPU:
// a smoke figure for requests per second, not the lab's measurement
// (that one pins a separate server process, see the report).
func BenchmarkClosedLoop(b *testing.B) {
	for _, pipeline := range []int{1, 16} {
		b.Run(map[int]string{1: "pipeline=1", 16: "pipeline=16"}[pipeline], func(b *testing.B) {
			s := startServer(b)
			var total int64
			var secs float64
			for b.Loop() {
				r, err := Run(context.Background(), Options{URL: s.url(), Connections: 16, Pipeline: pipeline, Duration: 500 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				total += r.Requests
				secs += r.DurationS
			}
			b.ReportMetric(float64(total)/secs, "req/s")
		})
	}
}
