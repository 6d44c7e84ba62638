package eventloop_test

import (
	"fmt"
	"time"

	"c10k/internal/eventloop"
	"golang.org/x/sys/unix"
)

// upper answers each chunk in upper case.
type upper struct{}

func (upper) OnData(c *eventloop.Conn, in []byte) int {
	out := make([]byte, len(in))
	for i, b := range in {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		out[i] = b
	}
	c.Write(out)
	return len(in)
}

func (upper) OnClose(c *eventloop.Conn, err error) {
	fmt.Println("closed:", err)
	c.Loop().Stop()
}

func Example() {
	l, err := eventloop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	if _, err := l.Attach(fds[0], upper{}); err != nil {
		panic(err)
	}
	peer := fds[1]
	unix.Write(peer, []byte("hello, loop\n"))
	l.AfterFunc(10*time.Millisecond, func() {
		var b [64]byte
		n, _ := unix.Read(peer, b[:])
		fmt.Printf("%s", b[:n])
		unix.Close(peer) // the loop sees EOF and closes its end
	})
	if err := l.Run(); err != nil {
		panic(err)
	}
	// Output:
	// HELLO, LOOP
	// closed: <nil>
}
