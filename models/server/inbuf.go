package server

import "c10k/models/wire"

// maxRequest is the largest request the wire accepts: a full head and body.
const maxRequest = wire.MaxHeaderBytes + wire.MaxBodyBytes

// InBuf is the read buffer of a connection served by a blocking model. It
// starts at its base size, doubles while a request larger than it is being
// framed (up to the largest request the wire accepts), and shrinks back to
// the base size once that request is answered, so a connection pays for a
// big request only while it has one.
type InBuf struct {
	buf  []byte
	n    int // buf[:n] is received and not yet answered
	base int
}

// NewInBuf returns a buffer of size bytes.
func NewInBuf(size int) InBuf {
	return InBuf{buf: make([]byte, size), base: size}
}

// Space returns the free space to read into, growing the buffer when it is
// full. It returns nil when the buffer is already as large as any request
// may be (Parse has rejected such a request before that can happen).
func (b *InBuf) Space() []byte {
	if b.n == len(b.buf) {
		if len(b.buf) >= maxRequest {
			return nil
		}
		bigger := make([]byte, min(2*len(b.buf), maxRequest))
		copy(bigger, b.buf[:b.n])
		b.buf = bigger
	}
	return b.buf[b.n:]
}

// Filled records that k bytes were read into the slice Space returned.
func (b *InBuf) Filled(k int) { b.n += k }

// Bytes returns what was received and not yet consumed.
func (b *InBuf) Bytes() []byte { return b.buf[:b.n] }

// Consume drops the first k bytes (the requests answered), keeps the rest
// at the front, and shrinks a grown buffer back once the rest fits.
func (b *InBuf) Consume(k int) {
	b.n = copy(b.buf, b.buf[k:b.n])
	if len(b.buf) > b.base && b.n <= b.base {
		small := make([]byte, b.base)
		copy(small, b.buf[:b.n])
		b.buf = small
	}
}
