package uring

import "time"

// Batching the wait.
//
// A loop pass submits the answers of the last pass and waits for what
// comes next, in one io_uring_enter. Waiting for the first completion, as
// an event loop waits for the first ready socket, is right while few
// clients are active: each waits for us, and a pass that waited for more
// would only delay the answers the others need before they can ask
// again. With many active clients requests keep coming, and a pass that
// waits a little longer collects several: fewer system calls, each
// worth more. At c10k load -c100 a pass took 3 to 4 requests; asking for
// a batch it takes 9 to 10, and the system calls per request fall from
// about 0.33 to 0.12, for no more latency (doc.go has the figures).
//
// So the batcher counts the connections that sent something in the last
// millisecond. From batchPerConn of them on, a pass asks the kernel for
// one completion per batchPerConn active connections, on top of the
// completions of the sends it submits (which come at once), and accepts
// fewer after batchMinWait: a pass waits at most that long for a batch.
// Below that a pass waits for one completion, as before.
const (
	batchWindow  = time.Millisecond
	batchMinWait = 50 * time.Microsecond
	batchPerConn = 8
	batchMax     = 64
)

// batcher decides how many completions the next pass waits for.
type batcher struct {
	sends  uint32    // sends prepared since the last Enter
	window uint16    // the current window; conn.seen is the last one a conn had input in (it wraps after 65 s: a miscount of one, once)
	active uint32    // connections with input in the current window
	last   uint32    // connections with input in the window before
	end    time.Time // when the current window ends
}

// sent counts a send prepared for the next Enter.
func (b *batcher) sent() { b.sends++ }

// saw counts input on c.
func (b *batcher) saw(c *conn) {
	if c.seen != b.window {
		c.seen = b.window
		b.active++
	}
}

// want returns how many completions the pass entering at now should
// wait for, and forgets the sends: they are being submitted.
func (b *batcher) want(now time.Time) uint32 {
	if now.After(b.end) {
		b.last = b.active
		if now.Sub(b.end) > batchWindow {
			b.last = 0 // a whole window went by without a pass
		}
		b.active = 0
		b.window++
		b.end = now.Add(batchWindow)
	}
	sends := b.sends
	b.sends = 0
	n := min(b.last/batchPerConn, batchMax)
	if n < 2 {
		return 1
	}
	return sends + n
}
