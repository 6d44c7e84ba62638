package uring

// chunkBits sizes the chunks of the connection table: 1,024 conns of
// about 100 bytes each.
const chunkBits = 10

// table holds every connection, client or upstream, in slots named by a
// 32-bit index that goes into the user data of the connection's ring
// requests. The slots live in fixed-size chunks, so a *conn stays valid
// while the table grows (a handler may accept or dial while it holds
// one), and a slot is reused only once no request in flight names it
// (conn.busy), so a completion always finds the connection it was for.
type table struct {
	chunks [][]conn
	free   []int32
	next   int32 // slots 0..next-1 have been handed out at least once
}

// alloc returns a free slot, zeroed but for its index.
func (t *table) alloc() *conn {
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		i = t.next
		t.next++
		if int(i>>chunkBits) == len(t.chunks) {
			t.chunks = append(t.chunks, make([]conn, 1<<chunkBits))
		}
	}
	c := t.at(i)
	*c = conn{id: i, fd: -1}
	return c
}

func (t *table) at(i int32) *conn {
	return &t.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

// release frees c's slot; the caller has made sure nothing names it.
func (t *table) release(c *conn) {
	id := c.id
	*c = conn{id: id, fd: -1}
	t.free = append(t.free, id)
}

// each calls f on every slot in use.
func (t *table) each(f func(c *conn)) {
	for i := int32(0); i < t.next; i++ {
		if c := t.at(i); c.flags&fInUse != 0 {
			f(c)
		}
	}
}

// bufPool keeps the byte slices connections borrow while they hold input
// or output, so that a request allocates nothing once the pool has grown
// to the number of connections busy at once; an idle connection holds
// none of them.
type bufPool struct{ free [][]byte }

const (
	// An answer is about 130 bytes: 1 KiB holds a few pipelined ones,
	// and a slice that grows past it comes back to the pool grown.
	// (4 KiB slices, left in the pool by a burst of connections, made
	// an idle connection at 10k cost 180-230 B instead of 140-190.)
	poolBufSize = 1 << 10
	// A slice grown past this by a large request or answer is left to the
	// garbage collector rather than kept for the next small one.
	poolMaxCap = 256 << 10
	// poolMaxFree bounds what a burst leaves in the pool for good.
	poolMaxFree = 1024
)

func (p *bufPool) get() []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return b
	}
	return make([]byte, 0, poolBufSize)
}

func (p *bufPool) put(b []byte) {
	if cap(b) == 0 || cap(b) > poolMaxCap || len(p.free) >= poolMaxFree {
		return
	}
	p.free = append(p.free, b[:0])
}
