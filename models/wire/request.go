package wire

import (
	"bytes"
	"errors"
)

// MaxHeaderBytes bounds the request line plus headers. A head that has not
// ended within this many bytes is answered with 431 and a close, so a
// connection can never make a server hold more than this for a head.
const MaxHeaderBytes = 8 << 10

// MaxBodyBytes bounds a Content-Length request body. Bodies are discarded,
// but a server that frames whole requests in memory must not be talked into
// holding an arbitrary amount per connection.
const MaxBodyBytes = 1 << 20

// Errors returned by Parse. StatusOf maps each to the status a server sends
// before it closes the connection.
var (
	ErrMalformed         = errors.New("wire: malformed request")
	ErrHeaderTooLarge    = errors.New("wire: request header too large")
	ErrBodyTooLarge      = errors.New("wire: request body too large")
	ErrTransferEncoding  = errors.New("wire: transfer-encoding not implemented")
	ErrVersionNotSupport = errors.New("wire: http version not supported")
)

// Request is one parsed request. Method and Target alias the buffer given to
// Parse and are valid only until that buffer is reused.
type Request struct {
	Method        []byte
	Target        []byte
	Minor         int  // HTTP/1.Minor: 0 or 1 (higher minors are treated as 1)
	KeepAlive     bool // the connection stays open after the response
	ContentLength int
}

// IsHead reports whether the request is a HEAD, whose response carries no body.
func (r *Request) IsHead() bool {
	return string(r.Method) == "HEAD"
}

// Methods a Detached request carries: package constants, never a buffer.
var (
	methodGET  = []byte("GET")
	methodHEAD = []byte("HEAD")
)

// Detached is what answering r needs, free of the buffer r was parsed
// from: a server that answers later (a proxy waiting on its backend) keeps
// this while the buffer is reused. The method is GET or HEAD (all the
// answers tell apart), the target is dropped, and nothing is allocated.
func (r *Request) Detached() Request {
	d := Request{Method: methodGET, Minor: r.Minor, KeepAlive: r.KeepAlive}
	if r.IsHead() {
		d.Method = methodHEAD
	}
	return d
}

// Parse frames the request at the start of buf into req.
//
// It returns n > 0, the length of the complete request (head and body), when
// buf holds one; n == 0 and a nil error when buf holds only a prefix of a
// request and the caller must read more; and a non-nil error when the bytes
// can never become a valid request. Parse never panics and never allocates.
func Parse(buf []byte, req *Request) (n int, err error) {
	*req = Request{}
	pos := 0
	line, next, ok := nextLine(buf, pos)
	// Tolerate empty lines before the request line (RFC 9112 section 2.2).
	for ok && len(line) == 0 && next <= MaxHeaderBytes {
		pos = next
		line, next, ok = nextLine(buf, pos)
	}
	if !ok {
		return 0, incomplete(buf)
	}
	if err := parseRequestLine(line, req); err != nil {
		return 0, err
	}
	req.KeepAlive = req.Minor >= 1

	var sawLength, closeToken, keepAliveToken bool
	for {
		pos = next
		if pos > MaxHeaderBytes {
			return 0, ErrHeaderTooLarge
		}
		line, next, ok = nextLine(buf, pos)
		if !ok {
			return 0, incomplete(buf)
		}
		if len(line) == 0 {
			break
		}
		name, value, err := splitHeader(line)
		if err != nil {
			return 0, err
		}
		switch {
		case equalFold(name, "content-length"):
			cl, err := parseContentLength(value)
			if err != nil {
				return 0, err
			}
			if sawLength && cl != req.ContentLength {
				return 0, ErrMalformed // conflicting lengths: a smuggling vector
			}
			sawLength = true
			req.ContentLength = cl
		case equalFold(name, "transfer-encoding"):
			return 0, ErrTransferEncoding
		case equalFold(name, "connection"):
			c, k := connectionTokens(value)
			closeToken = closeToken || c
			keepAliveToken = keepAliveToken || k
		}
	}
	if next > MaxHeaderBytes {
		return 0, ErrHeaderTooLarge
	}
	switch {
	case closeToken:
		req.KeepAlive = false
	case keepAliveToken:
		req.KeepAlive = true
	}
	if req.ContentLength > MaxBodyBytes {
		return 0, ErrBodyTooLarge
	}
	total := next + req.ContentLength
	if len(buf) < total {
		return 0, nil
	}
	return total, nil
}

// incomplete decides between "read more" and 431 for a head without its end.
func incomplete(buf []byte) error {
	if len(buf) > MaxHeaderBytes {
		return ErrHeaderTooLarge
	}
	return nil
}

// nextLine returns the line starting at pos without its LF or CRLF, and the
// offset after the line terminator. A bare LF is accepted as a terminator,
// as most servers do.
func nextLine(buf []byte, pos int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(buf[pos:], '\n')
	if i < 0 {
		return nil, 0, false
	}
	line = buf[pos : pos+i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, pos + i + 1, true
}

func parseRequestLine(line []byte, req *Request) error {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return ErrMalformed
	}
	method := line[:sp1]
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return ErrMalformed
	}
	target := rest[:sp2]
	version := rest[sp2+1:]
	for _, c := range method {
		if !isTokenChar(c) {
			return ErrMalformed
		}
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return ErrMalformed
		}
	}
	// "HTTP/" DIGIT "." DIGIT
	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' ||
		!isDigit(version[5]) || !isDigit(version[7]) {
		return ErrMalformed
	}
	if version[5] != '1' {
		return ErrVersionNotSupport
	}
	req.Method = method
	req.Target = target
	req.Minor = int(version[7] - '0')
	if req.Minor > 1 {
		req.Minor = 1
	}
	return nil
}

// splitHeader splits "Name: value" and trims optional whitespace around the
// value. Whitespace before the colon is rejected, as RFC 9112 requires.
func splitHeader(line []byte) (name, value []byte, err error) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, ErrMalformed
	}
	name = line[:colon]
	for _, c := range name {
		if !isTokenChar(c) {
			return nil, nil, ErrMalformed
		}
	}
	value = trimOWS(line[colon+1:])
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return nil, nil, ErrMalformed
		}
	}
	return name, value, nil
}

func parseContentLength(v []byte) (int, error) {
	if len(v) == 0 {
		return 0, ErrMalformed
	}
	n := 0
	for _, c := range v {
		if !isDigit(c) {
			return 0, ErrMalformed
		}
		n = n*10 + int(c-'0')
		if n > MaxBodyBytes {
			return 0, ErrBodyTooLarge
		}
	}
	return n, nil
}

// connectionTokens scans a comma-separated Connection header value.
func connectionTokens(v []byte) (closeToken, keepAlive bool) {
	for len(v) > 0 {
		var tok []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, nil
		}
		tok = trimOWS(tok)
		switch {
		case equalFold(tok, "close"):
			closeToken = true
		case equalFold(tok, "keep-alive"):
			keepAlive = true
		}
	}
	return closeToken, keepAlive
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares b with a lower-case ASCII string, ignoring case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	if c >= 0x80 || c <= ' ' || c == 0x7f {
		return false
	}
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return false
	}
	return true
}
