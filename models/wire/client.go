package wire

import (
	"bytes"
	"errors"
)

// ErrMalformedResponse is returned by ParseResponse for bytes that are not
// a response the load generator can frame: a bad status line, a bad or
// missing Content-Length, a transfer coding other than chunked, or a bad
// chunk.
var ErrMalformedResponse = errors.New("wire: malformed response")

// ResponseHead is what the load generator needs of a response.
type ResponseHead struct {
	Status    int
	KeepAlive bool
	// ContentLength is the body's length; -1 for a chunked body, whose
	// bytes on the wire are not the body alone.
	ContentLength int
	// Chunked: the body came in chunks (Transfer-Encoding: chunked), as
	// nginx sends an answer whose length it does not know in advance (its
	// gather, made of subrequests).
	Chunked bool
}

// ParseResponse frames the response at the start of buf, with the same
// contract as Parse: n > 0 for a complete response, 0 and nil for "read
// more", an error for bytes that cannot be framed.
func ParseResponse(buf []byte, resp *ResponseHead) (n int, err error) {
	*resp = ResponseHead{ContentLength: -1}
	line, next, ok := nextLine(buf, 0)
	if !ok {
		return 0, incompleteResponse(buf)
	}
	// "HTTP/1.x SSS reason"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, ErrMalformedResponse
	}
	resp.Status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	resp.KeepAlive = line[7] != '0'
	for {
		pos := next
		line, next, ok = nextLine(buf, pos)
		if !ok {
			return 0, incompleteResponse(buf)
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, ErrMalformedResponse
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			cl, err := parseContentLength(value)
			if err != nil {
				return 0, ErrMalformedResponse
			}
			resp.ContentLength = cl
		case equalFold(name, "transfer-encoding"):
			if !equalFold(value, "chunked") {
				return 0, ErrMalformedResponse
			}
			resp.Chunked = true
		case equalFold(name, "connection"):
			c, k := connectionTokens(value)
			if c {
				resp.KeepAlive = false
			} else if k {
				resp.KeepAlive = true
			}
		}
	}
	if resp.Chunked {
		// Transfer-Encoding overrides Content-Length (RFC 9112 6.3).
		resp.ContentLength = -1
		return chunkedEnd(buf, next)
	}
	if resp.ContentLength < 0 {
		if resp.Status == 204 || resp.Status == 304 || resp.Status < 200 {
			resp.ContentLength = 0
		} else {
			return 0, ErrMalformedResponse
		}
	}
	total := next + resp.ContentLength
	if len(buf) < total {
		return 0, nil
	}
	return total, nil
}

// maxChunkLine bounds a chunk-size line (size, extensions) and a trailer
// line, so that bytes without a line end cannot grow a buffer for ever.
const maxChunkLine = 1024

// chunkedEnd returns the end of the chunked body starting at pos: the
// offset after its last chunk and trailer section, 0 and nil when more is
// needed, or ErrMalformedResponse. Chunk payloads are skipped, not
// copied, and add up to at most MaxBodyBytes.
func chunkedEnd(buf []byte, pos int) (int, error) {
	body := 0
	for {
		line, next, ok := nextLine(buf, pos)
		if !ok {
			return 0, lineTooLong(buf, pos)
		}
		size, err := parseChunkSize(line)
		if err != nil {
			return 0, err
		}
		pos = next
		if size == 0 {
			break
		}
		if body += size; body > MaxBodyBytes {
			return 0, ErrMalformedResponse
		}
		// The payload, then its CRLF.
		if len(buf) < pos+size+2 {
			return 0, nil
		}
		if buf[pos+size] != '\r' || buf[pos+size+1] != '\n' {
			return 0, ErrMalformedResponse
		}
		pos += size + 2
	}
	// Trailer fields, if any, up to an empty line.
	for {
		line, next, ok := nextLine(buf, pos)
		if !ok {
			return 0, lineTooLong(buf, pos)
		}
		pos = next
		if len(line) == 0 {
			return pos, nil
		}
	}
}

// parseChunkSize reads the hex size at the start of a chunk-size line,
// ignoring chunk extensions (";name=value").
func parseChunkSize(line []byte) (int, error) {
	n, digits := 0, 0
	for _, c := range line {
		var d int
		switch {
		case isDigit(c):
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		case c == ';' || c == ' ' || c == '\t':
			if digits == 0 {
				return 0, ErrMalformedResponse
			}
			return n, nil
		default:
			return 0, ErrMalformedResponse
		}
		if digits++; digits > 8 {
			return 0, ErrMalformedResponse
		}
		n = n<<4 | d
	}
	if digits == 0 {
		return 0, ErrMalformedResponse
	}
	return n, nil
}

// lineTooLong: a line still without its end is malformed once it is
// longer than any chunk-size or trailer line may be; else read more.
func lineTooLong(buf []byte, pos int) error {
	if len(buf)-pos > maxChunkLine {
		return ErrMalformedResponse
	}
	return nil
}

func incompleteResponse(buf []byte) error {
	if len(buf) > MaxHeaderBytes {
		return ErrMalformedResponse
	}
	return nil
}

// AppendRequest appends a GET for target on host, as the load generator sends it.
func AppendRequest(dst []byte, host, target string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n\r\n"...)
}
