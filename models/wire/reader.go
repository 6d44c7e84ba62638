package wire

import "bytes"

// readState is where a ResponseReader is within a response.
type readState uint8

const (
	readHead      readState = iota // status line and headers (and 1xx heads before them)
	readLength                     // a Content-Length body: left bytes to come
	readChunkSize                  // a chunk-size line, extensions included
	readChunkData                  // chunk data: left bytes to come
	readChunkEnd                   // the CRLF after chunk data
	readTrailer                    // trailer lines, until a blank one
	readToEOF                      // a close-delimited body: everything until the peer closes
)

// ResponseReader frames the responses of one connection from bytes that
// arrive in pieces, in every HTTP/1.1 framing: Content-Length, chunked
// (extensions and trailers included), close-delimited, and the answers
// without a body (HEAD, 1xx, 204, 304). Interim 1xx answers are skipped.
//
// Bodies are counted, never held: only a head, a chunk-size line or a
// trailer line that is split across reads must be kept by the caller
// until the rest arrives, and each of those is bounded (MaxHeaderBytes,
// MaxChunkLineBytes), so a peer cannot make the caller buffer without
// limit. A whole Content-Length response in one read is framed by one
// head parse and one comparison, as ParseResponse frames it.
//
// The zero value is ready; a reader belongs to one connection and is
// Reset when the connection is replaced.
type ResponseReader struct {
	// Head is the head of the last completed response (or of the one
	// being read).
	Head ResponseHead
	// Bytes is the size of the last completed response, head, interim
	// answers and body framing included.
	Bytes int64

	state   readState
	n       int64 // bytes of the current response so far
	left    int64 // readLength, readChunkData: bytes still to come
	trailer int   // readTrailer: trailer bytes so far
}

// Read consumes bytes of at most one response from the start of in;
// headOnly says the request it answers was a HEAD. It returns how many
// bytes it consumed and whether they completed a response, which Head
// and Bytes then describe; the next call starts on the next response.
//
// When done is false and n < len(in), in[n:] is the start of a head or
// of a chunk line: keep it, and call Read again with it and the bytes
// that follow. When done is false and n == len(in), everything was
// consumed. An error wraps ErrMalformedResponse: the stream cannot be
// framed past it.
func (r *ResponseReader) Read(in []byte, headOnly bool) (n int, done bool, err error) {
	pos := 0
	for {
		switch r.state {
		case readHead:
			m, err := ParseResponseHead(in[pos:], &r.Head)
			if m == 0 {
				return pos, false, err
			}
			pos += m
			r.n += int64(m)
			h := &r.Head
			switch {
			case h.Status == 101:
				return pos, false, ErrSwitchingProtocols
			case h.Status < 200:
				continue // interim (100 Continue, 103 Early Hints): the answer follows
			case headOnly || h.Status == 204 || h.Status == 304:
				return pos, r.finish(), nil
			case h.Chunked:
				r.state = readChunkSize
			case h.TransferEncoding || h.ContentLength < 0:
				// No length: the body ends when the server closes
				// (RFC 9112 section 6.3, rules 4 and 8).
				h.KeepAlive = false
				r.state = readToEOF
			case int64(len(in)-pos) >= int64(h.ContentLength):
				// The common case, the whole body in this read.
				pos += h.ContentLength
				r.n += int64(h.ContentLength)
				return pos, r.finish(), nil
			default:
				r.left = int64(h.ContentLength)
				r.state = readLength
			}
		case readLength, readChunkData:
			k := min(int64(len(in)-pos), r.left)
			pos += int(k)
			r.n += k
			r.left -= k
			if r.left > 0 {
				return pos, false, nil
			}
			if r.state == readLength {
				return pos, r.finish(), nil
			}
			r.state = readChunkEnd
		case readChunkSize:
			line, next, ok := nextLine(in, pos)
			if !ok {
				if len(in)-pos > MaxChunkLineBytes {
					return pos, false, ErrChunkLineTooLong
				}
				return pos, false, nil
			}
			if next-pos > MaxChunkLineBytes {
				return pos, false, ErrChunkLineTooLong
			}
			size, ok := parseChunkSize(line)
			if !ok {
				return pos, false, ErrChunkSize
			}
			r.n += int64(next - pos)
			pos = next
			if size == 0 {
				r.state, r.trailer = readTrailer, 0
			} else {
				r.state, r.left = readChunkData, size
			}
		case readChunkEnd:
			// "\r\n", or a bare "\n" as nextLine accepts elsewhere.
			line, next, ok := nextLine(in, pos)
			switch {
			case ok && len(line) == 0:
			case ok || len(in)-pos >= 2:
				return pos, false, ErrChunkEnd
			default:
				return pos, false, nil
			}
			r.n += int64(next - pos)
			pos = next
			r.state = readChunkSize
		case readTrailer:
			line, next, ok := nextLine(in, pos)
			if !ok {
				if r.trailer+len(in)-pos > MaxHeaderBytes {
					return pos, false, ErrTrailerTooLarge
				}
				return pos, false, nil
			}
			r.trailer += next - pos
			if r.trailer > MaxHeaderBytes {
				return pos, false, ErrTrailerTooLarge
			}
			r.n += int64(next - pos)
			pos = next
			if len(line) == 0 {
				return pos, r.finish(), nil
			}
		case readToEOF:
			r.n += int64(len(in) - pos)
			return len(in), false, nil
		}
	}
}

// finish ends the current response: Bytes says how large it was, and the
// reader waits for the next head.
func (r *ResponseReader) finish() bool {
	r.Bytes, r.n = r.n, 0
	r.state = readHead
	return true
}

// EOF tells the reader the connection ended. It reports whether that
// completed a response: a close-delimited body ends there, and Head and
// Bytes then describe it. Any other response begun and unfinished is
// truncated (Started says whether one was). The reader is then reset for
// a new connection.
func (r *ResponseReader) EOF() (done bool) {
	done = r.state == readToEOF
	if done {
		r.finish()
	}
	r.Reset()
	return done
}

// Started reports whether bytes of a response have been consumed and the
// response is not complete: what a close now would truncate. Bytes the
// caller keeps for a partial head are not counted.
func (r *ResponseReader) Started() bool { return r.n > 0 || r.state != readHead }

// Reset readies the reader for a new connection; Head and Bytes keep the
// last completed response.
func (r *ResponseReader) Reset() {
	r.state, r.n, r.left, r.trailer = readHead, 0, 0, 0
}

// parseChunkSize parses "hex[ws][;ext]": the size, and false when the
// line is not one. RFC 9112 section 7.1.1 allows whitespace before the
// extensions, which some servers send.
func parseChunkSize(line []byte) (int64, bool) {
	var size int64
	i := 0
	for ; i < len(line); i++ {
		d, ok := hexDigit(line[i])
		if !ok {
			break
		}
		if size > maxResponseLength>>4 {
			return 0, false
		}
		size = size<<4 | int64(d)
	}
	if i == 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(line[i:], " \t")
	if len(rest) > 0 && rest[0] != ';' {
		return 0, false
	}
	return size, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
