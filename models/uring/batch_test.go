package uring

import (
	"testing"
	"time"
)

func TestBatcherWant(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name   string
		active int           // connections with input in the first window
		sends  int           // sends prepared before the next pass
		after  time.Duration // when the next pass enters, from the first
		want   uint32
	}{
		{"idle", 0, 0, 1100 * time.Microsecond, 1},
		{"few connections: wait for one", batchPerConn*2 - 1, 5, 1100 * time.Microsecond, 1},
		{"enough for a batch of two", batchPerConn * 2, 5, 1100 * time.Microsecond, 5 + 2},
		{"a batch per eight", batchPerConn * 10, 3, 1100 * time.Microsecond, 3 + 10},
		{"capped", 10000, 0, 1100 * time.Microsecond, batchMax},
		{"still in the first window: the window before counts", batchPerConn * 10, 0, 500 * time.Microsecond, 1},
		{"a window without passes forgets", batchPerConn * 10, 0, 2500 * time.Microsecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b batcher
			b.want(t0) // opens the first window
			conns := make([]conn, tt.active)
			for i := range conns {
				b.saw(&conns[i])
				b.saw(&conns[i]) // twice: a connection counts once a window
			}
			for range tt.sends {
				b.sent()
			}
			if got := b.want(t0.Add(tt.after)); got != tt.want {
				t.Errorf("want = %d, want %d", got, tt.want)
			}
			if b.sends != 0 {
				t.Errorf("%d sends left counted after want", b.sends)
			}
		})
	}
}
