package wire

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxChunkLineBytes bounds a chunk-size line, extensions included: the
// reader keeps a partial line until its end arrives, and a peer must not
// be able to make that buffer grow without limit. Go's net/http allows
// 4 KiB of extensions; nobody sends more.
const MaxChunkLineBytes = 4 << 10

// maxResponseLength bounds a Content-Length or chunk size the reader will
// count down (2^60 bytes): far above any real body, and far enough from
// the int64 limit that no sum overflows.
const maxResponseLength = 1 << 60

// Errors returned by ParseResponse, ParseResponseHead and ResponseReader.
// Each wraps ErrMalformedResponse, so a caller that only needs "this
// stream cannot be framed" tests for that one; the message says which
// part was wrong, which is what a user of the load generator acts on.
var (
	// ErrMalformedResponse is the umbrella: bytes that cannot be framed as
	// a response.
	ErrMalformedResponse = errors.New("wire: malformed response")
	// ErrStatusLine: the first line is not "HTTP/1.x DDD reason".
	ErrStatusLine = fmt.Errorf("%w: bad status line", ErrMalformedResponse)
	// ErrResponseHeader: a header line without a colon.
	ErrResponseHeader = fmt.Errorf("%w: bad header line", ErrMalformedResponse)
	// ErrResponseHeadTooLarge: no blank line within MaxHeaderBytes.
	ErrResponseHeadTooLarge = fmt.Errorf("%w: head over %d bytes", ErrMalformedResponse, MaxHeaderBytes)
	// ErrContentLength: a Content-Length that is not a number, or two
	// that disagree.
	ErrContentLength = fmt.Errorf("%w: bad Content-Length", ErrMalformedResponse)
	// ErrChunkSize: a chunk-size line that does not start with hex digits
	// followed by nothing, whitespace or a ';' extension.
	ErrChunkSize = fmt.Errorf("%w: bad chunk size line", ErrMalformedResponse)
	// ErrChunkLineTooLong: a chunk-size line over MaxChunkLineBytes.
	ErrChunkLineTooLong = fmt.Errorf("%w: chunk size line over %d bytes", ErrMalformedResponse, MaxChunkLineBytes)
	// ErrChunkEnd: chunk data not followed by CRLF.
	ErrChunkEnd = fmt.Errorf("%w: no CRLF after chunk data", ErrMalformedResponse)
	// ErrTrailerTooLarge: trailer fields over MaxHeaderBytes.
	ErrTrailerTooLarge = fmt.Errorf("%w: trailers over %d bytes", ErrMalformedResponse, MaxHeaderBytes)
	// ErrSwitchingProtocols: a 101 answer, which no request of ours asks
	// for; what follows it is not HTTP/1.1.
	ErrSwitchingProtocols = fmt.Errorf("%w: unrequested 101 Switching Protocols", ErrMalformedResponse)
	// ErrNotLengthFramed: ParseResponse frames whole Content-Length
	// messages only; a chunked or close-delimited body needs a
	// ResponseReader.
	ErrNotLengthFramed = fmt.Errorf("%w: body not framed by Content-Length", ErrMalformedResponse)
)

// ResponseHead is what a client needs of a response head.
type ResponseHead struct {
	Status    int
	KeepAlive bool
	// ContentLength is the Content-Length value, -1 when there is none.
	ContentLength int
	// TransferEncoding is true when the head has a Transfer-Encoding, and
	// Chunked when its last coding is chunked (RFC 9112 section 6.3: the
	// body is then chunked whatever Content-Length says; any other final
	// coding means the body runs to the end of the connection).
	TransferEncoding bool
	Chunked          bool
}

// ParseResponseHead parses the status line and headers at the start of
// buf. It returns the head's length in bytes, 0 and nil when the head is
// not complete yet, or an error wrapping ErrMalformedResponse. It does not
// look at the body.
func ParseResponseHead(buf []byte, resp *ResponseHead) (n int, err error) {
	*resp = ResponseHead{ContentLength: -1}
	line, next, ok := nextLine(buf, 0)
	if !ok {
		return 0, incompleteResponse(buf)
	}
	// "HTTP/1.x SSS reason"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, ErrStatusLine
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
			return 0, ErrResponseHeader
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			cl, ok := parseResponseLength(value)
			if !ok || (resp.ContentLength >= 0 && cl != resp.ContentLength) {
				return 0, ErrContentLength
			}
			resp.ContentLength = cl
		case equalFold(name, "transfer-encoding"):
			// With several Transfer-Encoding lines the last one holds the
			// final coding.
			resp.TransferEncoding = true
			resp.Chunked = lastTokenIsChunked(value)
		case equalFold(name, "connection"):
			c, k := connectionTokens(value)
			if c {
				resp.KeepAlive = false
			} else if k {
				resp.KeepAlive = true
			}
		}
	}
	if next > MaxHeaderBytes {
		return 0, ErrResponseHeadTooLarge
	}
	return next, nil
}

// ParseResponse frames the whole response at the start of buf, with the
// same contract as Parse: n > 0 for a complete response, 0 and nil for
// "read more", an error for bytes that cannot be framed. It frames
// Content-Length bodies up to MaxBodyBytes and the answers without a body
// (1xx, 204, 304); a chunked or close-delimited body is
// ErrNotLengthFramed: those are read with a ResponseReader, which also
// skips interim answers and knows about HEAD.
func ParseResponse(buf []byte, resp *ResponseHead) (n int, err error) {
	n, err = ParseResponseHead(buf, resp)
	if n == 0 {
		return 0, err
	}
	switch {
	case resp.TransferEncoding:
		return 0, ErrNotLengthFramed
	case resp.ContentLength > MaxBodyBytes:
		return 0, ErrContentLength
	case resp.ContentLength < 0:
		if resp.Status != 204 && resp.Status != 304 && resp.Status >= 200 {
			return 0, ErrNotLengthFramed
		}
		resp.ContentLength = 0
	}
	total := n + resp.ContentLength
	if len(buf) < total {
		return 0, nil
	}
	return total, nil
}

func incompleteResponse(buf []byte) error {
	if len(buf) > MaxHeaderBytes {
		return ErrResponseHeadTooLarge
	}
	return nil
}

// parseResponseLength parses a Content-Length value. Unlike a request's,
// a response body is counted down rather than held, so only overflow
// bounds it.
func parseResponseLength(v []byte) (int, bool) {
	if len(v) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > maxResponseLength {
			return 0, false
		}
	}
	return n, true
}

// lastTokenIsChunked reports whether the last coding of a
// Transfer-Encoding value is "chunked".
func lastTokenIsChunked(v []byte) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return equalFold(trimOWS(v), "chunked")
}

// AppendRequest appends a GET for target on host, as the load generator sends it.
func AppendRequest(dst []byte, host, target string) []byte {
	return AppendRequestMethod(dst, "GET", host, target)
}

// AppendRequestMethod appends a request with no body for target on host.
func AppendRequestMethod(dst []byte, method, host, target string) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n\r\n"...)
}
