package eventloop

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkEchoRoundTrip sends a message through the loop's echo protocol
// and reads it back: one read event, one OnData, one direct write.
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(byteSize(size), func(b *testing.B) {
			l := newLoop(b)
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(fds[1])
			unix.SetNonblock(fds[0], true)
			if _, err := l.Attach(fds[0], &echo{}); err != nil {
				b.Fatal(err)
			}
			running(b, l)
			msg := make([]byte, size)
			back := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := unix.Write(fds[1], msg); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < size; {
					n, err := unix.Read(fds[1], back[got:])
					if err != nil || n == 0 {
						b.Fatalf("read: %d, %v", n, err)
					}
					got += n
				}
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return itoa(n/1024) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// BenchmarkIdleConnHeap attaches idle connections and reports the Go heap
// they hold, per connection: the Conn struct plus its slot in the fd table
// (pre-sized from RLIMIT_NOFILE, so only touched slots count in RSS; the
// heap figure counts the whole table once, spread over the conns).
func BenchmarkIdleConnHeap(b *testing.B) {
	const n = 4000 // two fds each: socketpairs
	raiseNoFile(b)
	var before, after runtime.MemStats
	// Each iteration attaches and tears down n connections; the figure is
	// the last iteration's.
	for b.Loop() {
		peers := make([]int, 0, n)
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := newLoop(b)
		r := &echo{}
		for i := 0; i < n; i++ {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			peers = append(peers, fds[1])
			if _, err := l.Attach(fds[0], r); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		slotTable := float64(len(l.slots)) * 24
		perConn := float64(after.HeapAlloc-before.HeapAlloc) - slotTable - float64(len(l.rbuf))
		b.ReportMetric(perConn/n, "heap-bytes/conn")
		b.ReportMetric(24, "slot-bytes/conn")
		l.Close()
		for _, fd := range peers {
			unix.Close(fd)
		}
	}
}

func raiseNoFile(b *testing.B) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		b.Fatal(err)
	}
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		b.Fatal(err)
	}
}
